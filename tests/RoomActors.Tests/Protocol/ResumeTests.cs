using System.Net.WebSockets;
using RoomActors.Tests.Infrastructure;

namespace RoomActors.Tests.Protocol;

/// <summary>The <c>roomactors.v1</c> wire on a real all-in-one host: numbers, welcome, acks, resume and its refusals.</summary>
public sealed class ResumeTests : IAsyncLifetime
{
    private AllInOneServer _server = null!;

    public async Task InitializeAsync() =>
        _server = await AllInOneServer.StartAsync("--RoomActors:Rooms:ResumeWindow=00:00:03", "--RoomActors:Rooms:LeaseCheckInterval=00:00:01");

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private Uri Room(string name) => _server.Room("it-resume", name);

    private static string NewName() => "r" + Guid.NewGuid().ToString("N")[..10];

    [Fact]
    public async Task Welcome_comes_first_then_every_message_carries_the_rooms_number_while_raw_clients_see_raw_frames()
    {
        var name = NewName();
        await using var raw = await TestClient.ConnectAsync(Room(name));
        await using var a = await V1Client.ConnectAsync(Room(name));
        Assert.Matches("^[0-9a-f]{32}$", a.Id);
        Assert.StartsWith(a.Id + ".", a.Token);

        await a.SendAsync("one");
        await a.Client.Socket.SendAsync(V1Frame.Message("two"), WebSocketMessageType.Binary, true, CancellationToken.None);
        var messages = new List<V1Frame>();
        while (messages.Count < 2)
        {
            var frame = await a.NextAsync();
            Assert.Equal("m", frame.Kind);
            messages.Add(frame);
        }

        Assert.Equal(["one", "two"], messages.Select(m => m.Text));
        Assert.True(messages[0].IsText);
        Assert.False(messages[1].IsText); // a binary payload stays binary
        Assert.Equal(messages[0].Seq + 1, messages[1].Seq);

        // The raw client got the same two payloads, unchanged.
        Assert.Equal("one", (await raw.ReceiveAsync()).Text);
        var binary = await raw.ReceiveAsync();
        Assert.False(binary.IsText);
        Assert.Equal("two", binary.Text);
    }

    [Fact]
    public async Task A_message_with_an_id_is_acknowledged_after_its_turn_and_a_repeated_id_is_not_processed_again()
    {
        var name = NewName();
        await using var a = await V1Client.ConnectAsync(Room(name));
        await a.SendAsync("first", id: 1);
        var echo = await a.NextAsync();
        var ack = await a.NextAsync();
        Assert.Equal(("m", "first"), (echo.Kind, echo.Text));
        Assert.Equal("ack", ack.Kind);
        Assert.Equal("1", ack.Fields[0]);
        Assert.Equal(echo.Seq, ack.Seq); // the turn's message came before its ack

        await a.SendAsync("first again", id: 1); // a re-send of id 1: acknowledged, not processed
        await a.SendAsync("second", id: 5);
        var frames = new List<V1Frame> { await a.NextAsync(), await a.NextAsync(), await a.NextAsync() };
        var shown = frames.Select(f => f.Kind + " " + (f.Kind == "m" ? f.Text : f.Fields[0])).ToList();

        // Both may be handled in one turn: its acks then come after all its messages.
        Assert.Equal(["ack 1", "ack 5", "m second"], shown.Order());
        Assert.True(shown.IndexOf("ack 5") > shown.IndexOf("m second"));
        Assert.Equal(frames.Single(f => f.Kind == "m").Seq, frames.Single(f => f is { Kind: "ack", Fields: ["5", _] }).Seq);
        Assert.Equal(["first", "second"], ResumeRoom.EventsOf(name).Where(e => e.StartsWith("message", StringComparison.Ordinal)).Select(e => e.Split(' ')[2]));
    }

    [Fact]
    public async Task A_dropped_client_resumes_with_exactly_what_it_missed_in_order_and_no_hooks_run_but_resume()
    {
        var name = NewName();
        await using var stayer = await V1Client.ConnectAsync(Room(name));
        var a = await V1Client.ConnectAsync(Room(name));
        await a.SendAsync("before");
        var before = await a.MessagesAsync(1);
        Assert.Equal("before", before[0].Text);
        await stayer.MessagesAsync(1);
        var (id, token, lastSeq) = (a.Id, a.Token, a.LastSeq);
        await a.DropAsync();

        // While it is away: messages to everyone, and one addressed to someone else only.
        await stayer.SendAsync("missed 1");
        await stayer.SendAsync("private:not for a");
        await stayer.SendAsync("missed 2");
        var stayerSaw = await stayer.MessagesAsync(3);

        await using var resumed = await V1Client.ResumeAsync(Room(name), token, lastSeq, id);
        var first = await resumed.NextAsync();
        Assert.Equal("resumed", first.Kind);
        Assert.Equal(id, first.Json.GetProperty("connection").GetString());
        Assert.Equal(2, first.Json.GetProperty("replayed").GetInt32());
        var replay = await resumed.MessagesAsync(2);
        Assert.Equal(["missed 1", "missed 2"], replay.Select(m => m.Text));
        Assert.Equal(stayerSaw.Where(m => m.Text.StartsWith("missed", StringComparison.Ordinal)).Select(m => m.Seq), replay.Select(m => m.Seq));

        // Then the live stream, on the same connection.
        await stayer.SendAsync("after");
        Assert.Equal("after", (await resumed.MessagesAsync(1))[0].Text);
        var events = ResumeRoom.EventsOf(name);
        Assert.Single(events, e => e == "connect " + id);
        Assert.Single(events, e => e == "resume " + id);
        Assert.DoesNotContain(events, e => e.StartsWith("close " + id, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_resumed_connection_keeps_its_tags_and_state()
    {
        var name = NewName();
        var a = await V1Client.ConnectAsync(_server.Room("it-resume", name, "?tag=blue"));
        var (id, token, lastSeq) = (a.Id, a.Token, a.LastSeq);
        await a.DropAsync();
        await using var resumed = await V1Client.ResumeAsync(Room(name), token, lastSeq, id);
        Assert.Equal("resumed", (await resumed.NextAsync()).Kind);
        await resumed.SendAsync("whoami");
        Assert.Equal("blue {\"tag\":\"blue\"}", (await resumed.MessagesAsync(1))[0].Text);
    }

    [Fact]
    public async Task Unacknowledged_messages_sent_again_after_a_resume_are_processed_once()
    {
        var name = NewName();
        var a = await V1Client.ConnectAsync(Room(name));
        await a.SendAsync("x", id: 1);
        await a.MessagesAsync(1);
        await a.NextAsync(); // ack 1
        var (id, token, lastSeq) = (a.Id, a.Token, a.LastSeq);
        await a.SendAsync("y", id: 2);
        await a.DropAsync(); // whether y was processed, the client cannot know

        await using var resumed = await V1Client.ResumeAsync(Room(name), token, lastSeq, id);
        Assert.Equal("resumed", (await resumed.NextAsync()).Kind);
        await resumed.SendAsync("x", id: 1);
        await resumed.SendAsync("y", id: 2);
        await resumed.SendAsync("z", id: 3);
        var acks = new List<string>();
        while (acks.Count < 3)
        {
            var frame = await resumed.NextAsync();
            if (frame.Kind == "ack")
            {
                acks.Add(frame.Fields[0]);
            }
        }

        Assert.Equal(["1", "2", "3"], acks);
        Assert.Equal(["x", "y", "z"], ResumeRoom.EventsOf(name).Where(e => e.StartsWith("message", StringComparison.Ordinal)).Select(e => e.Split(' ')[2]));
    }

    [Fact]
    public async Task Resume_tokens_that_are_not_the_connections_are_refused_with_a_clear_close()
    {
        var name = NewName();
        await using var a = await V1Client.ConnectAsync(Room(name));
        var secret = a.Token[(a.Token.IndexOf('.') + 1)..];

        async Task<(WebSocketCloseStatus? Status, string? Reason)> TryResume(Uri room, string token)
        {
            await using var attempt = await V1Client.ResumeAsync(room, token, 0);
            var (status, reason, _) = await attempt.Client.WaitClosedAsync();
            return (status, reason);
        }

        var forged = await TryResume(Room(name), a.Id + ".AAAAAAAAAAAAAAAAAAAAAA");
        Assert.Equal(4403, (int?)forged.Status);
        Assert.StartsWith("resume refused", forged.Reason);

        var malformed = await TryResume(Room(name), "no-dot-here");
        Assert.Equal(4403, (int?)malformed.Status);

        var otherRoom = await TryResume(Room(NewName()), a.Token);
        Assert.Equal(4410, (int?)otherRoom.Status);
        Assert.StartsWith("resync", otherRoom.Reason);

        var unknown = await TryResume(Room(name), new string('a', 32) + "." + secret);
        Assert.Equal(4410, (int?)unknown.Status);
        Assert.EndsWith("connect without resume", unknown.Reason); // whole: a close reason has at most 123 bytes

        // None of them took anything over: the real owner is still connected and served.
        await a.SendAsync("still mine");
        Assert.Equal("still mine", (await a.MessagesAsync(1))[0].Text);
    }

    [Fact]
    public async Task After_the_resume_window_the_connection_is_closed_and_a_resume_gets_resync()
    {
        var name = NewName();
        var a = await V1Client.ConnectAsync(Room(name));
        var (id, token, lastSeq) = (a.Id, a.Token, a.LastSeq);
        await a.DropAsync();

        // The window is 3 s here; the room checks every second.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!ResumeRoom.EventsOf(name).Contains($"close {id} 1006") && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.Contains($"close {id} 1006", ResumeRoom.EventsOf(name));
        await using var late = await V1Client.ResumeAsync(Room(name), token, lastSeq, id);
        var (status, reason, _) = await late.Client.WaitClosedAsync();
        Assert.Equal(4410, (int?)status);
        Assert.StartsWith("resync", reason);
        Assert.EndsWith("connect without resume", reason);
    }

    [Fact]
    public async Task A_resume_while_the_old_socket_is_open_takes_it_over_and_closes_the_old_one_with_4409()
    {
        var name = NewName();
        await using var a = await V1Client.ConnectAsync(Room(name));
        await using var b = await V1Client.ResumeAsync(Room(name), a.Token, a.LastSeq, a.Id);
        Assert.Equal("resumed", (await b.NextAsync()).Kind);
        var (status, reason, _) = await a.Client.WaitClosedAsync();
        Assert.Equal(4409, (int?)status);
        Assert.Equal("resumed elsewhere", reason);

        await b.SendAsync("on the new socket", id: 1);
        Assert.Equal("on the new socket", (await b.MessagesAsync(1))[0].Text);
        Assert.DoesNotContain(ResumeRoom.EventsOf(name), e => e.StartsWith("close ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_client_that_leaves_with_1000_is_gone_at_once_and_cannot_resume()
    {
        var name = NewName();
        var a = await V1Client.ConnectAsync(Room(name));
        var (id, token) = (a.Id, a.Token);
        await a.Client.CloseAsync();
        await a.DisposeAsync();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!ResumeRoom.EventsOf(name).Contains($"close {id} 1000") && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.Contains($"close {id} 1000", ResumeRoom.EventsOf(name));
        await using var again = await V1Client.ResumeAsync(Room(name), token, 0, id);
        Assert.Equal(4410, (int?)(await again.Client.WaitClosedAsync()).Status);
    }

    [Fact]
    public async Task A_frame_outside_the_grammar_closes_the_socket_with_1002()
    {
        await using var a = await V1Client.ConnectAsync(Room(NewName()));
        await a.Client.SendAsync("hello without a header");
        var (status, _, _) = await a.Client.WaitClosedAsync();
        Assert.Equal(WebSocketCloseStatus.ProtocolError, status);
    }
}

/// <summary>A resume that needs more than the room's replay buffer holds is refused with a resync, never a gap.</summary>
public sealed class ReplayBoundTests : IAsyncLifetime
{
    private AllInOneServer _server = null!;

    public async Task InitializeAsync() => _server = await AllInOneServer.StartAsync("--RoomActors:Rooms:ReplayMessages=3");

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Missing_more_than_the_buffer_holds_gets_4410_and_the_connection_closes_for_good()
    {
        var name = "b" + Guid.NewGuid().ToString("N")[..10];
        var room = _server.Room("it-resume", name);
        await using var stayer = await V1Client.ConnectAsync(room);
        var a = await V1Client.ConnectAsync(room);
        var (id, token, lastSeq) = (a.Id, a.Token, a.LastSeq);
        await a.DropAsync();
        for (var i = 1; i <= 5; i++)
        {
            await stayer.SendAsync("m" + i);
        }

        await stayer.MessagesAsync(5);
        await using var late = await V1Client.ResumeAsync(room, token, lastSeq, id);
        var (status, reason, _) = await late.Client.WaitClosedAsync();
        Assert.Equal(4410, (int?)status);
        Assert.Equal("resync: the missed messages are no longer available; connect without resume", reason);

        // The room closed the connection for good: its close hook ran once, with the resync code.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!ResumeRoom.EventsOf(name).Contains($"close {id} 4410") && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.Single(ResumeRoom.EventsOf(name), e => e.StartsWith("close " + id, StringComparison.Ordinal));
        Assert.Contains($"close {id} 4410", ResumeRoom.EventsOf(name));
    }
}
