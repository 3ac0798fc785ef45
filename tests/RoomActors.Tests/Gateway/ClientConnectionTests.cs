using System.Net.WebSockets;
using RoomActors.Gateway;
using RoomActors.Gateway.Sockets;

namespace RoomActors.Tests.Gateway;

/// <summary>One client socket on the gateway, over real WebSockets on loopback: the writer, the close and the reader's ends.</summary>
public sealed class ClientConnectionTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private static GatewayOptions Options(int queueMessages = 1024, int maxMessageBytes = 1024, double closeTimeoutSeconds = 5) => new()
    {
        OutboundQueueMessages = queueMessages,
        MaxMessageBytes = maxMessageBytes,
        CloseTimeout = TimeSpan.FromSeconds(closeTimeoutSeconds),
    };

    // The reader's tests pass no room: none of their messages reaches one (a close, or a message over the limit).
    private static readonly RoomLink NoRoom = null!;

    [Fact]
    public async Task Frames_go_out_in_order()
    {
        await using var sockets = await LoopbackSockets.OpenAsync();
        using var connection = new ClientConnection("c", sockets.Server, Options(), sockets.Stream);

        for (var i = 0; i < 200; i++)
        {
            Assert.True(connection.Enqueue(LoopbackSockets.Text($"m{i}")));
        }

        for (var i = 0; i < 200; i++)
        {
            Assert.Equal($"m{i}", (await sockets.ReceiveAsync()).Text);
        }
    }

    [Fact]
    public async Task Writers_started_together_all_write()
    {
        var pairs = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => LoopbackSockets.OpenAsync()));
        var connections = pairs.Select((p, i) => new ClientConnection($"c{i}", p.Server, Options(), p.Stream)).ToList();
        try
        {
            var writersToStart = new List<ClientConnection>();
            foreach (var connection in connections)
            {
                Assert.True(connection.Enqueue(LoopbackSockets.Text("hello"), writersToStart));
                Assert.True(connection.Enqueue(LoopbackSockets.Text("again"), writersToStart));
            }

            Assert.Equal(3, writersToStart.Count); // one start per connection, however many frames it got
            ClientConnection.StartWriters(writersToStart);
            foreach (var pair in pairs)
            {
                Assert.Equal("hello", (await pair.ReceiveAsync()).Text);
                Assert.Equal("again", (await pair.ReceiveAsync()).Text);
            }
        }
        finally
        {
            foreach (var (connection, pair) in connections.Zip(pairs))
            {
                connection.Dispose();
                await pair.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Writers_started_here_write_the_first_64_on_the_calling_thread_and_leave_the_list_to_the_caller()
    {
        // The pump starts the writers of its batch's delivery itself (one thread-pool hop less per batch); beyond 64 the
        // rest go to work items, so that a big room's fan-out still spreads over the cores.
        var pairs = await Task.WhenAll(Enumerable.Range(0, 66).Select(_ => LoopbackSockets.OpenAsync(coalescing: false)));
        var sockets = pairs.Select(p => new FaultySocket(p.Server)).ToList();
        var connections = sockets.Select((socket, i) => new ClientConnection($"c{i}", socket, Options())).ToList();
        try
        {
            var writersToStart = new List<ClientConnection>();
            foreach (var connection in connections)
            {
                Assert.True(connection.Enqueue(LoopbackSockets.Text("hello"), writersToStart));
            }

            var here = Environment.CurrentManagedThreadId;
            ClientConnection.StartWriters(writersToStart, startFirstHere: true);

            Assert.All(sockets.Take(64), socket => Assert.Equal(here, socket.FirstSendThread));
            Assert.Equal(66, writersToStart.Count); // still the caller's: the last two went out in a copy
            foreach (var pair in pairs)
            {
                Assert.Equal("hello", (await pair.ReceiveAsync()).Text);
            }
        }
        finally
        {
            foreach (var (connection, pair) in connections.Zip(pairs))
            {
                connection.Dispose();
                await pair.DisposeAsync();
            }
        }
    }

    [Theory]
    [InlineData(typeof(InvalidOperationException))]
    [InlineData(typeof(NotSupportedException))]
    [InlineData(typeof(IOException))]
    public async Task The_writer_finishes_when_the_transport_throws(Type exception)
    {
        await using var sockets = await LoopbackSockets.OpenAsync();
        using var connection = new ClientConnection("c", sockets.Server, Options(), sockets.Stream);
        sockets.Transport.WriteFault = (Exception)Activator.CreateInstance(exception, "injected")!;

        Assert.True(connection.Enqueue(LoopbackSockets.Text("hello")));

        await connection.WriterFinished.WaitAsync(Wait);
        Assert.Equal(WebSocketState.Aborted, sockets.Server.State);
        connection.RequestClose(CloseCodes.Normal, "bye"); // a close after the writer gave up: nothing to wait for
        await connection.WriterFinished.WaitAsync(Wait);
    }

    [Fact]
    public async Task The_writer_finishes_when_the_socket_throws_an_unexpected_exception()
    {
        await using var sockets = await LoopbackSockets.OpenAsync(coalescing: false);
        var socket = new FaultySocket(sockets.Server) { SendFault = new NotSupportedException("injected") };
        using var connection = new ClientConnection("c", socket, Options());

        Assert.True(connection.Enqueue(LoopbackSockets.Text("hello")));

        await connection.WriterFinished.WaitAsync(Wait);
        Assert.Equal(1, socket.Aborts);
    }

    [Fact]
    public async Task The_writer_finishes_when_the_close_frame_throws_an_unexpected_exception()
    {
        await using var sockets = await LoopbackSockets.OpenAsync(coalescing: false);
        var socket = new FaultySocket(sockets.Server) { CloseFault = new InvalidOperationException("injected") };
        using var connection = new ClientConnection("c", socket, Options());

        connection.RequestClose(CloseCodes.GoingAway, "server shutting down");

        await connection.WriterFinished.WaitAsync(Wait);
        Assert.Equal(1, socket.Aborts);
    }

    [Fact]
    public async Task Overflow_closes_with_1008_and_drops_the_queue()
    {
        await using var sockets = await LoopbackSockets.OpenAsync();
        using var connection = new ClientConnection("c", sockets.Server, Options(queueMessages: 3), sockets.Stream);
        sockets.Transport.HoldWrites(); // a client that does not read: the first write gets stuck

        Assert.True(connection.Enqueue(LoopbackSockets.Text("first")));
        await sockets.Transport.WriteHeld.WaitAsync(Wait);
        Assert.True(connection.Enqueue(LoopbackSockets.Text("second"))); // still counted: "first" is not written yet
        Assert.True(connection.Enqueue(LoopbackSockets.Text("third")));
        Assert.False(connection.Enqueue(LoopbackSockets.Text("fourth"))); // over the limit of 3
        Assert.False(connection.Enqueue(LoopbackSockets.Text("fifth"))); // closing: nothing more is taken

        Assert.Equal((CloseCodes.PolicyViolation, "client too slow: outbound queue full"), connection.ServerClose);
        sockets.Transport.ReleaseWrites();
        Assert.Equal("first", (await sockets.ReceiveAsync()).Text);
        var close = await sockets.ReceiveAsync(); // "second" and "third" were dropped
        Assert.Equal(WebSocketMessageType.Close, close.Type);
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, close.Status);
        Assert.Equal("client too slow: outbound queue full", close.Description);
        await connection.WriterFinished.WaitAsync(Wait);
    }

    [Fact]
    public async Task The_first_close_wins()
    {
        await using var sockets = await LoopbackSockets.OpenAsync();
        using var connection = new ClientConnection("c", sockets.Server, Options(), sockets.Stream);

        connection.RequestClose(4001, "first", byRoom: true);
        connection.RequestClose(4002, "second");
        connection.OnClientClosed();

        Assert.Equal((4001, "first"), connection.ServerClose);
        Assert.True(connection.ClosedByRoom);
        Assert.False(connection.Enqueue(LoopbackSockets.Text("late")));
        var close = await sockets.ReceiveAsync();
        Assert.Equal((WebSocketCloseStatus)4001, close.Status);
        Assert.Equal("first", close.Description);
        await connection.WriterFinished.WaitAsync(Wait);
    }

    [Fact]
    public async Task A_close_sends_what_is_queued_first()
    {
        await using var sockets = await LoopbackSockets.OpenAsync();
        using var connection = new ClientConnection("c", sockets.Server, Options(), sockets.Stream);
        sockets.Transport.HoldWrites();

        Assert.True(connection.Enqueue(LoopbackSockets.Text("one")));
        await sockets.Transport.WriteHeld.WaitAsync(Wait);
        Assert.True(connection.Enqueue(LoopbackSockets.Text("two")));
        connection.RequestClose(CloseCodes.Normal, "done");
        sockets.Transport.ReleaseWrites();

        Assert.Equal("one", (await sockets.ReceiveAsync()).Text);
        Assert.Equal("two", (await sockets.ReceiveAsync()).Text);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, (await sockets.ReceiveAsync()).Status);
    }

    [Fact]
    public async Task A_long_close_reason_is_cut_to_123_bytes()
    {
        await using var sockets = await LoopbackSockets.OpenAsync();
        using var connection = new ClientConnection("c", sockets.Server, Options(), sockets.Stream);

        connection.RequestClose(CloseCodes.InternalError, new string('é', 100)); // 200 bytes of UTF-8

        var close = await sockets.ReceiveAsync();
        Assert.Equal(new string('é', 61), close.Description);
    }

    [Fact]
    public async Task The_clients_close_is_echoed()
    {
        await using var sockets = await LoopbackSockets.OpenAsync();
        using var connection = new ClientConnection("c", sockets.Server, Options(), sockets.Stream);
        var reading = connection.RunReaderAsync(NoRoom, autoResponse: null);

        await sockets.Client.CloseOutputAsync((WebSocketCloseStatus)4005, "bye", CancellationToken.None);

        Assert.Equal((4005, "bye"), await reading.WaitAsync(Wait));
        Assert.Null(connection.ServerClose);
        var close = await sockets.ReceiveAsync();
        Assert.Equal((WebSocketCloseStatus)4005, close.Status);
        Assert.Equal("bye", close.Description);
        await connection.WriterFinished.WaitAsync(Wait);
    }

    [Fact]
    public async Task The_close_timeout_aborts_the_socket_and_the_transport()
    {
        await using var sockets = await LoopbackSockets.OpenAsync();
        var transportAborts = 0;
        using var connection = new ClientConnection("c", sockets.Server, Options(closeTimeoutSeconds: 0.2), sockets.Stream, () =>
        {
            // As HttpContext.Abort does: the stuck write on the transport ends.
            Interlocked.Increment(ref transportAborts);
            sockets.Transport.Break(new IOException("transport aborted"));
        });
        sockets.Transport.HoldWrites(); // the close frame gets stuck

        connection.RequestClose(CloseCodes.Normal, "bye");

        await connection.WriterFinished.WaitAsync(Wait);
        Assert.Equal(1, transportAborts);
        Assert.Equal(WebSocketState.Aborted, sockets.Server.State);
    }

    [Fact]
    public async Task A_close_timeout_after_the_request_ended_still_aborts_the_socket_and_ends_nothing_else()
    {
        // HttpContext.Abort throws once its request ended; the close timer runs on a timer thread, where an exception
        // would end the process (seen in a full test run: the socket's abort let the request end first).
        await using var sockets = await LoopbackSockets.OpenAsync();
        using var connection = new ClientConnection("c", sockets.Server, Options(closeTimeoutSeconds: 0.2), sockets.Stream,
            () => throw new ObjectDisposedException("Collection", "IFeatureCollection has been disposed."));
        sockets.Transport.HoldWrites(); // the close frame gets stuck

        connection.RequestClose(CloseCodes.Normal, "bye");
        await sockets.Transport.WriteHeld.WaitAsync(Wait);
        for (var i = 0; i < 100 && sockets.Server.State != WebSocketState.Aborted; i++)
        {
            await Task.Delay(50);
        }

        Assert.Equal(WebSocketState.Aborted, sockets.Server.State);
        sockets.Transport.Break(new IOException("transport aborted")); // what the abort would have done: the writer ends
        await connection.WriterFinished.WaitAsync(Wait);
    }

    [Fact]
    public async Task The_reader_of_an_aborted_socket_reports_the_servers_close()
    {
        await using var sockets = await LoopbackSockets.OpenAsync();
        using var connection = new ClientConnection("c", sockets.Server, Options(closeTimeoutSeconds: 0.2), sockets.Stream,
            () => sockets.Transport.Break(new IOException("transport aborted")));
        var reading = connection.RunReaderAsync(NoRoom, autoResponse: null);
        sockets.Transport.HoldWrites();

        connection.RequestClose(CloseCodes.GoingAway, "server shutting down"); // the client never answers

        Assert.Equal((CloseCodes.GoingAway, "server shutting down"), await reading.WaitAsync(Wait));
        await connection.WriterFinished.WaitAsync(Wait);
    }

    [Fact]
    public async Task A_dropped_connection_reads_as_1006()
    {
        await using var sockets = await LoopbackSockets.OpenAsync();
        using var connection = new ClientConnection("c", sockets.Server, Options(), sockets.Stream);
        var reading = connection.RunReaderAsync(NoRoom, autoResponse: null);

        sockets.Client.Abort(); // the TCP connection goes without a close frame
        sockets.Client.Dispose();

        Assert.Equal((CloseCodes.Abnormal, "connection lost"), await reading.WaitAsync(Wait));
        await connection.WriterFinished.WaitAsync(Wait);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_message_over_the_limit_closes_with_1009(bool fragmented)
    {
        await using var sockets = await LoopbackSockets.OpenAsync();
        using var connection = new ClientConnection("c", sockets.Server, Options(maxMessageBytes: 10), sockets.Stream);
        var reading = connection.RunReaderAsync(NoRoom, autoResponse: null);

        if (fragmented)
        {
            await sockets.SendAsync("123456", endOfMessage: false);
            await sockets.SendAsync("78901");
        }
        else
        {
            await sockets.SendAsync("12345678901");
        }

        Assert.Equal((CloseCodes.MessageTooBig, "message exceeds the limit of 10 bytes"), await reading.WaitAsync(Wait));
        var close = await sockets.ReceiveAsync();
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, close.Status);
        Assert.Equal("message exceeds the limit of 10 bytes", close.Description);
        await connection.WriterFinished.WaitAsync(Wait);
    }

    [Theory]
    [InlineData(typeof(InvalidOperationException))]
    [InlineData(typeof(NotSupportedException))]
    public async Task A_reader_that_fails_unexpectedly_closes_with_1011_and_the_writer_finishes(Type exception)
    {
        await using var sockets = await LoopbackSockets.OpenAsync();
        var socket = new FaultySocket(sockets.Server) { ReceiveFault = (Exception)Activator.CreateInstance(exception, "injected")! };
        using var connection = new ClientConnection("c", socket, Options(), sockets.Stream);

        var (code, _) = await connection.RunReaderAsync(NoRoom, autoResponse: null).WaitAsync(Wait);

        Assert.Equal(CloseCodes.InternalError, code);
        Assert.Equal(WebSocketCloseStatus.InternalServerError, (await sockets.ReceiveAsync()).Status);
        await connection.WriterFinished.WaitAsync(Wait);
    }
}
