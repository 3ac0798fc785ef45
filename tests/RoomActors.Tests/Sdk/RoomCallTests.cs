namespace RoomActors.Tests.Sdk;

/// <summary>Rooms calling rooms and reaching users wherever they are, on an Orleans test cluster; the test plays the gateway.</summary>
[Collection(SdkCollection.Name)]
public sealed class RoomCallTests(SdkClusterFixture fixture)
{
    private IClusterClient Client => fixture.Cluster.Client;

    private static string NewName() => "c-" + Guid.NewGuid().ToString("N")[..12];

    private IRoomGrain Room(string name) => Client.GetGrain<IRoomGrain>(RoomGrainIds.Of("calls", name));

    private static async Task ConnectAsync(IRoomGrain room, RecordingGateway gateway, string id, string query = "")
    {
        Assert.True((await room.Connect(gateway.Connect(id, query))).Accepted);
        var join = await gateway.NextAsync();
        Assert.Contains(join.Ops, op => op.Kind == RoomOpKind.Join && op.ConnectionId == id);
    }

    /// <summary>
    /// The texts of the sends the gateway receives next, until <paramref name="count"/> of them came, in each room's order
    /// (deliveries by call may arrive out of order; a gateway orders them by number, as this does).
    /// </summary>
    private static async Task<List<string>> TextsAsync(RecordingGateway gateway, int count)
    {
        var deliveries = new List<RoomDelivery>();
        while (deliveries.Sum(d => d.Ops.Count(o => o.Kind == RoomOpKind.Send)) < count)
        {
            deliveries.Add(await gateway.NextAsync());
        }

        return deliveries.OrderBy(d => d.Room.ToString()).ThenBy(d => d.Number)
            .SelectMany(d => d.Ops.Where(o => o.Kind == RoomOpKind.Send).Select(RecordingGateway.TextOf)).ToList();
    }

    [Fact]
    public async Task A_request_gets_the_other_rooms_reply_and_names_the_caller()
    {
        var (a, b) = (NewName(), NewName());
        var gateway = new RecordingGateway(Client);
        await ConnectAsync(Room(a), gateway, "c1");
        await Room(a).SendBatchAsync(gateway.Batch(RecordingGateway.Text("c1", $"ask {b}"), RecordingGateway.Text("c1", $"ask {b}")));
        Assert.Equal([$"reply {b} asked 1 from {a}", $"reply {b} asked 2 from {a}"], await TextsAsync(gateway, 2));
    }

    [Fact]
    public async Task One_way_messages_arrive_in_the_order_sent_within_and_across_turns()
    {
        var (a, b) = (NewName(), NewName());
        var gateway = new RecordingGateway(Client);
        await ConnectAsync(Room(a), gateway, "c1");
        await ConnectAsync(Room(b), gateway, "c2");
        var words = Enumerable.Range(1, 20).Select(i => $"w{i}").ToList();
        await Room(a).SendBatchAsync(gateway.Batch(RecordingGateway.Text("c1", $"tell {b} {string.Join(' ', words[..10])}")));
        await Room(a).SendBatchAsync(gateway.Batch(RecordingGateway.Text("c1", $"tell {b} {string.Join(' ', words[10..])}")));
        Assert.Equal(words.Select(w => $"heard {w} from calls/{a} request=False"), await TextsAsync(gateway, 20));
    }

    [Fact]
    public async Task Two_rooms_requesting_each_other_at_the_same_time_both_get_their_answer()
    {
        // Each room's turn waits until the other's has started, then requests the other: both turns are inside their
        // hooks, awaiting each other. Without the turn released while a request is out, both would wait until the
        // request timeout (10 s) and fail.
        var (a, b, key) = (NewName(), NewName(), Guid.NewGuid().ToString("N"));
        var gateway = new RecordingGateway(Client);
        await ConnectAsync(Room(a), gateway, "c1");
        await ConnectAsync(Room(b), gateway, "c2");
        var started = DateTime.UtcNow;
        await Task.WhenAll(
            Room(a).SendBatchAsync(gateway.Batch(RecordingGateway.Text("c1", $"cross {b} {key}"))),
            Room(b).SendBatchAsync(gateway.Batch(RecordingGateway.Text("c2", $"cross {a} {key}"))));
        var texts = await TextsAsync(gateway, 2);
        Assert.Equal(new[] { $"crossed pong from {a}", $"crossed pong from {b}" }.Order(), texts.Order());
        Assert.True(DateTime.UtcNow - started < RoomActors.Room.DefaultRequestTimeout, "the requests waited for the timeout");
    }

    [Fact]
    public async Task A_request_whose_hook_throws_fails_with_the_rooms_name_and_the_reason()
    {
        var (a, b) = (NewName(), NewName());
        var gateway = new RecordingGateway(Client);
        await ConnectAsync(Room(a), gateway, "c1");
        await Room(a).SendBatchAsync(gateway.Batch(RecordingGateway.Text("c1", $"fail {b}")));
        var text = Assert.Single(await TextsAsync(gateway, 1));
        Assert.Equal($"failed Room calls/{b} failed to answer the request: InvalidOperationException: no such thing", text);
    }

    [Fact]
    public async Task A_user_is_reached_and_closed_in_every_room_that_holds_one_of_its_connections()
    {
        var (a, b, c) = (NewName(), NewName(), NewName());
        var user = "u-" + Guid.NewGuid().ToString("N")[..8];
        var gateway = new RecordingGateway(Client);
        await ConnectAsync(Room(a), gateway, "ua", $"?user={user}");
        await ConnectAsync(Room(b), gateway, "ub", $"?user={user}");
        await ConnectAsync(Room(b), gateway, "other");
        await ConnectAsync(Room(c), gateway, "sender");

        // Registration leaves after the connect turns: wait until the directory lists both.
        var find = $"find {user}";
        var expected = $"found calls/{a}/ua,calls/{b}/ub";
        for (var i = 0; i < 50; i++)
        {
            await Room(c).SendBatchAsync(gateway.Batch(RecordingGateway.Text("sender", find)));
            if ((await TextsAsync(gateway, 1))[0] == expected)
            {
                break;
            }

            await Task.Delay(100);
        }

        await Room(c).SendBatchAsync(gateway.Batch(RecordingGateway.Text("sender", $"whisper {user} psst")));
        var whispers = new List<RoomOp>();
        while (whispers.Count < 2)
        {
            whispers.AddRange((await gateway.NextAsync()).Ops.Where(o => o.Kind == RoomOpKind.Send));
        }

        Assert.All(whispers, op => Assert.Equal("psst", RecordingGateway.TextOf(op)));
        Assert.Equal(["ua", "ub"], whispers.Select(o => Assert.Single(o.Ids!)).Order());

        await Room(c).SendBatchAsync(gateway.Batch(RecordingGateway.Text("sender", $"kick {user}")));
        var closes = new List<RoomOp>();
        while (closes.Count < 2)
        {
            closes.AddRange((await gateway.NextAsync()).Ops.Where(o => o.Kind == RoomOpKind.Close));
        }

        Assert.Equal(["ua", "ub"], closes.Select(o => o.ConnectionId!).Order());
        Assert.All(closes, op => Assert.Equal((4003, "kicked"), (op.CloseCode, op.CloseReason)));

        // The rooms unregister the closed connections: the directory ends empty, and the bystander is untouched.
        for (var i = 0; i < 50; i++)
        {
            await Room(c).SendBatchAsync(gateway.Batch(RecordingGateway.Text("sender", find)));
            if ((await TextsAsync(gateway, 1))[0] == "found ")
            {
                return;
            }

            await Task.Delay(100);
        }

        Assert.Fail("the directory still lists the closed connections");
    }

    [Fact]
    public async Task A_connect_hook_cannot_rename_a_verified_user()
    {
        var gateway = new RecordingGateway(Client);
        var request = gateway.Connect("v1", "?user=mallory") with { UserId = "ada" };
        var result = await Room(NewName()).Connect(request);
        Assert.False(result.Accepted);
        Assert.Equal(CloseCodes.InternalError, result.CloseCode);
    }
}
