using System.Text;
using System.Text.Json;
using RoomActors.Testing;

namespace RoomActors.Tests.Testing;

/// <summary>One test host for the tests that need no options of their own (each uses its own room names).</summary>
public sealed class RoomTestHostFixture : IAsyncLifetime
{
    public RoomTestHost Host { get; private set; } = null!;

    public async Task InitializeAsync() => Host = await RoomTestHost.StartAsync();

    public async Task DisposeAsync() => await Host.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class RoomTestHostCollection : ICollectionFixture<RoomTestHostFixture>
{
    public const string Name = "room-test-host";
}

/// <summary>
/// The kit's room: says who connected (user, claim, query, header), rejects <c>?reject=yes</c> after a last word,
/// closes a client that sends <c>close</c>, throws on <c>boom</c>, reports every close to the others, and answers HTTP with
/// what it was asked.
/// </summary>
[Room("kit")]
public sealed class KitRoom : Room
{
    protected override Task OnConnectAsync(Connection connection, ConnectContext context)
    {
        if (context.Query["reject"] == "yes")
        {
            connection.Send("about to reject");
            context.Reject(4001, "no entry");
            return Task.CompletedTask;
        }

        var role = context.Claims.GetValueOrDefault("role") ?? "-";
        var via = context.Headers.GetValueOrDefault("x-via") ?? "-";
        connection.Send($"hello {context.UserId ?? "anonymous"} role={role} name={context.Query["name"] ?? "-"} via={via}");
        Broadcast($"joined {context.Query["name"] ?? connection.Id}", except: [connection.Id]);
        return Task.CompletedTask;
    }

    protected override Task OnMessageAsync(Connection sender, RoomMessage message)
    {
        switch (message.IsText ? message.Text : null)
        {
            case "close":
                sender.Close(4000, "bye");
                break;
            case "boom":
                throw new InvalidOperationException("boom");
            case "count":
                sender.Send(Connections.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
                break;
            default:
                Broadcast(message, except: [sender.Id]);
                break;
        }

        return Task.CompletedTask;
    }

    protected override Task OnCloseAsync(Connection connection, int code, string reason)
    {
        Broadcast($"left {code} {reason}");
        return Task.CompletedTask;
    }

    protected override Task<RoomHttpResponse> OnRequestAsync(RoomHttpRequest request) =>
        Task.FromResult(RoomHttpResponse.Json(JsonSerializer.Serialize(new
        {
            method = request.Method,
            path = request.Path,
            query = request.QueryString,
            body = request.BodyText,
            user = request.UserId,
            header = request.Headers.GetValueOrDefault("x-via"),
            connections = Connections.Count,
        })));
}

/// <summary>A room that lets in signed-in users only, before any connection exists.</summary>
[Room("kit-gate")]
public sealed class KitGateRoom : Room
{
    protected override Task OnBeforeConnectAsync(BeforeConnectContext context)
    {
        if (context.UserId is null)
        {
            context.Deny(401, "sign in first");
        }

        return Task.CompletedTask;
    }

    protected override Task OnConnectAsync(Connection connection, ConnectContext context)
    {
        connection.Send($"in: {context.UserId}");
        return Task.CompletedTask;
    }
}

[Collection(RoomTestHostCollection.Name)]
public sealed class RoomTestHostTests(RoomTestHostFixture fixture)
{
    private RoomTestHost Host => fixture.Host;

    private static string NewName() => Guid.NewGuid().ToString("N");

    [Fact]
    public async Task Two_chat_clients_see_each_others_presence_and_messages()
    {
        var room = NewName();
        await using var ada = await Host.ConnectAsync("chat", room);
        await using var bob = await Host.ConnectAsync("chat", room);

        await ada.SendAsync("""{"type":"join","name":"ada"}""");
        Assert.Equal(0, (await ada.NextJsonAsync()).GetProperty("messages").GetArrayLength()); // the history
        Assert.Equal("ada", (await ada.NextJsonAsync(m => m.GetProperty("type").GetString() == "presence")).GetProperty("name").GetString());
        Assert.Equal("ada", (await bob.NextJsonAsync()).GetProperty("name").GetString()); // bob hears ada join

        await bob.SendAsync("""{"type":"join","name":"bob"}""");
        await bob.SendAsync("""{"type":"message","text":"hi ada"}""");

        var presence = await ada.NextJsonAsync();
        Assert.Equal("join", presence.GetProperty("event").GetString());
        Assert.Equal(["ada", "bob"], presence.GetProperty("users").EnumerateArray().Select(u => u.GetString()).Order());
        var said = await ada.NextJsonAsync(m => m.GetProperty("type").GetString() == "message");
        Assert.Equal("bob", said.GetProperty("name").GetString());
        Assert.Equal("hi ada", said.GetProperty("text").GetString());
        Assert.Equal("hi ada", (await bob.NextJsonAsync(m => m.GetProperty("type").GetString() == "message")).GetProperty("text").GetString());

        await bob.CloseAsync();
        var left = await ada.NextJsonAsync();
        Assert.Equal("leave", left.GetProperty("event").GetString());
        Assert.Equal("bob", left.GetProperty("name").GetString());
        Assert.True(await ada.QuietAsync(TimeSpan.FromMilliseconds(200)));
    }

    [Fact]
    public async Task Echo_answers_the_sender_only_and_keeps_binary_binary()
    {
        var room = NewName();
        await using var ada = await Host.ConnectAsync("echo", room);
        await using var bob = await Host.ConnectAsync("echo", room);

        await ada.SendAsync("ping");
        await ada.SendAsync(new byte[] { 1, 2, 3 });

        Assert.Equal("ping", await ada.NextTextAsync());
        var binary = await ada.NextAsync();
        Assert.False(binary.IsText);
        Assert.Equal(new byte[] { 1, 2, 3 }, binary.Data.ToArray());
        Assert.True(await bob.QuietAsync(TimeSpan.FromMilliseconds(200)));
        Assert.Empty(bob.Received);
        Assert.Equal(2, ada.Received.Count);
    }

    [Fact]
    public async Task Every_client_sees_the_broadcasts_in_the_same_order()
    {
        var room = NewName();
        await using var ada = await Host.ConnectAsync("broadcast", room);
        await using var bob = await Host.ConnectAsync("broadcast", room);

        // Both send at once: the room puts them in one order, and both clients see that order.
        await Task.WhenAll(
            Task.Run(async () => { for (var i = 0; i < 20; i++) { await ada.SendAsync($"ada {i}"); } }),
            Task.Run(async () => { for (var i = 0; i < 20; i++) { await bob.SendAsync($"bob {i}"); } }));

        for (var i = 0; i < 40; i++)
        {
            Assert.Equal(await ada.NextTextAsync(), await bob.NextTextAsync());
        }

        Assert.Equal(ada.Received.Select(m => m.Text), bob.Received.Select(m => m.Text));
        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"ada {i}"), ada.Received.Select(m => m.Text).Where(t => t.StartsWith("ada", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task The_counter_keeps_its_value_when_the_room_leaves_memory_and_its_clients_stay_connected()
    {
        var room = NewName();
        await using var ada = await Host.ConnectAsync("counter", room);
        await ada.SendAsync("inc");
        await ada.SendAsync("inc");
        Assert.Equal("1", await ada.NextTextAsync());
        Assert.Equal("2", await ada.NextTextAsync());

        await Host.RestartRoomAsync("counter", room);

        await ada.SendAsync("inc"); // activates the room again: state and membership from storage
        Assert.Equal("3", await ada.NextTextAsync());
        Assert.False(ada.IsClosed);
        var get = await Host.RequestAsync("counter", room);
        Assert.Equal(200, get.Status);
        Assert.Equal("3", get.BodyText());
        Assert.Equal(405, (await Host.RequestAsync("counter", room, "POST")).Status);
    }

    [Fact]
    public async Task The_connect_hook_sees_the_user_claims_query_and_headers()
    {
        var room = NewName();
        await using var ada = await Host.ConnectAsync("kit", room, "name=ada", userId: "u-ada",
            claims: new Dictionary<string, string> { ["role"] = "mod" }, headers: new Dictionary<string, string> { ["X-Via"] = "test" });
        Assert.Equal("hello u-ada role=mod name=ada via=test", await ada.NextTextAsync());
        Assert.Equal("u-ada", ada.UserId);

        await using var guest = await Host.ConnectAsync("kit", room, "?name=bob");
        Assert.Equal("hello anonymous role=- name=bob via=-", await guest.NextTextAsync()); // in Received as soon as the connect returns
        Assert.Equal("joined bob", await ada.NextTextAsync());
    }

    [Fact]
    public async Task A_rejected_connect_throws_with_the_code_reason_and_what_the_room_said_first()
    {
        var room = NewName();
        await using var ada = await Host.ConnectAsync("kit", room, "name=ada");

        var rejected = await Assert.ThrowsAsync<RoomRejectedException>(() => Host.ConnectAsync("kit", room, "reject=yes"));
        Assert.Equal(4001, rejected.Code);
        Assert.Equal("no entry", rejected.Reason);
        Assert.False(rejected.BeforeConnect);
        Assert.Equal(["about to reject"], rejected.Received.Select(m => m.Text));

        // Never a member: no close hook ran for it, and the room counts one connection.
        await ada.SendAsync("count");
        Assert.Equal("hello anonymous role=- name=ada via=-", await ada.NextTextAsync());
        Assert.Equal("1", await ada.NextTextAsync());
    }

    [Fact]
    public async Task A_before_connect_denial_throws_with_the_http_status()
    {
        var room = NewName();
        var denied = await Assert.ThrowsAsync<RoomRejectedException>(() => Host.ConnectAsync("kit-gate", room));
        Assert.True(denied.BeforeConnect);
        Assert.Equal(401, denied.Code);
        Assert.Equal("sign in first", denied.Reason);

        await using var ada = await Host.ConnectAsync("kit-gate", room, userId: "ada");
        Assert.Equal("in: ada", await ada.NextTextAsync());
    }

    [Fact]
    public async Task A_room_initiated_close_closes_that_client_with_its_code_and_reason()
    {
        var room = NewName();
        await using var ada = await Host.ConnectAsync("kit", room, "name=ada");
        await using var bob = await Host.ConnectAsync("kit", room, "name=bob");

        await bob.SendAsync("close");
        Assert.Equal((4000, "bye"), await bob.ClosedAsync());
        Assert.True(bob.IsClosed);
        Assert.True(bob.ClosedByRoom);
        Assert.Equal(4000, bob.CloseCode);
        Assert.Equal("bye", bob.CloseReason);
        await Assert.ThrowsAsync<InvalidOperationException>(() => bob.SendAsync("still here?"));

        Assert.Equal(["hello anonymous role=- name=ada via=-", "joined bob", "left 4000 bye"], // the close hook ran in the same turn
            [await ada.NextTextAsync(), await ada.NextTextAsync(), await ada.NextTextAsync()]);
    }

    [Fact]
    public async Task A_client_close_and_a_drop_run_the_close_hook_with_their_codes()
    {
        var room = NewName();
        await using var ada = await Host.ConnectAsync("kit", room, "name=ada");
        var bob = await Host.ConnectAsync("kit", room, "name=bob");
        var cy = await Host.ConnectAsync("kit", room, "name=cy");
        Assert.Equal("hello anonymous role=- name=ada via=-", await ada.NextTextAsync());
        Assert.Equal("joined bob", await ada.NextTextAsync());
        Assert.Equal("joined cy", await ada.NextTextAsync());

        await bob.CloseAsync(4100, "done");
        Assert.Equal("left 4100 done", await ada.NextTextAsync());
        Assert.Equal((4100, "done"), await bob.ClosedAsync());
        Assert.False(bob.ClosedByRoom);

        await cy.DropAsync();
        Assert.Equal("left 1006 connection lost", await ada.NextTextAsync());
        Assert.Equal(1006, cy.CloseCode);

        await ada.SendAsync("count");
        Assert.Equal("1", await ada.NextTextAsync());
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => ada.CloseAsync(1006));
    }

    [Fact]
    public async Task A_hook_that_throws_leaves_the_room_and_the_client_going()
    {
        var room = NewName();
        await using var ada = await Host.ConnectAsync("kit", room, "name=ada");
        await ada.SendAsync("boom");
        await ada.SendAsync("count");
        Assert.Equal("hello anonymous role=- name=ada via=-", await ada.NextTextAsync());
        Assert.Equal("1", await ada.NextTextAsync());
        Assert.False(ada.IsClosed);
    }

    [Fact]
    public async Task The_http_hook_gets_the_request_and_rooms_without_one_answer_as_the_gateway_does()
    {
        var room = NewName();
        await using var ada = await Host.ConnectAsync("kit", room);
        var response = await Host.RequestAsync("kit", room, "post", "/items/7", "x=1", body: "payload", userId: "u1",
            headers: new Dictionary<string, string> { ["X-Via"] = "test" });

        Assert.Equal(200, response.Status);
        Assert.StartsWith("application/json", response.Headers["content-type"], StringComparison.Ordinal);
        var json = JsonDocument.Parse(response.BodyText()).RootElement;
        Assert.Equal("POST", json.GetProperty("method").GetString());
        Assert.Equal("items/7", json.GetProperty("path").GetString());
        Assert.Equal("?x=1", json.GetProperty("query").GetString());
        Assert.Equal("payload", json.GetProperty("body").GetString());
        Assert.Equal("u1", json.GetProperty("user").GetString());
        Assert.Equal("test", json.GetProperty("header").GetString());
        Assert.Equal(1, json.GetProperty("connections").GetInt32());

        Assert.Equal(426, (await Host.RequestAsync("echo", room)).Status);
        Assert.Equal(404, (await Host.RequestAsync("echo", room, path: "x")).Status);
    }

    [Fact]
    public async Task Messages_from_an_alarm_arrive_without_a_client_call()
    {
        await using var ada = await Host.ConnectAsync("countdown", NewName());
        await ada.SendAsync("start 0");
        Assert.Equal("started 0", await ada.NextTextAsync());
        Assert.Equal("ring", await ada.NextTextAsync(TimeSpan.FromSeconds(15))); // the reminder's turn, delivered by call
    }

    [Fact]
    public async Task Reading_helpers_wait_skip_and_time_out()
    {
        var room = NewName();
        await using var ada = await Host.ConnectAsync("broadcast", room);
        Assert.True(await ada.QuietAsync(TimeSpan.FromMilliseconds(100)));
        await ada.SendAsync("not json");
        await ada.SendAsync("""{"type":"a"}""");
        await ada.SendAsync("""{"type":"b","n":2}""");
        Assert.False(await ada.QuietAsync(TimeSpan.FromMilliseconds(100))); // unread messages wait: not quiet, nothing read

        Assert.Equal(2, (await ada.NextJsonAsync(m => m.GetProperty("type").GetString() == "b")).GetProperty("n").GetInt32());
        Assert.Equal(3, ada.Received.Count);
        await Assert.ThrowsAsync<TimeoutException>(() => ada.NextAsync(TimeSpan.FromMilliseconds(100)));

        await ada.SendAsync("plain");
        await Assert.ThrowsAsync<InvalidOperationException>(() => ada.NextJsonAsync());

        await ada.CloseAsync();
        await Assert.ThrowsAsync<InvalidOperationException>(() => ada.NextAsync()); // closed and read: fails at once
    }

    [Fact]
    public async Task Unknown_room_types_and_invalid_names_are_refused_with_what_to_fix()
    {
        var unknown = await Assert.ThrowsAsync<ArgumentException>(() => Host.ConnectAsync("nope", "lobby"));
        Assert.Contains("chat", unknown.Message, StringComparison.Ordinal); // names the known types
        Assert.Contains("kit", Host.RoomTypes);
        Assert.Contains("counter", Host.RoomTypes); // the referenced samples' rooms are hosted too

        await Assert.ThrowsAsync<ArgumentException>(() => Host.ConnectAsync("echo", "no spaces"));
        await Assert.ThrowsAsync<ArgumentException>(() => Host.RequestAsync("echo", new string('a', 129)));
    }
}
