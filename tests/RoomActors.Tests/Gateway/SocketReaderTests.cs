using System.Net.WebSockets;
using System.Text;
using RoomActors.Gateway.Sockets;

namespace RoomActors.Tests.Gateway;

/// <summary>The reader over a real WebSocket on loopback, with a handler that records what it is given.</summary>
public sealed class SocketReaderTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    /// <summary>Records messages and the end; each end reports its own name as the reason.</summary>
    internal sealed class Recorder : ISocketReaderHandler
    {
        public List<Payload> Messages { get; } = [];

        public Exception? Fault { get; private set; }

        /// <summary>When set, a message waits for it before the reader may read on.</summary>
        public TaskCompletionSource? Hold { get; set; }

        /// <summary>When set, taking a message throws it.</summary>
        public Exception? MessageFault { get; set; }

        public async ValueTask OnMessageAsync(Payload frame)
        {
            if (MessageFault is { } fault)
            {
                throw fault;
            }

            lock (Messages)
            {
                Messages.Add(frame);
            }

            if (Hold is { } hold)
            {
                await hold.Task;
            }
        }

        public (int Code, string Reason) OnClientClose() => (1, "client close");

        public (int Code, string Reason) OnMessageTooBig(int limit) => (2, $"too big: {limit}");

        public (int Code, string Reason) OnConnectionLost() => (3, "lost");

        public (int Code, string Reason) OnFault(Exception error)
        {
            Fault = error;
            return (4, "fault");
        }

        public string[] Texts()
        {
            lock (Messages)
            {
                return Messages.Select(m => Encoding.UTF8.GetString(m.Data)).ToArray();
            }
        }
    }

    [Fact]
    public async Task Messages_arrive_whole_and_in_order_however_they_are_split()
    {
        await using var sockets = await LoopbackSockets.OpenAsync();
        var recorder = new Recorder();
        var reading = SocketReader.RunAsync(sockets.Server, 64 * 1024, recorder);
        var large = new string('L', 40 * 1024); // more than one read's buffer of 16 KiB

        await sockets.SendAsync("one");
        await sockets.SendAsync("tw", endOfMessage: false);
        await sockets.SendAsync("o");
        await sockets.SendAsync("");
        await sockets.Client.SendAsync(new byte[] { 1, 2, 3 }, WebSocketMessageType.Binary, true, CancellationToken.None);
        await sockets.SendAsync(large);
        await sockets.Client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);

        Assert.Equal((1, "client close"), await reading.WaitAsync(Wait));
        Assert.Equal(["one", "two", "", "\u0001\u0002\u0003", large], recorder.Texts());
        Assert.Equal([true, true, true, false, true], recorder.Messages.Select(m => m.IsText));
    }

    [Theory]
    [InlineData(10, false, true)]
    [InlineData(11, false, false)]
    [InlineData(10, true, true)]
    [InlineData(11, true, false)]
    public async Task A_message_over_the_limit_ends_the_read_and_is_not_handed_on(int length, bool fragmented, bool fits)
    {
        await using var sockets = await LoopbackSockets.OpenAsync();
        var recorder = new Recorder();
        var reading = SocketReader.RunAsync(sockets.Server, 10, recorder);
        var text = new string('m', length);

        if (fragmented)
        {
            await sockets.SendAsync(text[..5], endOfMessage: false);
            await sockets.SendAsync(text[5..]);
        }
        else
        {
            await sockets.SendAsync(text);
        }

        if (fits)
        {
            await sockets.Client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
            Assert.Equal((1, "client close"), await reading.WaitAsync(Wait));
            Assert.Equal([text], recorder.Texts());
        }
        else
        {
            Assert.Equal((2, "too big: 10"), await reading.WaitAsync(Wait));
            Assert.Empty(recorder.Messages);
        }
    }

    [Fact]
    public async Task The_reader_waits_for_each_message_to_be_taken()
    {
        await using var sockets = await LoopbackSockets.OpenAsync();
        var recorder = new Recorder { Hold = new(TaskCreationOptions.RunContinuationsAsynchronously) };
        var reading = SocketReader.RunAsync(sockets.Server, 1024, recorder);

        await sockets.SendAsync("first");
        await sockets.SendAsync("second");
        await Task.Delay(200);
        Assert.Equal(["first"], recorder.Texts()); // back-pressure: the room has not taken "first" yet

        recorder.Hold.SetResult();
        await sockets.Client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
        Assert.Equal((1, "client close"), await reading.WaitAsync(Wait));
        Assert.Equal(["first", "second"], recorder.Texts());
    }

    [Fact]
    public async Task A_dropped_connection_ends_as_lost()
    {
        await using var sockets = await LoopbackSockets.OpenAsync();
        var recorder = new Recorder();
        var reading = SocketReader.RunAsync(sockets.Server, 1024, recorder);

        await sockets.SendAsync("half", endOfMessage: false);
        sockets.Client.Abort();
        await sockets.DisposeAsync(); // the TCP connection closes without a close frame

        Assert.Equal((3, "lost"), await reading.WaitAsync(Wait));
        Assert.Empty(recorder.Messages);
    }

    [Fact]
    public async Task An_aborted_socket_ends_as_lost()
    {
        await using var sockets = await LoopbackSockets.OpenAsync();
        var recorder = new Recorder();
        var reading = SocketReader.RunAsync(sockets.Server, 1024, recorder);

        sockets.Server.Abort(); // as the close timeout or the writer does

        Assert.Equal((3, "lost"), await reading.WaitAsync(Wait));
    }

    [Fact]
    public async Task An_unexpected_exception_from_the_socket_ends_as_a_fault()
    {
        await using var sockets = await LoopbackSockets.OpenAsync();
        var fault = new InvalidOperationException("injected");
        var socket = new FaultySocket(sockets.Server) { ReceiveFault = fault };
        var recorder = new Recorder();

        Assert.Equal((4, "fault"), await SocketReader.RunAsync(socket, 1024, recorder).WaitAsync(Wait));
        Assert.Same(fault, recorder.Fault);
    }

    [Fact]
    public async Task An_unexpected_exception_from_the_transport_ends_as_lost()
    {
        await using var sockets = await LoopbackSockets.OpenAsync();
        sockets.Transport.ReadFault = new NotSupportedException("injected");
        var recorder = new Recorder();

        // The socket reports what its stream throws as a WebSocketException: the connection is lost.
        Assert.Equal((3, "lost"), await SocketReader.RunAsync(sockets.Server, 1024, recorder).WaitAsync(Wait));
    }

    [Fact]
    public async Task A_handler_that_throws_ends_the_read_as_a_fault()
    {
        await using var sockets = await LoopbackSockets.OpenAsync();
        var fault = new InvalidOperationException("the room's channel is closed");
        var recorder = new Recorder { MessageFault = fault };
        var reading = SocketReader.RunAsync(sockets.Server, 1024, recorder);

        await sockets.SendAsync("hello");

        Assert.Equal((4, "fault"), await reading.WaitAsync(Wait));
        Assert.Same(fault, recorder.Fault);
    }
}
