using System.Net.WebSockets;
using RoomActors.Gateway.Sockets;

namespace RoomActors.Tests.Gateway;

/// <summary>The close state machine without sockets: who wins, what the close frame says, the writer's signal, the timer.</summary>
public sealed class CloseStateTests
{
    [Fact]
    public void The_first_request_wins()
    {
        var close = new CloseState();

        Assert.True(close.TryBegin((4001, "room"), byRoom: true));
        Assert.False(close.TryBegin((1008, "policy"), byRoom: false));
        Assert.False(close.TryBegin(null, byRoom: false)); // the client's close, later

        Assert.True(close.Requested);
        Assert.Equal((4001, "room"), close.ServerClose);
        Assert.True(close.ClosedByRoom);
    }

    [Fact]
    public void A_client_close_first_leaves_no_server_close()
    {
        var close = new CloseState();

        Assert.True(close.TryBegin(null, byRoom: false));
        Assert.False(close.TryBegin((1001, "shutdown"), byRoom: false));

        Assert.True(close.Requested);
        Assert.Null(close.ServerClose);
        Assert.False(close.ClosedByRoom);
    }

    public static TheoryData<WebSocketState, int?, int?, string?, int?, string?> Frames => new()
    {
        // state, server close code, client's code, client's reason → code and reason sent (null: nothing is sent)
        { WebSocketState.Open, 1001, null, null, 1001, "server" },
        { WebSocketState.Open, null, null, null, 1000, "" },
        { WebSocketState.CloseReceived, null, 4005, "bye", 4005, "bye" }, // echoed (RFC 6455 §5.5.1)
        { WebSocketState.CloseReceived, null, null, null, 1000, "" },
        { WebSocketState.CloseReceived, 1009, 4005, "bye", 1009, "server" }, // the server's close was first
        { WebSocketState.CloseSent, 1001, null, null, null, null },
        { WebSocketState.Closed, 1001, 1000, "", null, null },
        { WebSocketState.Aborted, 1008, null, null, null, null },
    };

    [Theory]
    [MemberData(nameof(Frames))]
    public void The_close_frame_is_the_servers_else_the_clients_echoed(WebSocketState state, int? serverCode, int? clientCode, string? clientReason, int? code, string? reason)
    {
        var frame = CloseState.CloseFrame(state, serverCode is { } s ? (s, "server") : null, (WebSocketCloseStatus?)clientCode, clientReason);

        (int, string)? expected = code is { } c ? (c, reason!) : null;
        Assert.Equal(expected, frame);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(123, 123)]
    [InlineData(124, 123)]
    [InlineData(500, 123)]
    public void A_reason_is_cut_to_123_bytes(int length, int expected)
    {
        Assert.Equal(expected, CloseState.Truncate(new string('r', length)).Length);
    }

    [Fact]
    public void A_reason_is_cut_between_characters()
    {
        Assert.Equal(new string('é', 61), CloseState.Truncate(new string('é', 100))); // 2 bytes each: 122

        var emoji = string.Concat(Enumerable.Repeat("😀", 40)); // 4 bytes and 2 chars each
        Assert.Equal(string.Concat(Enumerable.Repeat("😀", 30)), CloseState.Truncate(emoji)); // 120 bytes, no half pair

        var frame = CloseState.CloseFrame(WebSocketState.Open, (1011, new string('x', 200)), null, null);
        Assert.Equal(123, frame!.Value.Reason.Length);
    }

    [Fact]
    public async Task The_writers_end_is_signalled_to_who_waits_and_to_who_asks_later()
    {
        var close = new CloseState();
        var waiting = close.WriterFinished();
        Assert.False(waiting.IsCompleted);

        var signal = close.FinishWriter();
        Assert.NotNull(signal);
        signal.TrySetResult();

        await waiting.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.True(close.WriterFinished().IsCompleted);
    }

    [Fact]
    public void Nobody_waiting_means_no_signal_object()
    {
        var close = new CloseState();

        Assert.Null(close.FinishWriter());
        Assert.Same(Task.CompletedTask, close.WriterFinished());
    }

    [Fact]
    public async Task The_timer_fires_once_after_the_timeout()
    {
        var close = new CloseState();
        var fired = new TaskCompletionSource<object?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var state = new object();

        close.StartTimer(s => fired.TrySetResult(s), state, TimeSpan.FromMilliseconds(20));

        Assert.Same(state, await fired.Task.WaitAsync(TimeSpan.FromSeconds(5)));
        close.Dispose();
        Assert.True(close.Disposed);
    }

    [Fact]
    public async Task A_disposed_close_state_stops_its_timer()
    {
        var close = new CloseState();
        var fired = 0;

        close.StartTimer(_ => Interlocked.Increment(ref fired), this, TimeSpan.FromMilliseconds(100));
        close.Dispose();
        await Task.Delay(300);

        Assert.Equal(0, fired);
        Assert.True(close.Disposed);
    }
}
