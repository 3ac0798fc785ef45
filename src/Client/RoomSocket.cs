using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Threading.Channels;
using RoomActors.Client.Internal;

namespace RoomActors.Client;

/// <summary>
/// A WebSocket to one room that stays connected: after a drop it resumes its connection on any gateway (same id,
/// missed messages replayed in order, nothing repeated), re-sends what the room did not acknowledge with the same ids
/// (the room processes each at most once), and when the server cannot resume it raises <see cref="Resynced"/> and
/// connects fresh. Speaks the <c>roomactors.v1</c> subprotocol.
/// </summary>
/// <remarks>
/// One reader (<see cref="ReadAllAsync"/>) and any number of concurrent senders. Received messages wait in an unbounded
/// queue until read: an app that stops reading keeps them in memory (the server closes a connection that falls behind
/// on its side, not this one); read them, or close the socket. Disposal closes the socket (1000) and stops every
/// background task.
/// </remarks>
public sealed partial class RoomSocket : IAsyncDisposable
{
    private readonly RoomSocketOptions _options;
    private readonly TimeProvider _time;
    private readonly object _gate = new();
    private readonly Outbox _outbox;
    private readonly SeqTracker _seq = new();
    private readonly Channel<RoomMessage> _messages =
        Channel.CreateUnbounded<RoomMessage>(new UnboundedChannelOptions { SingleWriter = true });
    private readonly Channel<bool> _wakeWriter =
        Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly TaskCompletionSource _firstOpen = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new(); // cancelled to stop; not disposed (no timer; the links to it are)
    private long _attempts; // connection attempts, for taking the fallback gateways in turn (the run loop only)
    private RoomSocketState _state;
    private Task? _loop;
    private Link? _link;
    private string? _connectionId;
    private string? _token;
    private (int Code, string Reason)? _closeRequest;

    /// <summary>Creates a socket; nothing is sent until <see cref="ConnectAsync"/>.</summary>
    /// <exception cref="ArgumentException">An option is invalid; the message names it and says what to change.</exception>
    public RoomSocket(RoomSocketOptions options)
        : this(options, TimeProvider.System)
    {
    }

    /// <param name="options">Checked and copied: later changes to it do not affect the socket.</param>
    /// <param name="time">The clock of the reconnect waits and of the writer's stop.</param>
    internal RoomSocket(RoomSocketOptions options, TimeProvider time)
    {
        RoomSocketOptionsValidator.Validate(options);
        _options = Copy(options);
        _time = time;
        _outbox = new Outbox(options.MaxBufferedMessages);
    }

    /// <summary>
    /// Raised when the server could not resume the connection (<c>4403</c>, <c>4410</c>): messages may have been
    /// missed and sends not yet acknowledged failed with <see cref="RoomResyncException"/>. The socket connects fresh;
    /// re-read the room's state. Handlers run on the socket's background loop: keep them short and never block on the
    /// socket's tasks there (they may start <see cref="SendAsync(string)"/>, which queues, but not wait for it); an
    /// exception from one is traced (<see cref="System.Diagnostics.Trace"/>) and ignored.
    /// </summary>
    public event EventHandler<RoomResyncedEventArgs>? Resynced;

    /// <summary>Raised on the background loop each time a connection is ready (true: resumed; false: a new connection).</summary>
    internal event Action<bool>? OpenedForTest;

    /// <summary>The connection id from the last <c>welcome</c> (kept by resumes); null before it and after a resync.</summary>
    public string? ConnectionId
    {
        get
        {
            lock (_gate)
            {
                return _connectionId;
            }
        }
    }

    /// <summary>
    /// The room's number of the last message or acknowledgement seen (null before the first <c>welcome</c>): every
    /// earlier message addressed to this client has been received. A resume asks for what came after it.
    /// </summary>
    public long? LastSeq
    {
        get
        {
            lock (_gate)
            {
                return _seq.LastSeq;
            }
        }
    }

    /// <summary>Where the socket is in its life.</summary>
    public RoomSocketState State
    {
        get
        {
            lock (_gate)
            {
                return _state;
            }
        }
    }

    /// <summary>
    /// Starts connecting (once) and returns when the room welcomed the connection (at once if it did before). Until then, and whenever the socket
    /// reconnects, sends wait in the buffer. A failed attempt (server down, network away) is retried with backoff;
    /// cancelling <paramref name="cancellationToken"/> stops the wait, not the connecting (close or dispose for that).
    /// </summary>
    /// <exception cref="RoomClosedException">The server refused the connection (HTTP 4xx, another protocol) or closed
    /// it for good, or the socket was closed.</exception>
    public async Task ConnectAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            ThrowIfClosed();
            if (_loop is null)
            {
                _state = RoomSocketState.Connecting;
                _loop = Task.Run(RunAsync, CancellationToken.None);
            }
        }

        await _firstOpen.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends a text message; completes when the room acknowledged it.</summary>
    /// <inheritdoc cref="SendAsync(ReadOnlyMemory{byte}, CancellationToken)"/>
    public Task<RoomAck> SendAsync(string text) => SendAsync(text, CancellationToken.None);

    /// <summary>Sends a text message; completes when the room acknowledged it.</summary>
    /// <inheritdoc cref="SendAsync(ReadOnlyMemory{byte}, CancellationToken)"/>
    public Task<RoomAck> SendAsync(string text, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(text);
        return SendAsync(isText: true, Encoding.UTF8.GetBytes(text), cancellationToken);
    }

    /// <summary>
    /// Sends a binary message (copied: the caller may reuse its buffer); completes when the room acknowledged it: the
    /// turn that handled it ended, after its state write, and everything that turn sent this client was received first.
    /// While the socket is not open the message waits in the buffer; a message written but not acknowledged before a
    /// drop is re-sent with the same id after the resume. Cancelling stops the wait, not the send.
    /// </summary>
    /// <exception cref="RoomResyncException">The connection could not be resumed before the ack: the room may or may not
    /// have processed the message.</exception>
    /// <exception cref="RoomBufferFullException"><see cref="RoomSocketOptions.MaxBufferedMessages"/> messages are held.</exception>
    /// <exception cref="RoomClosedException">The socket is closed, or closed for good before the ack.</exception>
    public Task<RoomAck> SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        SendAsync(isText: false, data.ToArray(), cancellationToken);

    /// <inheritdoc cref="SendAsync(ReadOnlyMemory{byte}, CancellationToken)"/>
    public Task<RoomAck> SendAsync(ReadOnlyMemory<byte> data) => SendAsync(data, CancellationToken.None);

    /// <summary>
    /// The room's messages in order, as they arrive, across resumes and resyncs. Ends when the socket is closed by the
    /// app; throws <see cref="RoomClosedException"/> when the server closed it for good. One reader at a time.
    /// </summary>
    public IAsyncEnumerable<RoomMessage> ReadAllAsync(CancellationToken cancellationToken = default) =>
        _messages.Reader.ReadAllAsync(cancellationToken);

    /// <summary>
    /// Leaves the room for good: the server forgets the connection at once (its close hook runs) and the socket does not
    /// reconnect. Sends not yet acknowledged fail with <see cref="RoomClosedException"/>; messages already received can
    /// still be read. Waits up to <see cref="RoomSocketOptions.CloseTimeout"/> for the server's answer, then aborts;
    /// cancelling aborts at once.
    /// </summary>
    /// <param name="code">1000, or an application code 4000–4999: the codes by which a client leaves.</param>
    /// <param name="reason">At most 123 bytes of UTF-8.</param>
    /// <param name="cancellationToken">Aborts the close handshake.</param>
    public async Task CloseAsync(int code = 1000, string reason = "", CancellationToken cancellationToken = default)
    {
        if (code != 1000 && code is not (>= 4000 and <= 4999))
        {
            throw new ArgumentOutOfRangeException(nameof(code), code,
                "A client leaves with 1000 or 4000-4999; other codes would keep the connection open on the server for a resume.");
        }

        ArgumentNullException.ThrowIfNull(reason);
        if (Encoding.UTF8.GetByteCount(reason) > 123)
        {
            throw new ArgumentException("A close reason is at most 123 bytes of UTF-8; shorten it.", nameof(reason));
        }

        Task? loop;
        bool open;
        lock (_gate)
        {
            _closeRequest ??= (code, reason);
            loop = _loop;
            open = _state == RoomSocketState.Open;
            if (loop is null)
            {
                _state = RoomSocketState.Closed;
            }
        }

        if (loop is null)
        {
            Finish(error: null);
            return;
        }

        if (loop.IsCompleted)
        {
            return;
        }

        if (!open)
        {
            _stop.Cancel(); // not connected: nothing to say goodbye on
        }

        _wakeWriter.Writer.TryWrite(true); // the writer sends the close frame
        try
        {
            await loop.WaitAsync(_options.CloseTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            // Abort: the server did not answer the close in time, or the caller gave up waiting.
            _stop.Cancel();
            await loop.ConfigureAwait(false); // every wait of the loop ends with _stop
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    /// <summary>Closes the socket (1000, see <see cref="CloseAsync"/>) if it is not closed, and stops every background task.</summary>
    public async ValueTask DisposeAsync()
    {
        await CloseAsync().ConfigureAwait(false);
        _stop.Cancel();
        if (_loop is { } loop)
        {
            await loop.ConfigureAwait(false);
        }
    }

    /// <summary>Test hook: drops the current socket without a close frame, as a network failure would (the server sees 1006).</summary>
    internal void AbortConnectionForTest()
    {
        Link? link;
        lock (_gate)
        {
            link = _link;
        }

        link?.Socket.Abort();
    }

    /// <summary>Test hook: called by the reader after it applied an ack (with its id), before the next frame.</summary>
    internal Action<long>? AfterAckForTest { get; set; }

    /// <summary>Test hook: how many messages are taken by the writer and not acknowledged (re-sent by a resume).</summary>
    internal int UnacknowledgedForTest
    {
        get
        {
            lock (_gate)
            {
                return _outbox.Unacked.Count;
            }
        }
    }

    /// <summary>Test hook: the current resume token (null before a welcome and after a resync).</summary>
    internal string? ResumeTokenForTest
    {
        get
        {
            lock (_gate)
            {
                return _token;
            }
        }
    }

    /// <summary>Test hook: replaces the resume token, so that the next resume presents <paramref name="token"/>.</summary>
    internal void ReplaceResumeTokenForTest(string token)
    {
        lock (_gate)
        {
            _token = token;
        }
    }

    private async Task<RoomAck> SendAsync(bool isText, byte[] payload, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var message = new OutgoingMessage(isText, payload);
        lock (_gate)
        {
            ThrowIfClosed();
            _outbox.Add(message);
        }

        _wakeWriter.Writer.TryWrite(true);
        return await message.Done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private void ThrowIfClosed()
    {
        if (_state == RoomSocketState.Closed || _closeRequest is not null)
        {
            throw new RoomClosedException("The RoomSocket is closed (CloseAsync, disposal, or a final close from the server); create a new one.");
        }
    }

    private void RaiseResynced(int code, string reason)
    {
        try
        {
            Resynced?.Invoke(this, new RoomResyncedEventArgs(code, reason));
        }
        catch (Exception e)
        {
            // Report and carry on: one app handler must not stop the socket from connecting fresh.
            Trace.TraceError($"RoomSocket.Resynced handler threw: {e}");
        }
    }

    private void RaiseOpened(bool resumed)
    {
        try
        {
            OpenedForTest?.Invoke(resumed);
        }
        catch (Exception e)
        {
            // Report and carry on, as for Resynced.
            Trace.TraceError($"RoomSocket opened handler threw: {e}");
        }
    }

    private static RoomSocketOptions Copy(RoomSocketOptions options)
    {
        var copy = new RoomSocketOptions
        {
            Server = options.Server,
            Type = options.Type,
            Name = options.Name,
            Ticket = options.Ticket,
            TicketProvider = options.TicketProvider,
            MaxBufferedMessages = options.MaxBufferedMessages,
            MinReconnectDelay = options.MinReconnectDelay,
            MaxReconnectDelay = options.MaxReconnectDelay,
            ConnectTimeout = options.ConnectTimeout,
            KeepAliveInterval = options.KeepAliveInterval,
            CloseTimeout = options.CloseTimeout,
            MaxMessageBytes = options.MaxMessageBytes,
        };
        foreach (var (key, value) in options.Query)
        {
            copy.Query[key] = value;
        }

        foreach (var server in options.FallbackServers)
        {
            copy.FallbackServers.Add(server);
        }

        return copy;
    }
}
