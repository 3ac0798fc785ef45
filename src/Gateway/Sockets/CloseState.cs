using System.Net.WebSockets;
using System.Text;

namespace RoomActors.Gateway.Sockets;

/// <summary>
/// The close state of one connection: the first close request wins and fixes what the server sends (its own code, or,
/// when the client closed first, the client's code echoed); a timer bounds the whole close; the writer's end is
/// signalled once, to whoever waits for it.
/// </summary>
/// <remarks>
/// A field of its <see cref="ClientConnection"/>, guarded by the connection's lock: no object of its own. The timer and
/// the signal exist only once a close began or someone waits. What the close frame says is decided here, without I/O
/// (<see cref="CloseFrame"/>); the connection sends it and aborts the socket when the timer fires.
/// </remarks>
internal struct CloseState
{
    /// <summary>The most UTF-8 bytes a close reason may have (RFC 6455 §5.5: 125 payload bytes, 2 of them the code).</summary>
    public const int MaxReasonBytes = 123;

    private Timer? _timer;
    private TaskCompletionSource? _writerFinishedSignal;
    private bool _writerFinished;
    private bool _disposed;

    /// <summary>True once a close was requested, by the server or the client.</summary>
    public bool Requested { readonly get; private set; }

    /// <summary>The close code and reason the server chose, or null when the client closed first.</summary>
    public (int Code, string Reason)? ServerClose { readonly get; private set; }

    /// <summary>True when the room itself closed the connection.</summary>
    public bool ClosedByRoom { readonly get; private set; }

    /// <summary>True once the connection is disposed: a close timer that fires now does nothing.</summary>
    public readonly bool Disposed => _disposed;

    /// <summary>
    /// Records a close request: <paramref name="serverClose"/> is the server's code and reason, or null for the client's
    /// close. False, changing nothing, when a close was requested before: the first request wins.
    /// </summary>
    public bool TryBegin((int Code, string Reason)? serverClose, bool byRoom)
    {
        if (Requested)
        {
            return false;
        }

        Requested = true;
        ServerClose = serverClose;
        ClosedByRoom = byRoom;
        return true;
    }

    /// <summary>Runs <paramref name="onTimeout"/> with <paramref name="state"/> once <paramref name="timeout"/> has passed, unless disposed first.</summary>
    public void StartTimer(TimerCallback onTimeout, object state, TimeSpan timeout) =>
        _timer ??= new Timer(onTimeout, state, timeout, Timeout.InfiniteTimeSpan);

    /// <summary>Completes once the writer has finished (see <see cref="FinishWriter"/>).</summary>
    public Task WriterFinished() =>
        _writerFinished ? Task.CompletedTask : (_writerFinishedSignal ??= new(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    /// <summary>The writer has finished: returns the signal to complete (outside the lock), if anyone waits.</summary>
    public TaskCompletionSource? FinishWriter()
    {
        _writerFinished = true;
        return _writerFinishedSignal;
    }

    /// <summary>Stops the close timer.</summary>
    public void Dispose()
    {
        _disposed = true;
        _timer?.Dispose();
    }

    /// <summary>
    /// The close frame to send on a socket in <paramref name="state"/>, or null when it can no longer send one: the
    /// server's close; else, when the client closed first, the client's code and reason echoed (RFC 6455 §5.5.1); else
    /// 1000. The reason is cut to <see cref="MaxReasonBytes"/>.
    /// </summary>
    public static (int Code, string Reason)? CloseFrame(WebSocketState state, (int Code, string Reason)? serverClose, WebSocketCloseStatus? clientStatus, string? clientReason)
    {
        if (state is not (WebSocketState.Open or WebSocketState.CloseReceived))
        {
            return null;
        }

        var (code, reason) = serverClose
            ?? (state == WebSocketState.CloseReceived ? ClientClose(clientStatus, clientReason) : (CloseCodes.Normal, ""));
        return (code, Truncate(reason));
    }

    /// <summary>The client's close as reported to the room: its code (1000 when it gave none) and reason.</summary>
    public static (int Code, string Reason) ClientClose(WebSocketCloseStatus? status, string? reason) =>
        ((int?)status ?? CloseCodes.Normal, reason ?? "");

    /// <summary>Cuts <paramref name="reason"/> to at most <see cref="MaxReasonBytes"/> UTF-8 bytes, on a character boundary.</summary>
    public static string Truncate(string reason)
    {
        if (Encoding.UTF8.GetByteCount(reason) <= MaxReasonBytes)
        {
            return reason;
        }

        var chars = reason.AsSpan();
        while (Encoding.UTF8.GetByteCount(chars) > MaxReasonBytes)
        {
            chars = chars[..^1];
        }

        if (chars.Length > 0 && char.IsHighSurrogate(chars[^1]))
        {
            chars = chars[..^1]; // not half a surrogate pair
        }

        return chars.ToString();
    }
}
