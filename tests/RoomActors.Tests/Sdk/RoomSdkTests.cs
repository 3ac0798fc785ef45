using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using Orleans.TestingHost;

namespace RoomActors.Tests.Sdk;

/// <summary>The room SDK's semantics on an Orleans test cluster; the test plays the gateway.</summary>
[Collection(SdkCollection.Name)]
public sealed class RoomSdkTests(SdkClusterFixture fixture)
{
    private IClusterClient Client => fixture.Cluster.Client;

    private static string NewName() => "r-" + Guid.NewGuid().ToString("N")[..12];

    private IRoomGrain Room(string type, string name) => Client.GetGrain<IRoomGrain>(RoomGrainIds.Of(type, name));

    /// <summary>Connects and takes the delivery that carries the join.</summary>
    private static async Task<RoomDelivery> ConnectAsync(IRoomGrain room, RecordingGateway gateway, string id, string query = "")
    {
        var result = await room.Connect(gateway.Connect(id, query));
        Assert.True(result.Accepted);
        var delivery = await gateway.NextAsync();
        Assert.Contains(delivery.Ops, op => op.Kind == RoomOpKind.Join && op.ConnectionId == id);
        return delivery;
    }

    private static IEnumerable<RoomOp> Sends(RoomDelivery delivery) => delivery.Ops.Where(op => op.Kind == RoomOpKind.Send);

    /// <summary>Hibernates the room (its connections are durable) and waits until it has left memory.</summary>
    private async Task HibernateAsync(GrainId id)
    {
        Assert.Equal(HibernateOutcome.Hibernating, (await Client.GetGrain<IRoomOperations>(id).Hibernate("test")).Outcome);
        await LeftMemoryAsync(id);
    }

    /// <summary>Waits until the room has left memory (at most 5 s).</summary>
    private async Task LeftMemoryAsync(GrainId id)
    {
        var management = Client.GetGrain<IManagementGrain>(0);
        for (var i = 0; i < 100 && (await management.GetDetailedGrainStatistics()).Any(s => s.GrainId == id); i++)
        {
            await Task.Delay(50);
        }

        Assert.DoesNotContain(await management.GetDetailedGrainStatistics(), s => s.GrainId == id);
    }

    /// <summary>A hook room with connection c1 of a recording gateway, asleep (hibernated: its minute reminder registered).</summary>
    private async Task<(string Name, IRoomGrain Room, RecordingGateway Gateway, GrainId Id)> SleepingRoomAsync()
    {
        var name = NewName();
        var room = Room("sdk-hooks", name);
        var gateway = new RecordingGateway(Client);
        await ConnectAsync(room, gateway, "c1");
        var id = RoomGrainIds.Of("sdk-hooks", name);
        await HibernateAsync(id);
        return (name, room, gateway, id);
    }

    /// <summary>The sleep reminder's minute tick, as the reminder service delivers it (it wakes a sleeping room).</summary>
    private Task SleepTickAsync(GrainId id) =>
        Client.GetGrain<IRemindable>(id).ReceiveReminder("roomactors-sleep", new TickStatus(DateTime.UtcNow, TimeSpan.FromMinutes(1), DateTime.UtcNow));

    [Fact]
    public async Task Hooks_see_type_name_query_headers_text_and_binary_in_order()
    {
        var name = NewName();
        var room = Room("sdk-hooks", name);
        var gateway = new RecordingGateway(Client);
        await room.Connect(gateway.Connect("c1", "?x=42", new() { ["user-agent"] = "tests" }));
        await room.SendBatchAsync(gateway.Batch(
            RecordingGateway.Text("c1", "héllo"),
            InboundEvent.Message("c1", new Payload(false, [1, 2, 3])),
            RecordingGateway.Text("c1", "second")));

        Assert.Equal(
            [$"start sdk-hooks/{name}", "connect c1 x=42 ua=tests", "text c1 héllo", "binary c1 3", "text c1 second"],
            HookRoom.LogOf(name));
    }

    [Fact]
    public async Task Deliveries_are_numbered_per_gateway_session_and_the_join_comes_first()
    {
        var room = Room("sdk-hooks", NewName());
        var gateway = new RecordingGateway(Client);
        var first = await ConnectAsync(room, gateway, "c1");
        Assert.Equal(1, first.Number);
        Assert.Equal(gateway.Session, first.Session);
        Assert.Equal(RoomOpKind.Join, first.Ops[0].Kind);

        await room.SendBatchAsync(gateway.Batch(RecordingGateway.Text("c1", "me one")));
        var second = await gateway.NextAsync();
        Assert.Equal(2, second.Number);
        Assert.Equal(first.Epoch, second.Epoch);
        var send = Assert.Single(Sends(second));
        Assert.Equal(TargetKind.Only, send.Target);
        Assert.Equal(["c1"], send.Ids!);
        Assert.Equal("one", RecordingGateway.TextOf(send));
    }

    [Fact]
    public async Task The_answer_to_a_batch_carries_the_callers_delivery_unless_the_gateway_cannot_take_it()
    {
        var room = Room("sdk-hooks", NewName());
        var gateway = new RecordingGateway(Client);
        await ConnectAsync(room, gateway, "c1");

        // A current gateway: the delivery comes back with the answer, and no call carries it.
        var answered = await room.Receive(gateway.Batch(RecordingGateway.Text("c1", "me one")));
        Assert.Equal(2, answered.Delivery?.Number);
        Assert.Equal("one", RecordingGateway.TextOf(Assert.Single(Sends(answered.Delivery!))));
        Assert.True(await gateway.QuietAsync(TimeSpan.FromMilliseconds(300)));

        // An older gateway (no DeliveryInAnswer): the same delivery comes by call, numbered next.
        var old = await room.Receive(new InboundBatch
        {
            Gateway = gateway.Reference, Session = gateway.Session, BatchNumber = 100, Events = [RecordingGateway.Text("c1", "me two")],
        });
        Assert.Null(old.Delivery);
        var called = await gateway.NextAsync();
        Assert.Equal(3, called.Number);
        Assert.Equal("two", RecordingGateway.TextOf(Assert.Single(Sends(called))));
    }

    [Fact]
    public async Task A_batch_is_one_turn_and_one_delivery_per_gateway_with_each_payload_once()
    {
        var room = Room("sdk-hooks", NewName());
        var a = new RecordingGateway(Client);
        var b = new RecordingGateway(Client);
        await ConnectAsync(room, a, "a1");
        await ConnectAsync(room, a, "a2");
        await ConnectAsync(room, b, "b1");
        await ConnectAsync(room, b, "b2");

        // Three broadcasts in one batch: one delivery to each gateway, each payload once, not once per connection.
        await room.SendBatchAsync(a.Batch(RecordingGateway.Text("a1", "all x"), RecordingGateway.Text("a2", "all y"), RecordingGateway.Text("a1", "others z")));
        foreach (var gateway in new[] { a, b })
        {
            var delivery = await gateway.NextAsync();
            var sends = Sends(delivery).ToList();
            Assert.Equal(["x", "y", "z"], sends.Select(RecordingGateway.TextOf));
            Assert.Equal([TargetKind.All, TargetKind.All, TargetKind.AllExcept], sends.Select(s => s.Target));
            Assert.Equal(["a1"], sends[2].Ids!);
            Assert.True(await gateway.QuietAsync(TimeSpan.FromMilliseconds(300)), "one batch gave more than one delivery");
        }

        // A send to one connection goes to its gateway only.
        await room.SendBatchAsync(b.Batch(RecordingGateway.Text("b2", "me private")));
        var mine = Assert.Single(Sends(await b.NextAsync()));
        Assert.Equal(["b2"], mine.Ids!);
        Assert.True(await a.QuietAsync(TimeSpan.FromMilliseconds(300)));
    }

    [Fact]
    public async Task The_close_hook_runs_exactly_once_for_every_way_a_connection_ends()
    {
        var name = NewName();
        var room = Room("sdk-hooks", name);
        var gateway = new RecordingGateway(Client);
        await ConnectAsync(room, gateway, "c1");
        await ConnectAsync(room, gateway, "c2");

        // Reported twice (e.g. a retry): one close.
        await room.SendBatchAsync(gateway.Batch(InboundEvent.Closed("c1", 1000, "done")));
        await room.SendBatchAsync(gateway.Batch(InboundEvent.Closed("c1", 1006, "again")));

        // The room closes c2: a Close op for the gateway, the hook once, and the gateway's later report is ignored.
        await room.SendBatchAsync(gateway.Batch(RecordingGateway.Text("c2", "kick")));
        var delivery = await gateway.NextAsync();
        var close = Assert.Single(delivery.Ops, op => op.Kind == RoomOpKind.Close);
        Assert.Equal(("c2", 4001, "bye"), (close.ConnectionId, close.CloseCode, close.CloseReason));
        await room.SendBatchAsync(gateway.Batch(InboundEvent.Closed("c2", 4001, "bye")));

        var closes = HookRoom.LogOf(name).Where(l => l.StartsWith("close", StringComparison.Ordinal)).ToList();
        Assert.Equal(["close c1 1000 done", "close c2 4001 bye"], closes);
    }

    [Fact]
    public async Task A_close_from_the_request_or_before_connect_hook_runs_the_close_hook_in_that_turn()
    {
        var name = NewName();
        var room = Room("sdk-hooks", name);
        var gateway = new RecordingGateway(Client);
        await ConnectAsync(room, gateway, "c1");
        await ConnectAsync(room, gateway, "c2");

        // The close hook has run by the time the call returns: it is part of the request's turn.
        Assert.Equal("ok", Encoding.UTF8.GetString((await room.Request(new RoomHttpRequest { Method = "POST", Path = "close/c1" })).Body));
        Assert.Contains("close c1 4002 by request", HookRoom.LogOf(name));
        var closed = await gateway.NextAsync();
        Assert.Contains(closed.Ops, op => op.Kind == RoomOpKind.Close && op.ConnectionId == "c1" && op.CloseCode == 4002);

        Assert.True((await room.Admit(gateway.Connect("c3", "?kick=c2"))).Allowed);
        Assert.Contains("close c2 4002 by before-connect", HookRoom.LogOf(name));
        closed = await gateway.NextAsync();
        Assert.Contains(closed.Ops, op => op.Kind == RoomOpKind.Close && op.ConnectionId == "c2");

        // Each exactly once.
        Assert.Equal(2, HookRoom.LogOf(name).Count(l => l.StartsWith("close", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_rejected_connect_never_becomes_a_member_and_gets_no_close_hook()
    {
        var name = NewName();
        var room = Room("sdk-hooks", name);
        var gateway = new RecordingGateway(Client);
        var result = await room.Connect(gateway.Connect("bad", "?reject=4003"));
        Assert.Equal(new ConnectResult(false, 4003, "full"), result);

        // The answer refuses it (the gateway closes the socket with it): it never joined, so no op names it.
        await ConnectAsync(room, gateway, "good");
        await room.SendBatchAsync(gateway.Batch(RecordingGateway.Text("good", "connections")));
        Assert.Equal("good", RecordingGateway.TextOf(Sends(await gateway.NextAsync()).Last()));
        Assert.DoesNotContain(HookRoom.LogOf(name), l => l.StartsWith("close bad", StringComparison.Ordinal));
        Assert.DoesNotContain(gateway.All.SelectMany(d => d.Ops), op => op.ConnectionId == "bad");
    }

    [Fact]
    public async Task Tags_are_set_at_connect_and_find_connections()
    {
        var room = Room("sdk-hooks", NewName());
        var gateway = new RecordingGateway(Client);
        await ConnectAsync(room, gateway, "c1", "?tag=red");
        await ConnectAsync(room, gateway, "c2", "?tag=blue");
        await ConnectAsync(room, gateway, "c3", "?tag=red");

        async Task<string> AskAsync(string id, string text)
        {
            await room.SendBatchAsync(gateway.Batch(RecordingGateway.Text(id, text)));
            return RecordingGateway.TextOf(Sends(await gateway.NextAsync()).Last());
        }

        Assert.Equal("c1,c3", await AskAsync("c2", "tagged red"));
        Assert.Equal("c2", await AskAsync("c1", "tagged c2")); // the id is a tag too
        Assert.Equal("c1,red", await AskAsync("c1", "tags"));
        Assert.StartsWith("error: Tags are set in the connect hook only", await AskAsync("c1", "add-tag green"));
    }

    [Fact]
    public async Task Connection_state_round_trips_and_over_16_KiB_is_refused()
    {
        var room = Room("sdk-hooks", NewName());
        var gateway = new RecordingGateway(Client);
        await ConnectAsync(room, gateway, "c1");
        await ConnectAsync(room, gateway, "c2");

        await room.SendBatchAsync(gateway.Batch(RecordingGateway.Text("c1", "set remembered")));
        await room.SendBatchAsync(gateway.Batch(RecordingGateway.Text("c2", "get c1")));
        RoomDelivery answer;
        do
        {
            answer = await gateway.NextAsync();
        }
        while (!Sends(answer).Any());

        Assert.Equal("remembered", RecordingGateway.TextOf(Sends(answer).Last()));

        await room.SendBatchAsync(gateway.Batch(RecordingGateway.Text("c1", "big")));
        var refused = Sends(await gateway.NextAsync()).Last();
        Assert.Contains("exceeds the limit of 16384 bytes", RecordingGateway.TextOf(refused));
    }

    [Fact]
    public async Task Connection_state_read_back_is_a_copy_and_only_SetState_changes_it()
    {
        var room = Room("sdk-hooks", NewName());
        var gateway = new RecordingGateway(Client);
        await ConnectAsync(room, gateway, "c1");
        await room.SendBatchAsync(gateway.Batch(RecordingGateway.Text("c1", "box kept"), RecordingGateway.Text("c1", "poke")));
        Assert.Equal("kept", RecordingGateway.TextOf(Sends(await gateway.NextAsync()).Last()));
    }

    [Fact]
    public async Task Events_of_an_unknown_connection_are_not_processed_and_are_reported_back()
    {
        var name = NewName();
        var room = Room("sdk-hooks", name);
        var gateway = new RecordingGateway(Client);
        await ConnectAsync(room, gateway, "known");
        var result = await room.SendBatchAsync(gateway.Batch(RecordingGateway.Text("stranger", "all hi"), RecordingGateway.Text("known", "all ok")));
        Assert.Equal(["stranger"], result.Unknown!);
        Assert.DoesNotContain(HookRoom.LogOf(name), l => l.Contains("stranger", StringComparison.Ordinal));

        // There is no way to take a connection in behind the room's back: the room's durable membership is the only
        // way back. A connection the room closed stays closed: no second close hook, nothing processed for it.
        await room.SendBatchAsync(gateway.Batch(RecordingGateway.Text("known", "kick")));
        var again = await room.SendBatchAsync(gateway.Batch(RecordingGateway.Text("known", "all still here?")));
        Assert.Equal(["known"], again.Unknown!);
        var renewed = await room.SendBatchAsync(new InboundBatch
        {
            Gateway = gateway.Reference, Session = gateway.Session, BatchNumber = 1000, Events = [], Renew = ["known"],
        });
        Assert.Equal(["known"], renewed.Unknown!);
        Assert.Single(HookRoom.LogOf(name), l => l.StartsWith("close known", StringComparison.Ordinal));
        Assert.DoesNotContain(HookRoom.LogOf(name), l => l.Contains("still here", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_connect_asked_again_for_a_member_sends_the_join_again_and_runs_no_hook()
    {
        var name = NewName();
        var room = Room("sdk-hooks", name);
        var gateway = new RecordingGateway(Client);
        var first = await ConnectAsync(room, gateway, "c1");

        // The gateway lost the answer (or the join) and asks again: the join comes again, numbered next.
        Assert.True((await room.Connect(gateway.Connect("c1"))).Accepted);
        var again = await gateway.NextAsync();
        Assert.Equal(first.Number + 1, again.Number);
        Assert.Contains(again.Ops, op => op.Kind == RoomOpKind.Join && op.ConnectionId == "c1");
        Assert.Single(HookRoom.LogOf(name), l => l.StartsWith("connect c1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Each_activation_of_a_room_numbers_its_deliveries_in_a_larger_epoch()
    {
        var name = NewName();
        var room = Room("sdk-hooks", name);
        var gateway = new RecordingGateway(Client);
        var first = await ConnectAsync(room, gateway, "c1");

        // The room leaves memory and comes back for the next connect.
        await room.SendBatchAsync(gateway.Batch(InboundEvent.Closed("c1", 1000, "")));
        var management = Client.GetGrain<IManagementGrain>(0);
        var id = RoomGrainIds.Of("sdk-hooks", name);
        for (var i = 0; i < 100 && (await management.GetDetailedGrainStatistics()).Any(s => s.GrainId == id); i++)
        {
            await management.ForceActivationCollection(TimeSpan.Zero);
            await Task.Delay(50);
        }

        var back = await ConnectAsync(room, gateway, "c2");
        Assert.True(back.Epoch > first.Epoch, $"epoch {back.Epoch} after {first.Epoch}");
        Assert.Equal(1, back.Number);
        Assert.Equal(2, HookRoom.LogOf(name).Count(l => l.StartsWith("start", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public async Task A_new_activation_asks_a_gateway_again_for_its_tail_and_re_delivers_what_it_missed(int lateAnswers)
    {
        // Gateway y lost the delivery of "m1" (dropped by a silo shutting down); the room leaves memory; the new
        // activation's first fence of y is answered too late (dropped the same way). It asks y again, learns that y lacks m1
        // (x had it) and re-delivers it before anything new: y's client sees m1 then m2, no gap. When every answer of y
        // comes too late, the room goes on without y's tail and sends y everything x held, marked as sent again (a gateway
        // skips what it applied already).
        var name = NewName();
        var room = Room("broadcast", name);
        var x = new RecordingGateway(Client);
        var y = new RecordingGateway(Client);
        await ConnectAsync(room, x, "x1");
        await ConnectAsync(room, y, "y1");
        y.LoseDeliveries = true;
        await room.SendBatchAsync(x.Batch(RecordingGateway.Text("x1", "m1")));
        Assert.Contains(x.All.SelectMany(Sends), op => RecordingGateway.TextOf(op) == "m1");
        for (var i = 0; i < 100 && y.Lost == 0; i++)
        {
            await Task.Delay(50); // y's delivery is a call of its own, after the answer to x's batch
        }

        Assert.Equal(1, y.Lost);
        y.LoseDeliveries = false;

        // Out of memory with its connections (hibernation: they are durable), as a room on a silo that shuts down.
        await HibernateAsync(RoomGrainIds.Of("broadcast", name));
        Assert.DoesNotContain(y.All.SelectMany(Sends), op => RecordingGateway.TextOf(op) == "m1");
        var fencesBefore = y.Fences;
        y.FencesAnsweredLate = lateAnswers;
        await room.SendBatchAsync(x.Batch(RecordingGateway.Text("x1", "m2")));

        var seen = new List<RoomOp>();
        while (!seen.Any(op => RecordingGateway.TextOf(op) == "m2"))
        {
            seen.AddRange(Sends(await y.NextAsync()));
        }

        Assert.Equal(["m1", "m2"], seen.Select(RecordingGateway.TextOf));
        Assert.True(seen[0].Redelivered);
        Assert.False(seen[1].Redelivered);
        Assert.Equal(Math.Min(lateAnswers + 1, 3), y.Fences - fencesBefore); // asked again while the answers did not come in time
    }

    [Fact]
    public async Task A_batch_sent_again_is_not_processed_twice()
    {
        var name = NewName();
        var room = Room("sdk-hooks", name);
        var gateway = new RecordingGateway(Client);
        await ConnectAsync(room, gateway, "c1");
        var batch = gateway.Batch(RecordingGateway.Text("c1", "all once"));
        await room.SendBatchAsync(batch);
        await room.SendBatchAsync(batch);
        Assert.Single(HookRoom.LogOf(name), l => l == "text c1 all once");
    }

    [Fact]
    public async Task Echo_answers_the_sender_only_and_broadcast_relays_to_all_unchanged()
    {
        var gateway = new RecordingGateway(Client);
        var echo = Room("echo", NewName());
        await ConnectAsync(echo, gateway, "e1");
        await echo.SendBatchAsync(gateway.Batch(InboundEvent.Message("e1", new Payload(false, [9, 9]))));
        var echoed = Assert.Single(Sends(await gateway.NextAsync()));
        Assert.Equal((TargetKind.Only, false), (echoed.Target, echoed.Payload!.IsText));
        Assert.Equal(new byte[] { 9, 9 }, echoed.Payload.Data);
        Assert.Equal(["e1"], echoed.Ids!);

        var relay = Room("broadcast", NewName());
        await ConnectAsync(relay, gateway, "b1");
        await relay.SendBatchAsync(gateway.Batch(RecordingGateway.Text("b1", "to all")));
        var relayed = Assert.Single(Sends(await gateway.NextAsync()));
        Assert.Equal((TargetKind.All, true, "to all"), (relayed.Target, relayed.Payload!.IsText, RecordingGateway.TextOf(relayed)));
    }

    [Fact]
    public async Task Chat_keeps_the_last_100_messages_for_new_joiners()
    {
        var room = Room("chat", NewName());
        var gateway = new RecordingGateway(Client);
        await ConnectAsync(room, gateway, "ada");
        await room.SendBatchAsync(gateway.Batch(RecordingGateway.Text("ada", """{"type":"join","name":"ada"}""")));
        await room.SendBatchAsync(gateway.Batch(Enumerable.Range(0, 105).Select(i => RecordingGateway.Text("ada", $$"""{"type":"message","text":"m{{i}}"}""")).ToArray()));
        await room.SendBatchAsync(gateway.Batch(RecordingGateway.Text("ada", "not json")));

        while (await gateway.QuietAsync(TimeSpan.FromMilliseconds(200)) is false)
        {
        }

        await ConnectAsync(room, gateway, "bob");

        await room.SendBatchAsync(gateway.Batch(RecordingGateway.Text("bob", """{"type":"join","name":"bob"}""")));
        var delivery = await gateway.NextAsync();
        var history = Sends(delivery).First(s => s.Target == TargetKind.Only && s.Ids![0] == "bob");
        using var json = JsonDocument.Parse(RecordingGateway.TextOf(history));
        var texts = json.RootElement.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("text").GetString()).ToList();
        Assert.Equal(Enumerable.Range(5, 100).Select(i => $"m{i}"), texts);
        var presence = Sends(delivery).Last();
        Assert.Contains("\"users\":[\"ada\",\"bob\"]", RecordingGateway.TextOf(presence));

        // The malformed message was answered to its sender only.
        Assert.Contains(gateway.All.SelectMany(Sends), s => s.Target == TargetKind.Only && s.Ids![0] == "ada" && RecordingGateway.TextOf(s).Contains("\"error\""));
    }

    [Fact]
    public async Task A_first_turn_that_loses_its_epoch_to_another_activation_writes_nothing_and_its_retry_is_seen()
    {
        // A duplicate activation (an older one leaving a silo that shuts down) writes the system record after this
        // activation read it. This activation's first output turn then fails on the epoch: it must fail before the state
        // keeps its effect, else the retry is deduplicated by the saved client id and the value it announced is never seen.
        var name = NewName();
        var room = Room("counter", name);
        var gateway = new RecordingGateway(Client);
        await ConnectAsync(room, gateway, "c1");
        var payload = new Payload(true, Encoding.UTF8.GetBytes("inc"));
        await room.SendBatchAsync(gateway.Batch(InboundEvent.Message("c1", payload, clientId: 1, attachment: 0)));
        Assert.Equal(["1"], Sends(await gateway.NextAsync()).Select(RecordingGateway.TextOf));

        // Out of memory (its connection is durable), then back for a request that sends nothing: the epoch is not
        // claimed yet. Another writer bumps the system record.
        var id = RoomGrainIds.Of("counter", name);
        await HibernateAsync(id);
        Assert.Equal("1", Encoding.UTF8.GetString((await room.Request(new RoomHttpRequest { Method = "GET" })).Body));
        var storage = ((InProcessSiloHandle)fixture.Cluster.Primary!).SiloHost.Services.GetRequiredKeyedService<IGrainStorage>(RoomOptions.StorageName);
        var system = new GrainState<RoomSystemState>();
        await storage.ReadStateAsync(RoomActors.Room.SystemRecord, id, system);
        await storage.WriteStateAsync(RoomActors.Room.SystemRecord, id, system);

        // The second inc: its first attempt fails on the epoch; sent again (as a gateway does) it reaches a fresh
        // activation, which counts it once and announces 2.
        var batch = gateway.Batch(InboundEvent.Message("c1", payload, clientId: 2, attachment: 0));
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await room.SendBatchAsync(batch);
                break;
            }
            catch (Exception) when (attempt < 20)
            {
                // The activation that lost goes away; the gateway's policy: call again.
                await Task.Delay(100);
            }
        }

        var announced = new List<string>();
        while (!announced.Contains("2"))
        {
            announced.AddRange(Sends(await gateway.NextAsync()).Select(RecordingGateway.TextOf));
        }

        Assert.Equal(["2"], announced);
        Assert.Equal("2", Encoding.UTF8.GetString((await room.Request(new RoomHttpRequest { Method = "GET" })).Body));
    }

    [Fact]
    public async Task The_sleep_reminder_puts_a_sleeping_room_back_to_sleep_but_leaves_a_room_that_traffic_woke_awake()
    {
        // A hibernated room keeps a reminder that wakes it once a minute to check its gateways. The reminder outlives the
        // sleep: when a message woke the room and the next tick comes while it is busy, the room must stay (a restart once
        // a minute asks every gateway for its tail, and under load that is where histories could part).
        var (name, room, gateway, id) = await SleepingRoomAsync();
        int Starts() => HookRoom.LogOf(name).Count(entry => entry.StartsWith("start ", StringComparison.Ordinal));

        // The tick on the sleeping room: it wakes for the check only, and leaves memory again.
        await SleepTickAsync(id);
        Assert.Equal(2, Starts());
        await LeftMemoryAsync(id);

        // A message wakes it; the tick comes while it is awake; the next message finds the same activation.
        await room.SendBatchAsync(gateway.Batch(RecordingGateway.Text("c1", "one")));
        Assert.Equal(3, Starts());
        await SleepTickAsync(id);
        await Task.Delay(200); // a deactivation the tick asked for would be under way by now
        await room.SendBatchAsync(gateway.Batch(RecordingGateway.Text("c1", "two")));
        Assert.Equal(3, Starts());
        Assert.Contains(await Client.GetGrain<IManagementGrain>(0).GetDetailedGrainStatistics(), s => s.GrainId == id);
    }

    [Fact]
    public async Task A_fence_answer_names_the_gateways_connections_and_the_room_closes_those_it_does_not_know_also_in_a_sleep_check()
    {
        // The fence answer carries the gateway's members (no renewal batch after it, which would wake a room that only woke
        // for its minute check). A member the room does not know is closed with 1012, and the close leaves even when the
        // activation was only the sleep check, which runs no turn of its own.
        var (name, room, gateway, id) = await SleepingRoomAsync();
        gateway.FenceMembers = ["c1", "ghost"];

        await SleepTickAsync(id);
        var close = Assert.Single((await gateway.NextAsync()).Ops);
        Assert.Equal((RoomOpKind.Close, "ghost", CloseCodes.ServiceRestart), (close.Kind, close.ConnectionId, close.CloseCode));
        Assert.True(await gateway.QuietAsync(TimeSpan.FromMilliseconds(500)));

        // The known one is served as before.
        await room.SendBatchAsync(gateway.Batch(RecordingGateway.Text("c1", "still here")));
        Assert.Contains("text c1 still here", HookRoom.LogOf(name));
    }

    [Fact]
    public async Task Typed_state_is_saved_at_the_end_of_the_turn_and_read_by_the_next_activation()
    {
        var name = NewName();
        var room = Room("counter", name);
        var gateway = new RecordingGateway(Client);
        await ConnectAsync(room, gateway, "c1");
        await room.SendBatchAsync(gateway.Batch(RecordingGateway.Text("c1", "inc"), RecordingGateway.Text("c1", "inc"), RecordingGateway.Text("c1", "inc")));
        Assert.Equal(["1", "2", "3"], Sends(await gateway.NextAsync()).Select(RecordingGateway.TextOf));
        await room.SendBatchAsync(gateway.Batch(InboundEvent.Closed("c1", 1000, "")));

        var management = Client.GetGrain<IManagementGrain>(0);
        var id = RoomGrainIds.Of("counter", name);
        for (var i = 0; i < 100 && (await management.GetDetailedGrainStatistics()).Any(s => s.GrainId == id); i++)
        {
            await management.ForceActivationCollection(TimeSpan.Zero);
            await Task.Delay(50);
        }

        Assert.DoesNotContain(await management.GetDetailedGrainStatistics(), s => s.GrainId == id);
        var response = await room.Request(new RoomHttpRequest { Method = "GET" });
        Assert.Equal((200, "3"), (response.Status, Encoding.UTF8.GetString(response.Body)));
    }
}
