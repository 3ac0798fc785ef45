using System.Text;

namespace RoomActors.Tests.Client;

using RoomActors.Client;

/// <summary>
/// <see cref="RoomSocket"/> against a server whose frames the test writes (<see cref="ScriptedServer"/>): the exact
/// frames the client sends, and its answer to what a correct server rarely does on purpose.
/// </summary>
public sealed class RoomSocketScriptedTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private static RoomSocketOptions Options(ScriptedServer server) => new()
    {
        Server = server.Server,
        Type = "echo",
        Name = "scripted",
        MinReconnectDelay = TimeSpan.FromMilliseconds(20),
        MaxReconnectDelay = TimeSpan.FromMilliseconds(100),
        ConnectTimeout = TimeSpan.FromSeconds(5),
        CloseTimeout = TimeSpan.FromSeconds(2),
    };

    [Fact]
    public async Task Unacknowledged_sends_are_re_sent_with_their_ids_before_new_ones_after_a_resume()
    {
        await using var server = await ScriptedServer.StartAsync();
        await using var socket = new RoomSocket(Options(server));
        var connect = socket.ConnectAsync();
        var first = await server.AcceptAsync();
        Assert.False(first.Query.ContainsKey("resume"));
        await first.SendAsync("welcome 10\n{\"connection\":\"c1\",\"token\":\"tok\",\"resumeWindowSeconds\":120}");
        await connect.WaitAsync(Timeout);
        Assert.Equal(("c1", 10L), (socket.ConnectionId, socket.LastSeq));

        var one = socket.SendAsync("one");
        var two = socket.SendAsync("two");
        Assert.Equal("m 1\none", await first.ReceiveAsync());
        Assert.Equal("m 2\ntwo", await first.ReceiveAsync());
        await first.SendAsync("m 11\nhello");
        await first.SendAsync("ack 1 12");
        Assert.Equal(new RoomAck(1, 12), await one.WaitAsync(Timeout));
        first.Abort(); // 2 is written and not acknowledged

        var second = await server.AcceptAsync();
        Assert.Equal("tok", second.Query["resume"]);
        Assert.Equal("12", second.Query["seq"]);
        var three = socket.SendAsync("three"); // while resuming, or after: either way after the re-sent one
        await second.SendAsync("resumed 14\n{\"connection\":\"c1\",\"replayed\":1}");
        await second.SendAsync("m 13\nmissed");
        Assert.Equal("m 2\ntwo", await second.ReceiveAsync());
        Assert.Equal("m 3\nthree", await second.ReceiveAsync());
        await second.SendAsync("ack 3 15");
        Assert.Equal(new RoomAck(2, 15), await two.WaitAsync(Timeout)); // the ack of 3 acknowledges 2 as well
        Assert.Equal(new RoomAck(3, 15), await three.WaitAsync(Timeout));
        Assert.Equal("c1", socket.ConnectionId);
        Assert.Equal(15, socket.LastSeq);

        var received = await RoomSocketServerTests.TakeAsync(socket, 2);
        Assert.Equal([(11L, "hello"), (13L, "missed")], received.Select(m => (m.Seq, m.Text)));

        var close = socket.CloseAsync(1000, "bye");
        Assert.Equal("close 1000", await second.ReceiveAsync());
        await second.CloseAsync(1000, "bye");
        await close.WaitAsync(Timeout);
        Assert.Equal(RoomSocketState.Closed, socket.State);
    }

    [Fact]
    public async Task A_resync_fails_the_unacknowledged_sends_raises_Resynced_and_connects_fresh()
    {
        await using var server = await ScriptedServer.StartAsync();
        await using var socket = new RoomSocket(Options(server));
        var resynced = new TaskCompletionSource<RoomResyncedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        socket.Resynced += (_, e) => resynced.TrySetResult(e);
        var connect = socket.ConnectAsync();
        var first = await server.AcceptAsync();
        await first.SendAsync("welcome 1\n{\"connection\":\"c1\",\"token\":\"tok\"}");
        await connect.WaitAsync(Timeout);
        var lost = socket.SendAsync("maybe");
        Assert.Equal("m 1\nmaybe", await first.ReceiveAsync());
        first.Abort();

        var second = await server.AcceptAsync();
        Assert.Equal("tok", second.Query["resume"]);
        await second.CloseAsync(4410, "resync: unknown connection");
        var error = await Assert.ThrowsAsync<RoomResyncException>(() => lost.WaitAsync(Timeout));
        Assert.Equal(1, error.MessageId);
        Assert.Equal(4410, (await resynced.Task.WaitAsync(Timeout)).Code);

        var third = await server.AcceptAsync();
        Assert.False(third.Query.ContainsKey("resume")); // fresh
        await third.SendAsync("welcome 50\n{\"connection\":\"c2\",\"token\":\"tok2\"}");
        var again = socket.SendAsync("again");
        Assert.Equal("m 1\nagain", await third.ReceiveAsync()); // ids start over on the new connection
        await third.SendAsync("ack 1 51");
        Assert.Equal(new RoomAck(1, 51), await again.WaitAsync(Timeout));
        Assert.Equal("c2", socket.ConnectionId);
        third.Abort();
    }

    [Fact]
    public async Task A_welcome_answering_a_resume_is_a_resync()
    {
        await using var server = await ScriptedServer.StartAsync();
        await using var socket = new RoomSocket(Options(server));
        var resynced = 0;
        socket.Resynced += (_, _) => Interlocked.Increment(ref resynced);
        var connect = socket.ConnectAsync();
        var first = await server.AcceptAsync();
        await first.SendAsync("welcome 1\n{\"connection\":\"c1\",\"token\":\"tok\"}");
        await connect.WaitAsync(Timeout);
        var lost = socket.SendAsync("x");
        Assert.Equal("m 1\nx", await first.ReceiveAsync());
        first.Abort();

        var second = await server.AcceptAsync();
        await second.SendAsync("welcome 9\n{\"connection\":\"c2\",\"token\":\"tok2\"}");
        await Assert.ThrowsAsync<RoomResyncException>(() => lost.WaitAsync(Timeout));

        // The unacknowledged sends fail first, then Resynced is raised (as documented): the failed send can be seen
        // before the event has run.
        await Integration.GatewayTests.Eventually(() => Volatile.Read(ref resynced) == 1);
        Assert.Equal(1, resynced);
        Assert.Equal("c2", socket.ConnectionId);
        Assert.Equal(9, socket.LastSeq);
        second.Abort();
    }

    [Fact]
    public async Task Text_and_binary_frames_keep_their_type_and_bytes_both_ways_and_unknown_kinds_are_ignored()
    {
        await using var server = await ScriptedServer.StartAsync();
        await using var socket = new RoomSocket(Options(server));
        var connect = socket.ConnectAsync();
        var scripted = await server.AcceptAsync();
        await scripted.SendAsync("welcome 0\n{\"connection\":\"c1\",\"token\":\"t\"}");
        await connect.WaitAsync(Timeout);

        _ = socket.SendAsync(new byte[] { 0, 10, 255 });
        Assert.Equal("m 1\n\0\n\uFFFD", await scripted.ReceiveAsync()); // header, then the raw bytes
        await scripted.SendAsync("pong");
        await scripted.SendBinaryAsync([.. "m 3\n"u8, 0, 10, 255]);
        await scripted.SendAsync("m 4\nline1\nline2");
        var received = await RoomSocketServerTests.TakeAsync(socket, 2);
        Assert.False(received[0].IsText);
        Assert.Equal(new byte[] { 0, 10, 255 }, received[0].Data.ToArray());
        Assert.Throws<InvalidOperationException>(() => received[0].Text);
        Assert.Equal((4L, "line1\nline2"), (received[1].Seq, received[1].Text));
        scripted.Abort();
    }

    [Fact]
    public async Task A_protocol_error_closes_for_good_with_4002_and_the_reader_says_why()
    {
        await using var server = await ScriptedServer.StartAsync();
        await using var socket = new RoomSocket(Options(server));
        var connect = socket.ConnectAsync();
        var scripted = await server.AcceptAsync();
        await scripted.SendAsync("welcome 0\n{\"connection\":\"c1\",\"token\":\"t\"}");
        await connect.WaitAsync(Timeout);
        var pending = socket.SendAsync("x");
        await scripted.SendAsync("m not-a-number\n");
        Assert.StartsWith("m 1", await scripted.ReceiveAsync());
        Assert.Equal("close 4002", await scripted.ReceiveAsync());
        scripted.Abort();

        var error = await Assert.ThrowsAsync<RoomClosedException>(async () => await RoomSocketServerTests.TakeAsync(socket, 1));
        Assert.Contains("Protocol error", error.Message);
        Assert.Equal(4002, error.CloseCode);
        await Assert.ThrowsAsync<RoomClosedException>(() => pending.WaitAsync(Timeout));
        Assert.Equal(RoomSocketState.Closed, socket.State);
        await Assert.ThrowsAsync<RoomClosedException>(() => socket.SendAsync("after"));
    }

    [Theory]
    [InlineData(4409, "resumed elsewhere")]
    [InlineData(1008, "too slow")]
    [InlineData(4000, "kicked")]
    public async Task Final_closes_from_the_server_stop_the_socket(int code, string reason)
    {
        await using var server = await ScriptedServer.StartAsync();
        await using var socket = new RoomSocket(Options(server));
        var connect = socket.ConnectAsync();
        var scripted = await server.AcceptAsync();
        await scripted.SendAsync("welcome 0\n{\"connection\":\"c1\",\"token\":\"t\"}");
        await connect.WaitAsync(Timeout);
        await scripted.CloseAsync(code, reason);

        var error = await Assert.ThrowsAsync<RoomClosedException>(async () => await RoomSocketServerTests.TakeAsync(socket, 1));
        Assert.Equal((code, reason), (error.CloseCode, error.Reason));
        Assert.Equal(RoomSocketState.Closed, socket.State);
        using var none = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => server.AcceptAsync().WaitAsync(none.Token)); // no reconnect
    }

    [Fact]
    public async Task A_refused_upgrade_fails_ConnectAsync_with_the_status_and_a_hint()
    {
        await using var server = await ScriptedServer.StartAsync();
        server.RefuseWith = 404;
        await using var socket = new RoomSocket(Options(server));
        var error = await Assert.ThrowsAsync<RoomClosedException>(() => socket.ConnectAsync().WaitAsync(Timeout));
        Assert.Equal(404, error.HttpStatusCode);
        Assert.Contains("RoomSocketOptions.Type", error.Message);
    }

    [Fact]
    public async Task Sends_wait_in_the_bounded_buffer_until_the_first_connect()
    {
        await using var server = await ScriptedServer.StartAsync();
        var options = Options(server);
        options.MaxBufferedMessages = 3;
        await using var socket = new RoomSocket(options);
        var sends = Enumerable.Range(1, 3).Select(i => socket.SendAsync($"early {i}")).ToList();
        var full = await Assert.ThrowsAsync<RoomBufferFullException>(() => socket.SendAsync("one too many"));
        Assert.Equal(3, full.Limit);
        Assert.Equal(RoomSocketState.Created, socket.State);

        var connect = socket.ConnectAsync();
        var scripted = await server.AcceptAsync();
        await scripted.SendAsync("welcome 0\n{\"connection\":\"c1\",\"token\":\"t\"}");
        await connect.WaitAsync(Timeout);
        for (var i = 1; i <= 3; i++)
        {
            Assert.Equal($"m {i}\nearly {i}", await scripted.ReceiveAsync());
        }

        await scripted.SendAsync("ack 3 3");
        Assert.Equal([1L, 2, 3], (await Task.WhenAll(sends).WaitAsync(Timeout)).Select(a => a.Id));
        scripted.Abort();
    }

    [Fact]
    public async Task Close_before_connect_fails_buffered_sends_and_dispose_is_repeatable()
    {
        await using var server = await ScriptedServer.StartAsync();
        var socket = new RoomSocket(Options(server));
        var buffered = socket.SendAsync("never");
        await socket.CloseAsync();
        await Assert.ThrowsAsync<RoomClosedException>(() => buffered.WaitAsync(Timeout));
        await Assert.ThrowsAsync<RoomClosedException>(() => socket.ConnectAsync());
        await socket.DisposeAsync();
        await socket.DisposeAsync();
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => socket.CloseAsync(1001));
    }

    [Fact]
    public async Task Connect_keeps_trying_an_unreachable_server_until_cancelled_and_disposal_stops_it_at_once()
    {
        var options = new RoomSocketOptions
        {
            Server = new Uri($"ws://127.0.0.1:{RoomActors.Tests.Infrastructure.FreePort.Next()}"), // nobody listens
            Type = "echo",
            Name = "nowhere",
            MinReconnectDelay = TimeSpan.FromMilliseconds(20),
            MaxReconnectDelay = TimeSpan.FromMilliseconds(50),
        };
        var socket = new RoomSocket(options);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => socket.ConnectAsync(cancel.Token));
        Assert.Equal(RoomSocketState.Connecting, socket.State); // still trying: cancelling stopped the wait only

        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        await socket.DisposeAsync().AsTask().WaitAsync(Timeout);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(2), $"disposal took {stopwatch.Elapsed}");
        Assert.Equal(RoomSocketState.Closed, socket.State);
        Assert.Empty(await RoomSocketServerTests.TakeAsync(socket, 1)); // the reader ends without an error: the app closed it
    }

    [Fact]
    public async Task Disposal_while_reconnecting_fails_held_sends_and_returns_promptly()
    {
        var server = await ScriptedServer.StartAsync();
        var socket = new RoomSocket(Options(server));
        var connect = socket.ConnectAsync();
        var scripted = await server.AcceptAsync();
        await scripted.SendAsync("welcome 0\n{\"connection\":\"c1\",\"token\":\"t\"}");
        await connect.WaitAsync(Timeout);
        await server.DisposeAsync(); // the server is gone: every resume attempt fails
        for (var i = 0; i < 100 && socket.State != RoomSocketState.Reconnecting; i++)
        {
            await Task.Delay(20);
        }

        Assert.Equal(RoomSocketState.Reconnecting, socket.State);
        var held = socket.SendAsync("held");
        await socket.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(2));
        var error = await Assert.ThrowsAsync<RoomClosedException>(() => held.WaitAsync(Timeout));
        Assert.Equal(1000, error.CloseCode);
    }
}
