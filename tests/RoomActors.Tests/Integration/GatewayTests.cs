using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using RoomActors.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RoomActors.Tests.Integration;

/// <summary>Real ClientWebSockets on loopback against the all-in-one server (Kestrel on port 0).</summary>
[Collection(AllInOneCollection.Name)]
public sealed class GatewayTests(AllInOneFixture fixture, ITestOutputHelper output)
{
    private AllInOneServer Server => fixture.Server;

    private static string NewName() => "r-" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>Connects to the recording relay room and takes its welcome message (which carries the connection id).</summary>
    private async Task<(TestClient Client, string Id)> JoinRelayAsync(string room)
    {
        var client = await TestClient.ConnectAsync(Server.Room("it-relay", room));
        var welcome = await client.ReceiveTextAsync();
        Assert.StartsWith("welcome ", welcome);
        return (client, welcome["welcome ".Length..]);
    }

    [Fact]
    public async Task Echo_returns_text_and_binary_unchanged_to_the_sender_only()
    {
        var room = NewName();
        await using var a = await TestClient.ConnectAsync(Server.Room("echo", room));
        await using var b = await TestClient.ConnectAsync(Server.Room("echo", room));

        await a.SendAsync("héllo ✓");
        var text = await a.ReceiveAsync();
        Assert.True(text.IsText);
        Assert.Equal("héllo ✓", text.Text);

        byte[] bytes = [0, 1, 2, 255, 254, 0x80];
        await a.SendAsync(bytes);
        var binary = await a.ReceiveAsync();
        Assert.False(binary.IsText);
        Assert.Equal(bytes, binary.Data);

        // b is in the same room but echo answers the sender only: b's first message is its own echo.
        await b.SendAsync("mine");
        Assert.Equal("mine", await b.ReceiveTextAsync());
        Assert.Empty(a.Drain());
    }

    [Fact]
    public async Task Broadcast_reaches_everyone_in_the_room_including_the_sender_and_keeps_frame_types()
    {
        var room = NewName();
        var clients = await TestClient.JoinRelayAsync(Enumerable.Range(0, 3).Select(_ => Server.Room("broadcast", room)));
        await using var other = await TestClient.ConnectAsync(Server.Room("broadcast", NewName()));
        try
        {
            for (var i = 0; i < clients.Count; i++)
            {
                await clients[i].SendAsync($"hello {i}");
            }

            foreach (var client in clients)
            {
                var seen = new List<string>();
                for (var i = 0; i < clients.Count; i++)
                {
                    seen.Add(await client.ReceiveTextAsync());
                }

                Assert.Equal(["hello 0", "hello 1", "hello 2"], seen.Order());
            }

            await clients[0].SendAsync(new byte[] { 9, 8, 7 });
            foreach (var client in clients)
            {
                var message = await client.ReceiveAsync();
                Assert.False(message.IsText);
                Assert.Equal(new byte[] { 9, 8, 7 }, message.Data);
            }

            // Rooms are isolated: the client of another room got nothing of this; its first message is its own.
            await other.SendAsync("elsewhere");
            Assert.Equal("elsewhere", await other.ReceiveTextAsync());
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Theory]
    [InlineData("/rooms/no-such-type/lobby", HttpStatusCode.NotFound)]
    [InlineData("/rooms/it-relay/bad%20name", HttpStatusCode.BadRequest)]
    [InlineData("/rooms/it-relay/bad!name", HttpStatusCode.BadRequest)]
    [InlineData("/rooms/it-relay/%C3%A9t%C3%A9", HttpStatusCode.BadRequest)]
    [InlineData("/rooms/it-relay/{129 chars}", HttpStatusCode.BadRequest)]
    public async Task Bad_type_or_name_is_refused_before_the_upgrade(string path, HttpStatusCode expected)
    {
        path = path.Replace("{129 chars}", new string('x', 129));
        var socket = new ClientWebSocket();
        var error = await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(new Uri(Server.WebSocket, path), CancellationToken.None));
        Assert.Contains(((int)expected).ToString(), error.Message);

        using var http = new HttpClient();
        var response = await http.GetAsync(new Uri(Server.Http, path));
        Assert.Equal(expected, response.StatusCode);
        Assert.Contains(expected == HttpStatusCode.NotFound ? "no room type" : "room name", await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_name_of_128_allowed_characters_is_accepted()
    {
        var name = ("AZaz09._~-" + Guid.NewGuid().ToString("N")).PadRight(128, '~');
        await using var client = await TestClient.ConnectAsync(Server.Room("echo", name));
        await client.SendAsync("ok");
        Assert.Equal("ok", await client.ReceiveTextAsync());
    }

    [Fact]
    public async Task Rejections_activate_no_room()
    {
        var name = NewName();
        using var http = new HttpClient();

        var plain = await http.GetAsync(new Uri(Server.Http, $"/rooms/it-relay/{name}"));
        Assert.Equal(HttpStatusCode.UpgradeRequired, plain.StatusCode);
        Assert.Equal("websocket", plain.Headers.Upgrade.ToString());

        var bad = await http.GetAsync(new Uri(Server.Http, $"/rooms/it-relay/{name}%20x"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.False(RecordingRelayRoom.Starts.ContainsKey(name));
        Assert.False(RecordingRelayRoom.Starts.ContainsKey(name + " x"));

        // The same name through a real upgrade does start the room: the check above could have failed.
        await using var client = await JoinRelayAsync(name).ContinueWith(t => t.Result.Client);
        Assert.Equal(1, RecordingRelayRoom.Starts[name]);
    }

    [Fact]
    public async Task Same_name_reaches_one_activation_and_different_names_never_share()
    {
        var name = NewName();
        var clients = new List<TestClient>();
        for (var i = 0; i < 5; i++)
        {
            clients.Add((await JoinRelayAsync(name)).Client);
        }

        var other = (await JoinRelayAsync(NewName())).Client;
        Assert.Equal(1, RecordingRelayRoom.Starts[name]);
        foreach (var client in clients.Append(other))
        {
            await client.DisposeAsync();
        }
    }

    [Fact]
    public async Task Every_client_sees_one_identical_order_with_nothing_lost()
    {
        const int clientCount = 10, senderCount = 5, perSender = 200, total = senderCount * perSender;
        var room = NewName();
        var clients = await TestClient.JoinRelayAsync(Enumerable.Range(0, clientCount).Select(_ => Server.Room("broadcast", room)));
        try
        {
            var watch = Stopwatch.StartNew();
            await OrderCheck.RunAsync(clients, senderCount, perSender);
            watch.Stop();

            // Nothing more arrives afterwards.
            await clients[0].SendAsync("end");
            foreach (var client in clients)
            {
                Assert.Equal("end", await client.ReceiveTextAsync());
            }

            var deliveries = (long)total * clientCount;
            output.WriteLine($"order test: {total} messages from {senderCount} senders to {clientCount} clients: {deliveries} deliveries in {watch.ElapsedMilliseconds} ms = {deliveries / watch.Elapsed.TotalSeconds:F0} deliveries/s, {total / watch.Elapsed.TotalSeconds:F0} sends/s");
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Oversize_message_closes_with_1009_and_the_room_hears_it()
    {
        var room = NewName();
        var (client, id) = await JoinRelayAsync(room);
        await using var _ = client;
        await client.SendAsync(new byte[1024 * 1024 + 1]);

        var closed = await client.WaitClosedAsync();
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, closed.Status);
        await Eventually(() => RecordingRelayRoom.ClosesOf(room).Any(c => c.Id == id && c.Code == 1009));
    }

    [Fact]
    public async Task A_message_of_exactly_the_limit_passes()
    {
        await using var client = await TestClient.ConnectAsync(Server.Room("echo", NewName()));
        var payload = new byte[1024 * 1024];
        payload[^1] = 42;
        await client.SendAsync(payload);
        var echoed = await client.ReceiveAsync();
        Assert.Equal(payload.Length, echoed.Data.Length);
        Assert.Equal(42, echoed.Data[^1]);
    }

    [Fact]
    public async Task Empty_and_fragmented_messages_arrive_whole_and_in_order()
    {
        await using var client = await TestClient.ConnectAsync(Server.Room("echo", NewName()));
        await client.SendAsync("");
        await client.Socket.SendAsync("frag"u8.ToArray(), WebSocketMessageType.Text, false, CancellationToken.None);
        await client.Socket.SendAsync(Array.Empty<byte>(), WebSocketMessageType.Text, false, CancellationToken.None);
        await client.Socket.SendAsync("mented"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
        await client.SendAsync(Array.Empty<byte>());
        await client.SendAsync("last");

        Assert.Equal("", await client.ReceiveTextAsync());
        Assert.Equal("fragmented", await client.ReceiveTextAsync());
        var emptyBinary = await client.ReceiveAsync();
        Assert.False(emptyBinary.IsText);
        Assert.Empty(emptyBinary.Data);
        Assert.Equal("last", await client.ReceiveTextAsync());
    }

    [Fact]
    public async Task Frames_of_every_length_encoding_reach_every_member_intact()
    {
        // The gateway encodes each broadcast frame once: 7-bit (< 126), 16-bit (< 64 KiB) and 64-bit lengths.
        var room = NewName();
        var (sender, _) = await JoinRelayAsync(room);
        var (other, _) = await JoinRelayAsync(room);
        await using var _1 = sender;
        await using var _2 = other;
        int[] sizes = [0, 1, 125, 126, 127, 65535, 65536, 300_000];
        foreach (var size in sizes)
        {
            var payload = new byte[size];
            Random.Shared.NextBytes(payload);
            await sender.SendAsync(payload);
            await sender.SendAsync(new string('t', size));
            foreach (var client in new[] { sender, other })
            {
                var binary = await client.ReceiveAsync();
                Assert.False(binary.IsText);
                Assert.Equal(payload, binary.Data);
                var text = await client.ReceiveAsync();
                Assert.True(text.IsText);
                Assert.Equal(size, text.Data.Length);
                Assert.All(text.Data, b => Assert.Equal((byte)'t', b));
            }
        }
    }

    [Fact]
    public async Task A_room_can_reject_a_connect_with_a_close_code_and_reason()
    {
        var room = NewName();
        await using var client = await TestClient.ConnectAsync(Server.Room("it-relay", room, "?deny=4003"));
        var closed = await client.WaitClosedAsync();
        Assert.Equal((WebSocketCloseStatus)4003, closed.Status);
        Assert.Equal("denied by the room", closed.Reason);

        // A rejected connection never was a member: no close hook for it.
        var (member, _) = await JoinRelayAsync(room);
        await member.CloseAsync();
        await Eventually(() => RecordingRelayRoom.ClosesOf(room).Count == 1);
        Assert.Single(RecordingRelayRoom.ClosesOf(room));
    }

    [Fact]
    public async Task The_room_hears_each_close_exactly_once_with_its_code()
    {
        var room = NewName();
        var (normal, normalId) = await JoinRelayAsync(room);
        var (custom, customId) = await JoinRelayAsync(room);
        var (dropped, droppedId) = await JoinRelayAsync(room);

        await normal.CloseAsync(WebSocketCloseStatus.NormalClosure, "done");
        await custom.CloseAsync((WebSocketCloseStatus)4321, "custom");
        dropped.Socket.Abort(); // network drop: no close frame

        await Eventually(() => RecordingRelayRoom.ClosesOf(room).Count == 3);
        var closes = RecordingRelayRoom.ClosesOf(room).ToDictionary(c => c.Id);
        Assert.Equal(1000, closes[normalId].Code);
        Assert.Equal("done", closes[normalId].Reason);
        Assert.Equal(4321, closes[customId].Code);
        Assert.Equal(1006, closes[droppedId].Code);

        // Still exactly three after the dust settles.
        var (probe, _) = await JoinRelayAsync(room);
        await probe.SendAsync("sync");
        Assert.Equal("sync", await probe.ReceiveTextAsync());
        Assert.Equal(3, RecordingRelayRoom.ClosesOf(room).Count);
        await probe.DisposeAsync();
        foreach (var client in new[] { normal, custom, dropped })
        {
            await client.DisposeAsync();
        }
    }

    [Fact]
    public async Task Chat_relays_named_messages_and_sends_history_to_joiners()
    {
        var room = NewName();
        await using var ada = await TestClient.ConnectAsync(Server.Room("chat", room));
        await ada.SendAsync("""{"type":"join","name":"ada"}""");
        Assert.Contains("\"history\"", await ada.ReceiveTextAsync());
        Assert.Contains("\"join\"", await ada.ReceiveTextAsync());

        await ada.SendAsync("""{"type":"message","text":"first!"}""");
        var relayed = await ada.ReceiveTextAsync();
        Assert.Contains("\"name\":\"ada\"", relayed);
        Assert.Contains("\"text\":\"first!\"", relayed);
        Assert.Contains("\"time\":", relayed);

        await using var bob = await TestClient.ConnectAsync(Server.Room("chat", room));
        await bob.SendAsync("""{"type":"join","name":"bob"}""");
        var history = await bob.ReceiveTextAsync();
        Assert.Contains("\"history\"", history);
        Assert.Contains("first!", history);
        var presence = await ada.ReceiveTextAsync();
        Assert.Contains("\"users\":[\"ada\",\"bob\"]", presence);
    }

    [Fact]
    public async Task Counter_increments_broadcasts_and_answers_GET_through_its_request_hook()
    {
        var name = NewName();
        await using var a = await TestClient.ConnectAsync(Server.Room("counter", name));
        await using var b = await TestClient.ConnectAsync(Server.Room("counter", name));
        await b.SendAsync("inc"); // b is a member once its own increment comes back
        Assert.Equal("1", await b.ReceiveTextAsync());
        await a.SendAsync("inc");
        await a.SendAsync("inc");
        Assert.Equal("2", await b.ReceiveTextAsync());
        Assert.Equal("3", await b.ReceiveTextAsync());

        using var http = new HttpClient();
        var response = await http.GetAsync(new Uri(Server.Http, $"/rooms/counter/{name}"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("3", await response.Content.ReadAsStringAsync());

        var post = await http.PostAsync(new Uri(Server.Http, $"/rooms/counter/{name}"), new StringContent("x"));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
        var below = await http.GetAsync(new Uri(Server.Http, $"/rooms/counter/{name}/deeper/path"));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, below.StatusCode);

        // A room without a request hook: 426 on its own path, 404 below it.
        Assert.Equal(HttpStatusCode.UpgradeRequired, (await http.GetAsync(new Uri(Server.Http, $"/rooms/echo/{name}"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(new Uri(Server.Http, $"/rooms/echo/{name}/x"))).StatusCode);
    }

    [Fact]
    public async Task A_room_s_before_connect_hook_refuses_with_an_http_status_before_the_upgrade()
    {
        var name = NewName();
        var before = GatekeeperRoom.Checks;
        using var refused = new ClientWebSocket();
        refused.Options.CollectHttpResponseDetails = true;
        await Assert.ThrowsAsync<WebSocketException>(() => refused.ConnectAsync(Server.Room("it-gatekeeper", name, "?pass=nope"), CancellationToken.None));
        Assert.Equal(HttpStatusCode.Forbidden, refused.HttpStatusCode);

        using var http = new HttpClient();
        var detail = await http.GetAsync(new Uri(Server.WebSocket.ToString().Replace("ws:", "http:") + $"rooms/it-gatekeeper/{name}?pass=nope"));
        Assert.Equal(HttpStatusCode.UpgradeRequired, detail.StatusCode); // plain HTTP is not a connect attempt

        await using var admitted = await TestClient.ConnectAsync(Server.Room("it-gatekeeper", name, "?pass=open-sesame"));
        Assert.Equal("in", await admitted.ReceiveTextAsync());
        Assert.Equal(before + 2, GatekeeperRoom.Checks);
    }

    [Fact]
    public async Task The_root_serves_the_chat_page()
    {
        using var http = new HttpClient();
        var response = await http.GetAsync(Server.Http);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("import { RoomSocket } from \"/client/roomactors.js\";", html); // the page speaks roomactors.v1
        Assert.Contains("new RoomSocket({ type: 'chat'", html);
    }

    internal static async Task Eventually(Func<bool> condition, TimeSpan? timeout = null)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            if (deadline.Elapsed > (timeout ?? TestClient.DefaultTimeout))
            {
                Assert.Fail("The condition did not become true in time.");
            }

            await Task.Delay(20);
        }
    }
}
