using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RoomActors.Hosting;
using RoomActors.Tests.Infrastructure;

namespace RoomActors.Tests.Operations;

/// <summary>An all-in-one host with an operator key, and an HTTP client that sends it.</summary>
public sealed class OperatorFixture : IAsyncLifetime
{
    public const string Key = "operator-test-key-0123456789-abcdefghijklmnopq";

    public AllInOneServer Server { get; private set; } = null!;

    /// <summary>Sends <c>Authorization: Bearer KEY</c>.</summary>
    public HttpClient Operator { get; private set; } = null!;

    /// <summary>Sends nothing.</summary>
    public HttpClient Anonymous { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await AllInOneServer.StartAsync($"--RoomActors:Operator:Key={Key}");
        Operator = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = Server.Http };
        Operator.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        Anonymous = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = Server.Http };
    }

    public async Task DisposeAsync()
    {
        Operator.Dispose();
        Anonymous.Dispose();
        await Server.DisposeAsync();
    }
}

/// <summary>
/// The operator endpoints over real HTTP on an all-in-one host: the credential, the Orleans Dashboard behind it, and the
/// room inspector (list, one room, forced hibernation, closing a connection, the page).
/// </summary>
public sealed class OperatorTests(OperatorFixture fixture) : IClassFixture<OperatorFixture>
{
    private const string Type = "op-watch";
    private const string Challenge = "Basic realm=\"RoomActors operator\"";

    private AllInOneServer Server => fixture.Server;

    [Fact]
    public async Task Without_a_key_the_operator_endpoints_answer_403_saying_which_setting_turns_them_on_and_the_dashboard_can_be_left_out()
    {
        await using var server = await AllInOneServer.StartAsync("--RoomActors:Operator:Dashboard=false");

        // With the dashboard off, none of it is there: not its routes, not its grains.
        var patterns = ((IEndpointRouteBuilder)server.App).DataSources.SelectMany(d => d.Endpoints).OfType<RouteEndpoint>().Select(e => e.RoutePattern.RawText).ToList();
        Assert.Contains("/operator/dashboard/{**path}", patterns);
        Assert.DoesNotContain("/operator/dashboard/Trace", patterns);
        Assert.DoesNotContain(server.App.Services.GetRequiredService<IOptions<Orleans.Configuration.GrainTypeOptions>>().Value.Classes,
            c => c.Assembly == typeof(Orleans.Dashboard.DashboardOptions).Assembly);

        using var http = new HttpClient { BaseAddress = server.Http };
        foreach (var path in new[] { "/operator", "/operator/rooms", "/operator/dashboard/" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", OperatorFixture.Key); // any key: none is set
            using var response = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Contains("RoomActors:Operator:Key", await response.Content.ReadAsStringAsync());
            Assert.Contains("RoomActors__Operator__Key", await response.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task A_missing_or_wrong_credential_gets_401_with_a_Basic_challenge_and_the_key_gets_200()
    {
        AuthenticationHeaderValue?[] refused =
        [
            null,
            new("Bearer", OperatorFixture.Key + "x"),
            new("Bearer", OperatorFixture.Key[..^1]),
            new("Basic", Basic("operator", "not-the-key")),
            new("Basic", Basic("admin", OperatorFixture.Key)),    // the key, but another user
            new("Basic", "%%% not base64"),
            new("Token", OperatorFixture.Key),
        ];
        foreach (var credential in refused)
        {
            using var response = await SendAsync(HttpMethod.Get, "/operator/rooms", credential);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal(Challenge, response.Headers.WwwAuthenticate.ToString());
            Assert.DoesNotContain(OperatorFixture.Key, await response.Content.ReadAsStringAsync());
        }

        AuthenticationHeaderValue[] accepted = [new("Bearer", OperatorFixture.Key), new("Basic", Basic("operator", OperatorFixture.Key))];
        foreach (var credential in accepted)
        {
            using var response = await SendAsync(HttpMethod.Get, "/operator/rooms", credential);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        }
    }

    [Fact]
    public async Task Every_operator_endpoint_refuses_a_request_without_the_key()
    {
        var endpoints = ((IEndpointRouteBuilder)Server.App).DataSources.SelectMany(s => s.Endpoints).OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith(RoomActorsOperatorExtensions.Path, StringComparison.Ordinal) == true)
            .ToList();
        Assert.Contains(endpoints, e => e.RoutePattern.RawText == "/operator/dashboard/Trace"); // the dashboard's routes are among them
        Assert.Contains(endpoints, e => e.RoutePattern.RawText == "/operator/rooms/{type}/{name}/connections/{id}/close");
        Assert.True(endpoints.Count >= 20, $"only {endpoints.Count} operator endpoints");
        foreach (var endpoint in endpoints)
        {
            var path = Regex.Replace(endpoint.RoutePattern.RawText!, @"\{[^}]*\}", "1");
            var method = endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods.FirstOrDefault() ?? "GET";
            using var response = await fixture.Anonymous.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path} answered {(int)response.StatusCode} without the key");
        }
    }

    [Fact]
    public async Task The_operator_endpoints_map_on_a_silo_without_the_gateway_as_a_management_port_would_serve_them()
    {
        var builder = RoomActorsHost.CreateBuilder(["--urls", "http://127.0.0.1:0", "--silo-port", FreePort.Next().ToString(),
            "--client-port", FreePort.Next().ToString(), "--cluster-id", "op-" + Guid.NewGuid().ToString("N")[..8],
            $"--RoomActors:Operator:Key={OperatorFixture.Key}"]);
        builder.Logging.ClearProviders();
        builder.UseRoomActorsSilo(); // no AddRoomActorsGateway: no sockets here
        await using var app = builder.Build();
        app.MapRoomActorsOperator();
        using var http = new HttpClient { BaseAddress = await AllInOneServer.StartAsync(app) };
        try
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", OperatorFixture.Key);
            Assert.Contains(Type, (await GetJsonAsync(http, "/operator/rooms")).GetProperty("types").EnumerateArray().Select(t => t.GetProperty("type").GetString()));
            Assert.False((await GetJsonAsync(http, $"/operator/rooms/{Type}/{NewRoom()}")).GetProperty("awake").GetBoolean());
            using var dashboard = await http.GetAsync("/operator/dashboard/");
            Assert.Equal(HttpStatusCode.OK, dashboard.StatusCode);
        }
        finally
        {
            await app.StopAsync();
        }
    }

    [Fact]
    public void A_key_shorter_than_32_bytes_stops_the_host_naming_the_setting()
    {
        var error = Assert.Throws<OptionsValidationException>(() => RoomActorsHost.BuildAllInOne(
            ["--urls", "http://127.0.0.1:0", "--RoomActors:Operator:Key=too-short", "--silo-port", FreePort.Next().ToString(), "--client-port", FreePort.Next().ToString()]));
        Assert.Contains("RoomActors:Operator:Key has 9 bytes", error.Message);
    }

    [Fact]
    public async Task A_POST_from_another_sites_page_is_refused()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/operator/rooms/{Type}/anything/hibernate");
        request.Headers.Add("Origin", "https://elsewhere.example");
        using var response = await fixture.Operator.SendAsync(request);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task The_dashboard_is_served_behind_the_key_by_the_silo_and_by_a_standalone_gateway()
    {
        using (var anonymous = await fixture.Anonymous.GetAsync("/operator/dashboard/"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }

        using (var redirect = await fixture.Operator.GetAsync("/operator/dashboard"))
        {
            Assert.Equal(HttpStatusCode.MovedPermanently, redirect.StatusCode); // to the trailing slash its relative assets need
            Assert.Equal("/operator/dashboard/", redirect.Headers.Location?.OriginalString);
        }

        using (var page = await fixture.Operator.GetAsync("/operator/dashboard/"))
        {
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
            Assert.Contains("<title>Orleans Dashboard</title>", await page.Content.ReadAsStringAsync());
        }

        using (var script = await fixture.Operator.GetAsync("/operator/dashboard/index.min.js"))
        {
            Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        }

        await AssertDashboardDataAsync(fixture.Operator);

        // A gateway is an Orleans client: it serves the same dashboard from the silos' dashboard grains, and the inspector.
        await using var gateway = await StandaloneGateway.StartAsync(Server, $"--RoomActors:Operator:Key={OperatorFixture.Key}");
        using var http = new HttpClient { BaseAddress = gateway.Http };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Basic("operator", OperatorFixture.Key));
        await AssertDashboardDataAsync(http);
        var room = NewRoom();
        await using var client = await JoinAsync(room, "admin", "gia");
        var listing = await GetJsonAsync(http, "/operator/rooms/" + Type);
        Assert.Contains(room, Names(listing, Type));

        static async Task AssertDashboardDataAsync(HttpClient http)
        {
            // The counters come from the dashboard grain on a silo (refreshed once a second): this silo is one host.
            var deadline = Stopwatch.StartNew();
            while (true)
            {
                var counters = await GetJsonAsync(http, "/operator/dashboard/DashboardCounters");
                if (counters.GetProperty("hosts").GetArrayLength() >= 1 && counters.GetProperty("totalActivationCount").GetInt32() > 0)
                {
                    break;
                }

                Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(15), "the dashboard counters named no silo: " + counters);
                await Task.Delay(200);
            }
        }
    }

    [Fact]
    public async Task The_room_list_shows_the_rooms_with_open_connections_by_type()
    {
        string[] rooms = [NewRoom(), NewRoom()];
        var echo = NewRoom();
        await using var a = await JoinAsync(rooms[0], "admin", "ann");
        await using var b = await JoinAsync(rooms[1], "guest", "ben");
        await using var c = await TestClient.ConnectAsync(Server.Room("echo", echo));
        await c.SendAsync("hello");
        Assert.Equal("hello", await c.ReceiveTextAsync());

        var listing = await GetJsonAsync(fixture.Operator, "/operator/rooms");
        var types = listing.GetProperty("types").EnumerateArray().Select(t => t.GetProperty("type").GetString()).ToList();
        Assert.Contains(Type, types);
        Assert.Contains("chat", types); // every type is listed, in memory or not
        Assert.Contains(rooms[0], Names(listing, Type));
        Assert.Contains(rooms[1], Names(listing, Type));
        Assert.Contains(echo, Names(listing, "echo"));
        Assert.DoesNotContain(echo, Names(listing, Type));

        var one = await GetJsonAsync(fixture.Operator, $"/operator/rooms/{Type}?limit=1");
        var only = Assert.Single(one.GetProperty("types").EnumerateArray());
        Assert.Equal(Type, only.GetProperty("type").GetString());
        Assert.True(only.GetProperty("active").GetInt32() >= 2);
        Assert.Single(only.GetProperty("rooms").EnumerateArray());
        Assert.True(only.GetProperty("truncated").GetBoolean());

        using var unknown = await fixture.Operator.GetAsync("/operator/rooms/no-such-type/x");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        var problem = await unknown.Content.ReadAsStringAsync();
        Assert.Contains("no-such-type", problem);
        Assert.Contains(Type, problem); // the known types
        using var badName = await fixture.Operator.GetAsync($"/operator/rooms/{Type}/bad!name");
        Assert.Equal(HttpStatusCode.BadRequest, badName.StatusCode);
    }

    [Fact]
    public async Task One_room_shows_its_connections_with_the_tags_the_room_set_its_state_and_its_alarm()
    {
        var room = NewRoom();
        await using var ann = await JoinAsync(room, "admin", "ann");
        await using var ben = await JoinAsync(room, "guest", "ben");
        await ann.SendAsync("alarm");
        await ann.SkipUntilAsync("alarm from ann count=3");

        var detail = await GetJsonAsync(fixture.Operator, $"/operator/rooms/{Type}/{room}");
        Assert.Equal(Type, detail.GetProperty("type").GetString());
        Assert.Equal(room, detail.GetProperty("name").GetString());
        Assert.True(detail.GetProperty("awake").GetBoolean());
        Assert.False(string.IsNullOrEmpty(detail.GetProperty("silo").GetString()));
        Assert.True(detail.GetProperty("stateBytes").GetInt64() > 0);
        var alarm = detail.GetProperty("alarm").GetDateTimeOffset();
        Assert.InRange(alarm, DateTimeOffset.UtcNow.AddMinutes(59), DateTimeOffset.UtcNow.AddMinutes(61));
        Assert.InRange(detail.GetProperty("lastTurn").GetDateTimeOffset(), DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddSeconds(1));
        var connections = detail.GetProperty("connections").EnumerateArray().ToList();
        Assert.Equal(2, connections.Count);
        var first = connections[0]; // oldest first
        Assert.Equal("ann", first.GetProperty("user").GetString());
        Assert.Equal([first.GetProperty("id").GetString()!, "role:admin"], Tags(first));
        Assert.True(first.GetProperty("connected").GetBoolean());
        Assert.True(first.GetProperty("stateBytes").GetInt32() > 0);
        Assert.False(string.IsNullOrEmpty(first.GetProperty("gateway").GetString()));
        Assert.Equal("ben", connections[1].GetProperty("user").GetString());
        Assert.Equal("role:guest", Tags(connections[1])[1]);

        // A room that never started is read from storage: nothing, and it is not started by the look.
        var never = NewRoom();
        var empty = await GetJsonAsync(fixture.Operator, $"/operator/rooms/{Type}/{never}");
        Assert.False(empty.GetProperty("awake").GetBoolean());
        Assert.Empty(empty.GetProperty("connections").EnumerateArray());
        Assert.False(OperatorRoom.Starts.ContainsKey(never));
    }

    [Fact]
    public async Task Forced_hibernation_takes_the_room_out_of_memory_and_its_clients_keep_their_sockets()
    {
        var room = NewRoom();
        await using var ann = await JoinAsync(room, "admin", "ann");
        await using var ben = await JoinAsync(room, "guest", "ben");
        await ann.SendAsync("alarm");
        await ben.SkipUntilAsync("alarm from ann count=3");
        var awake = await GetJsonAsync(fixture.Operator, $"/operator/rooms/{Type}/{room}");
        var starts = OperatorRoom.Starts[room];

        using (var response = await fixture.Operator.PostAsync($"/operator/rooms/{Type}/{room}/hibernate", null))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode); // answered once the room is out of memory
            Assert.Equal("hibernated", (await JsonAsync(response)).GetProperty("result").GetString());
        }

        // Out of memory: the inspector reads it from storage, with the same connections, tags, state size and alarm.
        var asleep = await GetJsonAsync(fixture.Operator, $"/operator/rooms/{Type}/{room}");
        Assert.False(asleep.GetProperty("awake").GetBoolean());
        Assert.Equal(awake.GetProperty("connections").EnumerateArray().Select(Tags).SelectMany(t => t),
            asleep.GetProperty("connections").EnumerateArray().Select(Tags).SelectMany(t => t));
        Assert.All(asleep.GetProperty("connections").EnumerateArray(), c => Assert.True(c.GetProperty("connected").GetBoolean()));
        Assert.Equal(awake.GetProperty("stateBytes").GetInt64(), asleep.GetProperty("stateBytes").GetInt64());
        Assert.Equal(awake.GetProperty("alarm").GetDateTimeOffset(), asleep.GetProperty("alarm").GetDateTimeOffset());
        Assert.Equal(JsonValueKind.Null, asleep.GetProperty("lastTurn").ValueKind);
        Assert.DoesNotContain(room, Names(await GetJsonAsync(fixture.Operator, "/operator/rooms/" + Type), Type));
        using (var again = await fixture.Operator.PostAsync($"/operator/rooms/{Type}/{room}/hibernate", null))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            Assert.Equal("asleep", (await JsonAsync(again)).GetProperty("result").GetString());
        }

        Assert.Equal(starts, OperatorRoom.Starts[room]); // looking did not wake it

        // The sockets stayed open: the next message wakes the room, and both clients get its broadcast.
        await ben.SendAsync("back");
        await ann.SkipUntilAsync("back from ben count=4");
        await ben.SkipUntilAsync("back from ben count=4");
        Assert.Equal(starts + 1, OperatorRoom.Starts[room]);
        Assert.True((await GetJsonAsync(fixture.Operator, $"/operator/rooms/{Type}/{room}")).GetProperty("awake").GetBoolean());
    }

    [Fact]
    public async Task Closing_a_connection_closes_that_socket_with_1008_and_the_others_stay()
    {
        var room = NewRoom();
        await using var ann = await JoinAsync(room, "admin", "ann");
        await using var ben = await JoinAsync(room, "guest", "ben");
        await using var cat = await JoinAsync(room, "guest", "cat");
        var ids = (await GetJsonAsync(fixture.Operator, $"/operator/rooms/{Type}/{room}")).GetProperty("connections").EnumerateArray()
            .ToDictionary(c => c.GetProperty("user").GetString()!, c => c.GetProperty("id").GetString()!);

        using (var response = await fixture.Operator.PostAsync($"/operator/rooms/{Type}/{room}/connections/{ids["ben"]}/close", null))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var body = await JsonAsync(response);
            Assert.Equal(1008, body.GetProperty("code").GetInt32());
            Assert.Equal("closed by an operator", body.GetProperty("reason").GetString());
        }

        var closed = await ben.WaitClosedAsync();
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, closed.Status);
        Assert.Equal("closed by an operator", closed.Reason);
        await ann.SkipUntilAsync("left ben 1008"); // the room's close hook ran
        await cat.SkipUntilAsync("left ben 1008");

        // Another code and reason when asked; a connection the room does not have is a 404.
        using (var response = await fixture.Operator.PostAsync($"/operator/rooms/{Type}/{room}/connections/{ids["cat"]}/close?code=4000&reason=maintenance", null))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        closed = await cat.WaitClosedAsync();
        Assert.Equal((WebSocketCloseStatus)4000, closed.Status);
        Assert.Equal("maintenance", closed.Reason);
        await ann.SkipUntilAsync("left cat 4000");
        using (var response = await fixture.Operator.PostAsync($"/operator/rooms/{Type}/{room}/connections/{ids["ben"]}/close", null))
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }

        using (var response = await fixture.Operator.PostAsync($"/operator/rooms/{Type}/{room}/connections/{ids["ann"]}/close?code=1006", null))
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode); // 1006 is reserved
        }

        // The one left is still served.
        await ann.SendAsync("still here");
        await ann.SkipUntilAsync("still here from ann count=4");
        var left = Assert.Single((await GetJsonAsync(fixture.Operator, $"/operator/rooms/{Type}/{room}")).GetProperty("connections").EnumerateArray());
        Assert.Equal(ids["ann"], left.GetProperty("id").GetString());
    }

    [Fact]
    public async Task The_pages_render_the_rooms_and_one_rooms_connections_for_a_browser()
    {
        var room = NewRoom();
        await using var ann = await JoinAsync(room, "admin", "ann");
        var page = await GetHtmlAsync("/operator");
        Assert.Contains($"/operator/rooms/{Type}/{room}", page);
        Assert.Contains($">{room}</a>", page);
        Assert.Contains("/operator/dashboard/", page);
        Assert.Contains(">op-watch <", page);

        var detail = await GetHtmlAsync($"/operator/rooms/{Type}/{room}");
        var id = Assert.Single((await GetJsonAsync(fixture.Operator, $"/operator/rooms/{Type}/{room}")).GetProperty("connections").EnumerateArray())
            .GetProperty("id").GetString()!;
        Assert.Contains($"<code>{id}</code>", detail);
        Assert.Contains("<code>role:admin</code>", detail);
        Assert.Contains($"/operator/rooms/{Type}/{room}/connections/{id}/close", detail);
        Assert.Contains("awake", detail);

        async Task<string> GetHtmlAsync(string path)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Accept.ParseAdd("text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"); // as a browser asks
            using var response = await fixture.Operator.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
            return await response.Content.ReadAsStringAsync();
        }
    }

    private static string NewRoom() => "op-" + Guid.NewGuid().ToString("N")[..12];

    private static string Basic(string user, string password) => Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"));

    private static string[] Tags(JsonElement connection) => [.. connection.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!)];

    private static IEnumerable<string> Names(JsonElement listing, string type) =>
        listing.GetProperty("types").EnumerateArray().Where(t => t.GetProperty("type").GetString() == type)
            .SelectMany(t => t.GetProperty("rooms").EnumerateArray()).Select(n => n.GetString()!);

    /// <summary>A client in room <paramref name="room"/>, once the room has it (it heard its own first message).</summary>
    private async Task<TestClient> JoinAsync(string room, string role, string name)
    {
        var client = await TestClient.ConnectAsync(Server.Room(Type, room, $"?role={role}&name={name}"));
        await client.SendAsync("in");
        var heard = await client.ReceiveTextAsync();
        Assert.StartsWith($"in from {name} count=", heard);
        return client;
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, AuthenticationHeaderValue? credential)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = credential;
        return await fixture.Anonymous.SendAsync(request);
    }

    private static async Task<JsonElement> GetJsonAsync(HttpClient http, string path)
    {
        using var response = await http.GetAsync(path);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return await JsonAsync(response);
    }

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
}
