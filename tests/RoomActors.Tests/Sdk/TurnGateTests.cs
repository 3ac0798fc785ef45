using System.Collections.Concurrent;

namespace RoomActors.Tests.Sdk;

/// <summary>
/// <c>held</c>: a room whose connect hook, for a client with <c>?hold=KEY</c>, requests the <c>held-gate</c> room KEY,
/// which answers only when the test releases KEY (with <c>ok</c> or <c>reject</c>). Its clients' messages:
/// <c>say TEXT</c> broadcasts, <c>busy MS</c> holds the turn for MS milliseconds (not awaiting another room).
/// </summary>
[Room("held")]
public sealed class HeldRoom : Room
{
    /// <summary>The answers the test gives, by key; created by whichever comes first (the test or the gate room).</summary>
    public static readonly ConcurrentDictionary<string, TaskCompletionSource<string>> Holds = new();

    /// <summary>How many requests each gate key received.</summary>
    public static readonly ConcurrentDictionary<string, int> Asked = new();

    public static TaskCompletionSource<string> Hold(string key) =>
        Holds.GetOrAdd(key, _ => new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously));

    protected override async Task OnConnectAsync(Connection connection, ConnectContext context)
    {
        if (context.Query["hold"] is { } key)
        {
            var answer = await GetRoom("held-gate", key).RequestAsync("hold", TimeSpan.FromSeconds(30));
            if (answer?.Text == "reject")
            {
                context.Reject(4000, "refused after the hold");
                return;
            }
        }

        connection.Send($"welcome {connection.Id}");
    }

    protected override async Task OnMessageAsync(Connection sender, RoomMessage message)
    {
        var words = message.Text.Split(' ', 2);
        switch (words[0])
        {
            case "say":
                Broadcast($"{sender.Id}: {words[1]}");
                break;
            case "busy":
                await Task.Delay(int.Parse(words[1])); // holds the turn: nothing else runs meanwhile
                break;
            case "tell":
                // One-way: first to a gate room that holds its turn until released, then to another held room.
                var (key, room) = (words[1].Split(' ')[0], words[1].Split(' ')[1]);
                GetRoom("held-gate", key).Send("hold");
                GetRoom("held", room).Send($"from {RoomName}");
                break;
        }
    }

    protected override Task OnRoomMessageAsync(RoomCall call)
    {
        Broadcast($"heard {call.Text}");
        return Task.CompletedTask;
    }

    protected override Task OnCloseAsync(Connection connection, int code, string reason)
    {
        Broadcast($"closed {connection.Id} {code} {reason}");
        return Task.CompletedTask;
    }
}

/// <summary>Answers a <c>held</c> room's request when the test releases its key.</summary>
[Room("held-gate")]
public sealed class HeldGateRoom : Room
{
    protected override async Task OnRoomMessageAsync(RoomCall call)
    {
        HeldRoom.Asked.AddOrUpdate(RoomName, 1, (_, n) => n + 1);
        call.Reply(await HeldRoom.Hold(RoomName).Task.WaitAsync(TimeSpan.FromSeconds(30)));
    }
}

/// <summary>
/// The turn gate: while a hook awaits another room, the room's other events run (one at a time); a connect hook that
/// awaits has not joined its connection; a gateway that asks again gets the first answer; a close that comes meanwhile
/// runs the close hook once, after the connect hook; and a room whose events wait too long refuses new connects (1013).
/// The test plays the gateway, on an Orleans test cluster.
/// </summary>
[Collection(SdkCollection.Name)]
public sealed class TurnGateTests(SdkClusterFixture fixture)
{
    private IClusterClient Client => fixture.Cluster.Client;

    private static string NewName() => "g-" + Guid.NewGuid().ToString("N")[..12];

    private IRoomGrain Room(string name) => Client.GetGrain<IRoomGrain>(RoomGrainIds.Of("held", name));

    private static async Task WaitUntilAskedAsync(string key)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!HeldRoom.Asked.ContainsKey(key))
        {
            Assert.True(DateTime.UtcNow < until, $"the gate room {key} was never asked");
            await Task.Delay(10);
        }
    }

    private static IEnumerable<RoomOp> Ops(RecordingGateway gateway) => gateway.All.ToArray().SelectMany(d => d.Ops);

    private static IEnumerable<string> Texts(RecordingGateway gateway) =>
        Ops(gateway).Where(o => o.Kind == RoomOpKind.Send).Select(RecordingGateway.TextOf);

    private static async Task WaitForTextAsync(RecordingGateway gateway, string text)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!Texts(gateway).Contains(text))
        {
            Assert.True(DateTime.UtcNow < until, $"'{text}' never arrived; got: {string.Join(" | ", Texts(gateway))}");
            await Task.Delay(10);
        }
    }

    /// <summary>A room with member c1, and c2's connect, whose hook now waits for the gate room <c>key</c>.</summary>
    private async Task<(string Room, string Key, RecordingGateway Gateway, Task<ConnectResult> Pending)> MemberAndHeldConnectAsync()
    {
        var (room, key) = (NewName(), NewName());
        var gateway = new RecordingGateway(Client);
        Assert.True((await Room(room).Connect(gateway.Connect("c1"))).Accepted);
        var pending = Room(room).Connect(gateway.Connect("c2", $"hold={key}"));
        await WaitUntilAskedAsync(key);
        return (room, key, gateway, pending);
    }

    [Fact]
    public async Task While_a_connect_hook_awaits_another_room_the_rooms_other_events_run_and_do_not_reach_that_connection()
    {
        var (room, key, gateway, pending) = await MemberAndHeldConnectAsync();

        // Messages and another connect run while c2's hook waits (before, they queued behind it).
        await Room(room).SendBatchAsync(gateway.Batch(RecordingGateway.Text("c1", "say while c2 waits"))).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True((await Room(room).Connect(gateway.Connect("c3")).WaitAsync(TimeSpan.FromSeconds(10))).Accepted);
        await WaitForTextAsync(gateway, "c1: while c2 waits");
        Assert.False(pending.IsCompleted);
        Assert.DoesNotContain(Ops(gateway), o => o.ConnectionId == "c2");

        HeldRoom.Hold(key).SetResult("ok");
        Assert.True((await pending.WaitAsync(TimeSpan.FromSeconds(10))).Accepted);
        await WaitForTextAsync(gateway, "welcome c2");

        // c2 joined after the message that ran while it waited, so it is not one of its recipients (not even on a resume).
        var said = Ops(gateway).Single(o => o.Kind == RoomOpKind.Send && RecordingGateway.TextOf(o) == "c1: while c2 waits");
        var join = Ops(gateway).Single(o => o.Kind == RoomOpKind.Join && o.ConnectionId == "c2");
        Assert.True(join.Seq >= said.Seq, $"c2 joined at {join.Seq}, before the message numbered {said.Seq}");
    }

    [Fact]
    public async Task A_connect_refused_after_its_hook_awaited_never_joins_and_gets_no_close_op()
    {
        var (room, key, gateway, pending) = await MemberAndHeldConnectAsync();
        await Room(room).SendBatchAsync(gateway.Batch(RecordingGateway.Text("c1", "say meanwhile")));

        HeldRoom.Hold(key).SetResult("reject");
        var result = await pending.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(result.Accepted);
        Assert.Equal((4000, "refused after the hold"), (result.CloseCode, result.Reason));

        // A message after the refusal: everything the room sent before it has arrived, and none of it was for c2.
        await Room(room).SendBatchAsync(gateway.Batch(RecordingGateway.Text("c1", "say after")));
        await WaitForTextAsync(gateway, "c1: after");
        Assert.DoesNotContain(Ops(gateway), o => o.ConnectionId == "c2");
        Assert.DoesNotContain(Texts(gateway), t => t.Contains("c2"));
    }

    [Fact]
    public async Task A_gateway_asking_again_while_the_connect_hook_awaits_gets_the_same_answer_and_the_hook_runs_once()
    {
        var (room, key) = (NewName(), NewName());
        var gateway = new RecordingGateway(Client);
        var first = Room(room).Connect(gateway.Connect("c2", $"hold={key}"));
        await WaitUntilAskedAsync(key);
        var again = Room(room).Connect(gateway.Connect("c2", $"hold={key}"));
        await Task.Delay(200);
        Assert.False(again.IsCompleted, "the second ask was answered before the hook decided");

        HeldRoom.Hold(key).SetResult("reject");
        var answers = await Task.WhenAll(first, again).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.All(answers, a => Assert.Equal((false, 4000), (a.Accepted, a.CloseCode)));
        Assert.Equal(1, HeldRoom.Asked[key]);
    }

    [Fact]
    public async Task A_connection_closed_while_its_connect_hook_awaits_is_refused_with_that_close_and_its_close_hook_runs_once_after()
    {
        var (room, key, gateway, pending) = await MemberAndHeldConnectAsync();

        var operations = Client.GetGrain<IRoomOperations>(RoomGrainIds.Of("held", room));
        Assert.True(await operations.CloseConnection("c2", 4003, "banned", "test"));
        Assert.DoesNotContain(Texts(gateway), t => t.StartsWith("closed c2", StringComparison.Ordinal)); // not before its connect hook ended

        HeldRoom.Hold(key).SetResult("ok");
        var result = await pending.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal((false, 4003, "banned"), (result.Accepted, result.CloseCode, result.Reason));
        await WaitForTextAsync(gateway, "closed c2 4003 banned");
        await Room(room).SendBatchAsync(gateway.Batch(RecordingGateway.Text("c1", "say after")));
        await WaitForTextAsync(gateway, "c1: after");
        Assert.Single(Texts(gateway), t => t.StartsWith("closed c2", StringComparison.Ordinal));
        Assert.DoesNotContain("welcome c2", Texts(gateway));
    }

    [Fact]
    public async Task Turns_that_waited_for_each_other_are_saved_and_sent_together_in_their_order()
    {
        var room = NewName();
        var listener = new RecordingGateway(Client);
        Assert.True((await Room(room).Connect(listener.Connect("l"))).Accepted);
        var senders = Enumerable.Range(1, 5).Select(_ => new RecordingGateway(Client)).ToList();
        for (var i = 0; i < senders.Count; i++)
        {
            Assert.True((await Room(room).Connect(senders[i].Connect($"s{i + 1}"))).Accepted);
        }

        await WaitForTextAsync(listener, "welcome l");
        var before = listener.All.Count;

        // s1 holds the turn; the others' messages wait for it, one after the other.
        var busy = Room(room).SendBatchAsync(senders[0].Batch(RecordingGateway.Text("s1", "busy 500")));
        await Task.Delay(100);
        var says = new List<Task<ReceiveResult>>();
        for (var i = 1; i < senders.Count; i++)
        {
            says.Add(Room(room).SendBatchAsync(senders[i].Batch(RecordingGateway.Text($"s{i + 1}", $"say {i + 1}"))));
            await Task.Delay(20); // in this order
        }

        await Task.WhenAll([busy, .. says]).WaitAsync(TimeSpan.FromSeconds(10));
        await WaitForTextAsync(listener, "s5: 5");

        // One save for the four turns that waited (the first ran alone): the listener's gateway got one delivery with all four.
        var after = listener.All.Skip(before).Where(d => d.Ops.Any(o => o.Kind == RoomOpKind.Send)).ToList();
        Assert.Single(after);
        Assert.Equal(["s2: 2", "s3: 3", "s4: 4", "s5: 5"], after[0].Ops.Select(RecordingGateway.TextOf));

        // And each sender's answer carried what the room sent its gateway in that group.
        for (var i = 1; i < senders.Count; i++)
        {
            Assert.Contains($"s{i + 1}: {i + 1}", Texts(senders[i]));
        }
    }

    [Fact]
    public async Task A_one_way_message_to_a_busy_room_does_not_hold_up_the_next_one_to_another_room()
    {
        var (a, b, key) = (NewName(), NewName(), NewName());
        var gateway = new RecordingGateway(Client);
        Assert.True((await Room(a).Connect(gateway.Connect("c1"))).Accepted);
        Assert.True((await Room(b).Connect(gateway.Connect("c2"))).Accepted);

        await Room(a).SendBatchAsync(gateway.Batch(RecordingGateway.Text("c1", $"tell {key} {b}")));
        await WaitUntilAskedAsync(key); // the gate room's turn now waits for the test
        await WaitForTextAsync(gateway, $"heard from {a}"); // before: it waited behind the gate room's turn
        HeldRoom.Hold(key).SetResult("ok");
    }

    [Fact]
    public async Task A_room_whose_events_wait_past_BusyAfter_refuses_new_connects_with_1013_and_takes_them_again_after()
    {
        var room = NewName();
        var (one, two) = (new RecordingGateway(Client), new RecordingGateway(Client));
        Assert.True((await Room(room).Connect(one.Connect("c1"))).Accepted);
        Assert.True((await Room(room).Connect(two.Connect("c2"))).Accepted);

        // c1's message holds the turn 3.5 s; c2's waits behind it from the start. The default BusyAfter is 2 s.
        var busy = Room(room).SendBatchAsync(one.Batch(RecordingGateway.Text("c1", "busy 3500")));
        await Task.Delay(100);
        var queued = Room(room).SendBatchAsync(two.Batch(RecordingGateway.Text("c2", "say queued")));
        await Task.Delay(TimeSpan.FromSeconds(2.4));

        var refused = await Room(room).Connect(one.Connect("c3")).WaitAsync(TimeSpan.FromSeconds(1));
        Assert.Equal((false, CloseCodes.TryAgainLater), (refused.Accepted, refused.CloseCode));
        Assert.Matches(@"^the room is busy; try again in \d+ s$", refused.Reason);

        await Task.WhenAll(busy, queued).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True((await Room(room).Connect(one.Connect("c4"))).Accepted); // nobody waits now
        await WaitForTextAsync(one, "welcome c4");
        Assert.Contains("c2: queued", Texts(two)); // members' messages are never refused
    }
}
