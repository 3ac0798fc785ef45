using System.Net;
using System.Net.WebSockets;
using RoomActors.Gateway.Auth;
using RoomActors.Tests.Infrastructure;

namespace RoomActors.Tests.Integration;

/// <summary>The connect hook reports who connected: <c>user=… room-claim=…</c>.</summary>
[Room("it-whoami")]
public sealed class WhoAmIRoom : Room
{
    protected override Task OnConnectAsync(Connection connection, ConnectContext context)
    {
        connection.Send($"user={context.UserId ?? "<anonymous>"} room-claim={context.Claims.GetValueOrDefault("room") ?? "<none>"}");
        return Task.CompletedTask;
    }
}

/// <summary>Signed tickets and the origin allow-list, checked at the gateway before any upgrade.</summary>
public sealed class AuthTests : IAsyncLifetime
{
    private const string Key = "test-signing-key-of-at-least-32-bytes!!";
    private AllInOneServer _server = null!;

    public async Task InitializeAsync() => _server = await AllInOneServer.StartAsync(
        $"--RoomActors:Auth:SigningKey={Key}",
        "--RoomActors:Auth:AllowedOrigins:0=https://good.example");

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static string Ticket(string room, TimeSpan? expiresIn = null, string key = Key, string user = "ada") =>
        RoomTickets.Create(key, user, room, DateTimeOffset.UtcNow + (expiresIn ?? TimeSpan.FromMinutes(5)));

    private async Task<HttpStatusCode> RefusedWithAsync(Uri uri, string? origin = null)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        if (origin is not null)
        {
            socket.Options.SetRequestHeader("Origin", origin);
        }

        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(uri, CancellationToken.None));
        return socket.HttpStatusCode;
    }

    [Fact]
    public async Task A_valid_ticket_reaches_the_room_with_its_identity()
    {
        var room = Guid.NewGuid().ToString("N");
        await using var client = await TestClient.ConnectAsync(_server.Room("it-whoami", room, "?ticket=" + Ticket("it-whoami/*")));
        Assert.Equal("user=ada room-claim=it-whoami/*", await client.ReceiveTextAsync());

        // The same through an Authorization header.
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", "Bearer " + Ticket($"it-whoami/{room}", user: "bob"));
        await socket.ConnectAsync(_server.Room("it-whoami", room), CancellationToken.None);
        var buffer = new byte[256];
        var read = await socket.ReceiveAsync(buffer, CancellationToken.None);
        Assert.Equal($"user=bob room-claim=it-whoami/{room}", System.Text.Encoding.UTF8.GetString(buffer, 0, read.Count));
    }

    [Fact]
    public async Task Missing_expired_forged_wrong_room_and_wrong_origin_tickets_are_refused_before_the_upgrade()
    {
        var room = Guid.NewGuid().ToString("N");
        Assert.Equal(HttpStatusCode.Unauthorized, await RefusedWithAsync(_server.Room("it-whoami", room)));
        Assert.Equal(HttpStatusCode.Unauthorized, await RefusedWithAsync(_server.Room("it-whoami", room, "?ticket=" + Ticket("it-whoami/*", TimeSpan.FromSeconds(-40)))));
        Assert.Equal(HttpStatusCode.Unauthorized, await RefusedWithAsync(_server.Room("it-whoami", room, "?ticket=" + Ticket("it-whoami/*", key: "another-key-that-is-also-32-bytes-long!"))));
        Assert.Equal(HttpStatusCode.Unauthorized, await RefusedWithAsync(_server.Room("it-whoami", room, "?ticket=not.a.ticket")));
        Assert.Equal(HttpStatusCode.Forbidden, await RefusedWithAsync(_server.Room("it-whoami", room, "?ticket=" + Ticket("it-whoami/other-room"))));
        Assert.Equal(HttpStatusCode.Forbidden, await RefusedWithAsync(_server.Room("it-whoami", room, "?ticket=" + Ticket("chat/*"))));
        Assert.Equal(HttpStatusCode.Forbidden, await RefusedWithAsync(_server.Room("it-whoami", room, "?ticket=" + Ticket("it-whoami/*")), origin: "https://evil.example"));

        // The allowed origin with a valid ticket gets in.
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Origin", "https://good.example");
        await socket.ConnectAsync(_server.Room("it-whoami", room, "?ticket=" + Ticket("it-whoami/*")), CancellationToken.None);
        Assert.Equal(WebSocketState.Open, socket.State);
    }

    [Fact]
    public async Task Refusals_say_why_and_cover_http_requests_to_rooms()
    {
        using var http = new HttpClient();
        var name = Guid.NewGuid().ToString("N");
        var missing = await http.GetAsync(new Uri(_server.Http, $"/rooms/counter/{name}"));
        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Contains("no ticket", await missing.Content.ReadAsStringAsync());

        var expired = await http.GetAsync(new Uri(_server.Http, $"/rooms/counter/{name}?ticket={Ticket("counter/*", TimeSpan.FromSeconds(-40))}"));
        Assert.Contains("expired", await expired.Content.ReadAsStringAsync());

        var forged = await http.GetAsync(new Uri(_server.Http, $"/rooms/counter/{name}?ticket={Ticket("counter/*", key: "another-key-that-is-also-32-bytes-long!")}"));
        Assert.Contains("signature", await forged.Content.ReadAsStringAsync());

        var wrongRoom = await http.GetAsync(new Uri(_server.Http, $"/rooms/counter/{name}?ticket={Ticket("counter/elsewhere")}"));
        Assert.Equal(HttpStatusCode.Forbidden, wrongRoom.StatusCode);
        Assert.Contains("not counter/" + name, await wrongRoom.Content.ReadAsStringAsync());

        var ok = await http.GetAsync(new Uri(_server.Http, $"/rooms/counter/{name}?ticket={Ticket("counter/*")}"));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal("0", await ok.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("chat/*", "chat", "lobby", true)]
    [InlineData("chat/lobby", "chat", "lobby", true)]
    [InlineData("chat/lob*", "chat", "lobby", true)]
    [InlineData("*", "echo", "x", true)]
    [InlineData("chat/lobby", "chat", "lobby2", false)]
    [InlineData("chat/*", "echo", "lobby", false)]
    [InlineData("c*t/l*y", "chat", "lobby", true)]
    [InlineData("c*t/l*y", "chat", "lobbyx", false)]
    public void Room_patterns_match_type_slash_name(string pattern, string type, string name, bool expected) =>
        Assert.Equal(expected, RoomTickets.Matches(pattern, type, name));
}
