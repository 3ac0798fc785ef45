using System.Globalization;
using RoomActors.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RoomActors.Tests.Client;

using RoomActors.Client;

/// <summary>
/// <see cref="RoomSocket"/> against the real all-in-one server (in this process) and its sample rooms: welcome,
/// numbered messages, acknowledged sends, binary payloads, resume after a drop, re-sent sends processed once, resync.
/// </summary>
[Collection(AllInOneCollection.Name)]
public sealed class RoomSocketServerTests(AllInOneFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Connect_returns_after_the_welcome_with_the_connection_id_and_last_seq()
    {
        await using var socket = Socket("echo", NewName());
        Assert.Equal(RoomSocketState.Created, socket.State);
        await socket.ConnectAsync().WaitAsync(Timeout);
        Assert.Equal(RoomSocketState.Open, socket.State);
        Assert.False(string.IsNullOrEmpty(socket.ConnectionId));
        Assert.NotNull(socket.LastSeq);
        await socket.CloseAsync(1000, "bye");
        Assert.Equal(RoomSocketState.Closed, socket.State);
    }

    [Fact]
    public async Task Sends_complete_with_the_ack_after_the_turn_and_messages_carry_increasing_numbers()
    {
        var room = NewName();
        await using var socket = Socket("broadcast", room);
        await socket.ConnectAsync().WaitAsync(Timeout);
        var welcomeSeq = socket.LastSeq!.Value;

        var acks = new List<RoomAck>();
        for (var i = 1; i <= 5; i++)
        {
            acks.Add(await socket.SendAsync($"m{i}").WaitAsync(Timeout));
        }

        var messages = await TakeAsync(socket, 5);
        Assert.Equal(["m1", "m2", "m3", "m4", "m5"], messages.Select(m => m.Text));
        Assert.Equal([1L, 2, 3, 4, 5], acks.Select(a => a.Id));
        Assert.True(messages[0].Seq > welcomeSeq, $"first message {messages[0].Seq} after the welcome's {welcomeSeq}");
        Assert.All(messages.Zip(messages.Skip(1)), pair => Assert.True(pair.First.Seq < pair.Second.Seq, $"{pair.First.Seq} then {pair.Second.Seq}"));
        Assert.All(messages.Zip(acks), pair => Assert.True(pair.Second.Seq >= pair.First.Seq,
            $"ack {pair.Second} comes after the turn's broadcast {pair.First.Seq}"));
        Assert.Equal(acks[^1].Seq, socket.LastSeq); // the last frame was the last ack
    }

    [Fact]
    public async Task Binary_messages_round_trip_byte_for_byte()
    {
        await using var socket = Socket("echo", NewName());
        await socket.ConnectAsync().WaitAsync(Timeout);
        var payload = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        await socket.SendAsync(payload).WaitAsync(Timeout);
        await socket.SendAsync("text after binary").WaitAsync(Timeout);

        var messages = await TakeAsync(socket, 2);
        Assert.False(messages[0].IsText);
        Assert.Equal(payload, messages[0].Data.ToArray());
        Assert.True(messages[1].IsText);
        Assert.Equal("text after binary", messages[1].Text);
    }

    [Fact]
    public async Task Concurrent_senders_get_distinct_ids_and_every_message_is_echoed_once()
    {
        await using var socket = Socket("echo", NewName());
        await socket.ConnectAsync().WaitAsync(Timeout);
        var senders = Enumerable.Range(0, 8).Select(sender => Task.Run(async () =>
        {
            var acks = new List<RoomAck>();
            for (var i = 0; i < 50; i++)
            {
                acks.Add(await socket.SendAsync($"{sender}:{i}"));
            }

            return acks;
        }));
        var ids = (await Task.WhenAll(senders).WaitAsync(Timeout)).SelectMany(a => a).Select(a => a.Id).Order();
        Assert.Equal(Enumerable.Range(1, 400).Select(i => (long)i), ids);

        var echoed = await TakeAsync(socket, 400);
        Assert.Equal(400, echoed.Select(m => m.Text).Distinct().Count());
        for (var sender = 0; sender < 8; sender++)
        {
            var prefix = $"{sender}:";
            Assert.Equal(Enumerable.Range(0, 50).Select(i => $"{sender}:{i}"), echoed.Select(m => m.Text).Where(t => t.StartsWith(prefix, StringComparison.Ordinal)));
        }
    }

    [Fact]
    public async Task A_dropped_socket_resumes_and_sees_exactly_what_a_client_that_stayed_saw()
    {
        var room = NewName();
        await using var stayed = Socket("broadcast", room);
        await using var dropped = Socket("broadcast", room);
        await stayed.ConnectAsync().WaitAsync(Timeout);
        await dropped.ConnectAsync().WaitAsync(Timeout);
        var id = dropped.ConnectionId;
        var resynced = 0;
        dropped.Resynced += (_, _) => Interlocked.Increment(ref resynced);
        var stayedReader = CollectAsync(stayed, "end");
        var droppedReader = CollectAsync(dropped, "end");
        await stayed.SendAsync("start").WaitAsync(Timeout);

        for (var i = 1; i <= 30; i++)
        {
            await stayed.SendAsync($"before {i}").WaitAsync(Timeout);
        }

        var resumed = OpenedAsync(dropped);
        dropped.AbortConnectionForTest(); // the network drops: the server sees 1006 and keeps the connection
        for (var i = 1; i <= 30; i++)
        {
            await stayed.SendAsync($"while away {i}").WaitAsync(Timeout); // buffered in the room for the resume
        }

        Assert.True(await resumed.WaitAsync(Timeout), "the socket came back with resumed, not welcome");
        for (var i = 1; i <= 30; i++)
        {
            await stayed.SendAsync($"after {i}").WaitAsync(Timeout);
        }

        await stayed.SendAsync("end").WaitAsync(Timeout);
        var expected = await stayedReader.WaitAsync(Timeout);
        var actual = await droppedReader.WaitAsync(Timeout);
        Assert.Equal(92, expected.Count); // start, 90, end
        Assert.Equal(expected, actual);
        Assert.Equal(id, dropped.ConnectionId);
        Assert.Equal(0, resynced);
        Assert.Equal(RoomSocketState.Open, dropped.State);
    }

    [Fact]
    public async Task Sends_not_acknowledged_before_a_drop_are_re_sent_and_processed_once()
    {
        var room = NewName();
        await using var socket = Socket("counter", room);
        await socket.ConnectAsync().WaitAsync(Timeout);
        var values = CollectAsync(socket, "500");

        const int Count = 500;
        var resumed = OpenedAsync(socket);
        var unacknowledged = -1;
        socket.AfterAckForTest = id =>
        {
            if (Interlocked.CompareExchange(ref unacknowledged, 0, -1) == -1)
            {
                // The network drops right after the first ack: the room is busy with the next messages, whose acks are lost.
                socket.AbortConnectionForTest();
                unacknowledged = socket.UnacknowledgedForTest; // written or taken, not acknowledged: the resume re-sends these
            }
        };
        var sends = Enumerable.Range(0, Count).Select(_ => socket.SendAsync("inc")).ToList();
        Assert.True(await resumed.WaitAsync(Timeout), "resumed, not welcomed");

        var acks = await Task.WhenAll(sends).WaitAsync(Timeout);
        output.WriteLine($"{unacknowledged} of {Count} messages not acknowledged at the drop, re-sent after the resume");
        Assert.True(unacknowledged > 0, $"{unacknowledged} sends written and not acknowledged at the drop");
        Assert.Equal(Enumerable.Range(1, Count).Select(i => (long)i), acks.Select(a => a.Id));
        var seen = await values.WaitAsync(Timeout);
        Assert.Equal(Enumerable.Range(1, Count).Select(i => i.ToString(CultureInfo.InvariantCulture)), seen.Select(m => m.Text)); // each inc once, none missed
        using var http = new HttpClient();
        Assert.Equal("500", await http.GetStringAsync(new Uri(fixture.Server.Http, $"/rooms/counter/{room}")).WaitAsync(Timeout));
    }

    [Fact]
    public async Task A_refused_resume_token_raises_Resynced_and_connects_fresh()
    {
        await using var socket = Socket("echo", NewName());
        await socket.ConnectAsync().WaitAsync(Timeout);
        var first = socket.ConnectionId;
        var resynced = new TaskCompletionSource<RoomResyncedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        socket.Resynced += (_, e) => resynced.TrySetResult(e);
        var opened = OpenedAsync(socket);

        socket.ReplaceResumeTokenForTest("forged-" + Guid.NewGuid().ToString("N"));
        socket.AbortConnectionForTest();
        var resync = await resynced.Task.WaitAsync(Timeout);
        Assert.Equal(4403, resync.Code);
        Assert.StartsWith("resume refused", resync.Reason);
        Assert.False(await opened.WaitAsync(Timeout), "a fresh connection (welcome), not a resume");
        Assert.NotEqual(first, socket.ConnectionId);

        await socket.SendAsync("still works").WaitAsync(Timeout);
        Assert.Equal("still works", (await TakeAsync(socket, 1))[0].Text);
    }

    [Fact]
    public async Task A_resume_of_a_connection_the_room_forgot_resyncs()
    {
        var room = NewName();
        await using var socket = Socket("echo", room);
        await socket.ConnectAsync().WaitAsync(Timeout);
        var resynced = new TaskCompletionSource<RoomResyncedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        socket.Resynced += (_, e) => resynced.TrySetResult(e);

        // Another connection's token (valid, this user's, another connection that has left): unknown to the resume.
        await using (var other = Socket("echo", room))
        {
            await other.ConnectAsync().WaitAsync(Timeout);
            socket.ReplaceResumeTokenForTest(other.ResumeTokenForTest!);
            await other.CloseAsync();
        }

        socket.AbortConnectionForTest();
        var resync = await resynced.Task.WaitAsync(Timeout);
        Assert.Equal(4410, resync.Code);
        Assert.StartsWith("resync", resync.Reason);
    }

    private RoomSocket Socket(string type, string name) => new(Options(fixture.Server.WebSocket, type, name));

    internal static RoomSocketOptions Options(Uri server, string type, string name) => new()
    {
        Server = server,
        Type = type,
        Name = name,
        MinReconnectDelay = TimeSpan.FromMilliseconds(50),
        MaxReconnectDelay = TimeSpan.FromMilliseconds(500),
    };

    internal static string NewName() => "c-" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>The next open of <paramref name="socket"/>: true if it resumed, false for a new connection.</summary>
    internal static Task<bool> OpenedAsync(RoomSocket socket)
    {
        var opened = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        socket.OpenedForTest += resumed => opened.TrySetResult(resumed);
        return opened.Task;
    }

    internal static async Task<List<RoomMessage>> TakeAsync(RoomSocket socket, int count)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        var list = new List<RoomMessage>();
        await foreach (var message in socket.ReadAllAsync(timeout.Token))
        {
            list.Add(message);
            if (list.Count == count)
            {
                break;
            }
        }

        return list;
    }

    /// <summary>Reads (in the background) every message up to and including the text <paramref name="last"/>: (seq, text).</summary>
    private static Task<List<(long Seq, string Text)>> CollectAsync(RoomSocket socket, string last) => Task.Run(async () =>
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var list = new List<(long, string)>();
        await foreach (var message in socket.ReadAllAsync(timeout.Token))
        {
            list.Add((message.Seq, message.Text));
            if (message.Text == last || list.Count > 10_000)
            {
                break;
            }
        }

        return list;
    });
}
