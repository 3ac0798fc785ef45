using System.Buffers;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;

namespace RoomActors.Gateway.Sockets;

/// <summary>
/// One client socket on this gateway: a bounded outbound queue, drained by one writer at a time, and the close state.
/// Deliveries only enqueue (never block); a client whose queue overflows is closed with 1008. The writer runs only
/// while there is something to write: an idle connection holds no queue, no writer and no buffer.
/// </summary>
internal sealed class ClientConnection : IDisposable
{
    private readonly WebSocket _socket;
    private readonly GatewayOptions _options;
    private readonly CoalescingStream? _stream;
    private readonly Lock _lock = new();

    // Guarded by _lock.
    private Queue<OutboundFrame>? _queue;
    private Queue<OutboundFrame>? _spare;
    private int _queuedMessages;
    private long _queuedBytes;
    private bool _writing;
    private bool _closeRequested;
    private bool _finished;
    private TaskCompletionSource? _finishedSignal;
    private Timer? _closeTimer;
    private bool _disposed;
    private readonly Action? _abortTransport;

    /// <summary>
    /// A connection over <paramref name="socket"/>. <paramref name="abortTransport"/> aborts the underlying connection
    /// (e.g. <c>HttpContext.Abort</c>): the only thing that ends a read or a write stuck on the transport once the close
    /// timeout has passed.
    /// </summary>
    public ClientConnection(string id, WebSocket socket, GatewayOptions options, CoalescingStream? stream = null, Action? abortTransport = null)
    {
        Id = id;
        _socket = socket;
        _options = options;
        _stream = stream;
        _abortTransport = abortTransport;
    }

    public string Id { get; }

    /// <summary>The close code and reason the server chose (room, policy, shutdown), or null when the client closed first.</summary>
    public (int Code, string Reason)? ServerClose { get; private set; }

    /// <summary>True when the room itself closed this connection (so the room need not be told).</summary>
    public bool ClosedByRoom { get; private set; }

    /// <summary>Completes once the writer has sent the close frame (or given up on the socket).</summary>
    public Task WriterFinished
    {
        get
        {
            lock (_lock)
            {
                return _finished ? Task.CompletedTask : (_finishedSignal ??= new(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }
        }
    }

    /// <summary>Queues a frame for the writer. Never blocks. False when the connection is closing or just overflowed.</summary>
    public bool Enqueue(OutboundFrame frame) => Enqueue(frame, writersToStart: null);

    /// <summary>
    /// Queues a frame; when the writer must be started, adds this connection to <paramref name="writersToStart"/> for
    /// the caller to pass to <see cref="StartWriters"/> (one work item for many connections), or, when that is null,
    /// starts it here.
    /// </summary>
    public bool Enqueue(OutboundFrame frame, List<ClientConnection>? writersToStart)
    {
        bool start = false, overflow;
        lock (_lock)
        {
            if (_closeRequested)
            {
                return false;
            }

            overflow = _queuedMessages + 1 > _options.OutboundQueueMessages || _queuedBytes + frame.Length > _options.OutboundQueueBytes;
            if (!overflow)
            {
                (_queue ??= new Queue<OutboundFrame>()).Enqueue(frame);
                _queuedMessages++;
                _queuedBytes += frame.Length;
                start = StartWriting();
            }
        }

        if (overflow)
        {
            RequestClose(CloseCodes.PolicyViolation, "client too slow: outbound queue full", discardQueued: true);
            return false;
        }

        if (start)
        {
            if (writersToStart is null)
            {
                ScheduleWriter();
            }
            else
            {
                writersToStart.Add(this);
            }
        }

        return true;
    }

    /// <summary>
    /// Starts the writers of <paramref name="connections"/> (which this call takes over), up to 64 per thread-pool work
    /// item: one delivery to a room's members costs one or a few work items, not one per member.
    /// </summary>
    public static void StartWriters(List<ClientConnection> connections)
    {
        const int PerWorkItem = 64;
        for (var i = 0; i < connections.Count; i += PerWorkItem)
        {
            var chunk = connections.Count <= PerWorkItem ? connections : connections.GetRange(i, Math.Min(PerWorkItem, connections.Count - i));
            ThreadPool.UnsafeQueueUserWorkItem(static chunk =>
            {
                foreach (var connection in chunk)
                {
                    // Each runs until its first write that cannot complete at once, then continues on its own.
                    _ = connection.WriteAsync();
                }
            }, chunk, preferLocal: true);
        }
    }

    /// <summary>
    /// Starts closing with <paramref name="code"/>: the writer sends what is queued (or drops it when
    /// <paramref name="discardQueued"/>), then the close frame. The first request wins.
    /// </summary>
    public void RequestClose(int code, string reason, bool discardQueued = false, bool byRoom = false) =>
        BeginClose(discardQueued, (code, reason), byRoom);

    /// <summary>The client sent a close frame: answer it without sending what is still queued.</summary>
    public void OnClientClosed() => BeginClose(discardQueued: true);

    private void BeginClose(bool discardQueued, (int Code, string Reason)? serverClose = null, bool byRoom = false)
    {
        bool start;
        lock (_lock)
        {
            if (_closeRequested)
            {
                return;
            }

            _closeRequested = true;
            ServerClose = serverClose;
            ClosedByRoom = byRoom;
            if (discardQueued)
            {
                _queue?.Clear(); // and nothing more is taken after a close
            }

            // Flushing, the close frame and the client's answer get the close timeout together: a write may be stuck
            // on a client that does not read, and it must not hold the connection open.
            _closeTimer = new Timer(static c => ((ClientConnection)c!).OnCloseTimeout(), this, _options.CloseTimeout, Timeout.InfiniteTimeSpan);
            start = StartWriting();
        }

        if (start)
        {
            ScheduleWriter();
        }
    }

    /// <summary>The close did not complete in time: abort the socket and its transport, which ends a stuck read or write.</summary>
    private void OnCloseTimeout()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }
        }

        _socket.Abort();
        _abortTransport?.Invoke();
    }

    /// <summary>Under the lock: true when the caller must start the writer (none is running).</summary>
    private bool StartWriting()
    {
        if (_writing)
        {
            return false;
        }

        _writing = true;
        return true;
    }

    /// <summary>Off the caller's thread: deliveries fan out under the room's lock and never write to a socket there.</summary>
    private void ScheduleWriter() =>
        ThreadPool.UnsafeQueueUserWorkItem(static c => _ = c.WriteAsync(), this, preferLocal: true);

    /// <summary>
    /// The writer (one at a time): sends queued frames in order, each batch in one flush, and ends when the queue is
    /// empty; once a close is requested it sends the close frame, aborting the socket when it cannot.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteAsync()
    {
        try
        {
            while (true)
            {
                Queue<OutboundFrame> batch;
                lock (_lock)
                {
                    if (_queue is not { Count: > 0 })
                    {
                        if (!_closeRequested)
                        {
                            _writing = false;
                            return;
                        }

                        break;
                    }

                    batch = _queue;
                    _queue = _spare;
                    _spare = null;
                }

                var bytes = 0L;
                var count = batch.Count;

                // Everything already queued goes out in one write (see CoalescingStream); nothing waits for more.
                _stream?.BeginBatch();
                foreach (var frame in batch)
                {
                    bytes += frame.Length;
                    if (_stream is not null)
                    {
                        // The finished frame, encoded once for all its recipients; a keep-alive ping the socket sends
                        // meanwhile goes between two frames (the stream takes one write at a time).
                        await _stream.WriteAsync(frame.Encoded, CancellationToken.None);
                    }
                    else
                    {
                        var type = frame.Payload.IsText ? WebSocketMessageType.Text : WebSocketMessageType.Binary;
                        await _socket.SendAsync(frame.Payload.Data, type, true, CancellationToken.None);
                    }
                }

                if (_stream is not null)
                {
                    await _stream.EndBatchAsync(CancellationToken.None);
                }

                batch.Clear();
                lock (_lock)
                {
                    // Counted until written: a stuck write keeps the queue full, so a client that stops reading overflows.
                    _queuedMessages -= count;
                    _queuedBytes -= bytes;
                    _spare = batch;
                }
            }

            await SendCloseAsync();
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException or ObjectDisposedException)
        {
            // The peer is gone or stuck past the close timeout: abort; the reader reports the close to the room.
            _socket.Abort();
        }

        TaskCompletionSource? signal;
        lock (_lock)
        {
            _finished = true;
            signal = _finishedSignal;
        }

        signal?.TrySetResult();
    }

    /// <summary>Stops the close timer; the socket itself belongs to the handler.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            _closeTimer?.Dispose();
        }
    }

    private async Task SendCloseAsync()
    {
        if (_socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived))
        {
            return;
        }

        var (code, reason) = ServerClose ?? (CloseCodes.Normal, "");
        if (_socket.State == WebSocketState.CloseReceived && ServerClose is null)
        {
            // Echo the client's close code, as RFC 6455 §5.5.1 suggests.
            code = (int?)_socket.CloseStatus ?? CloseCodes.Normal;
            reason = _socket.CloseStatusDescription ?? "";
        }

        await _socket.CloseOutputAsync((WebSocketCloseStatus)code, Truncate(reason), CancellationToken.None);
    }

    /// <summary>A close reason has at most 123 UTF-8 bytes.</summary>
    private static string Truncate(string reason)
    {
        if (System.Text.Encoding.UTF8.GetByteCount(reason) <= 123)
        {
            return reason;
        }

        var chars = reason.AsSpan();
        while (System.Text.Encoding.UTF8.GetByteCount(chars) > 123)
        {
            chars = chars[..^1];
        }

        return chars.ToString();
    }

    /// <summary>
    /// The single reader: hands every complete message to <paramref name="room"/> in order (or answers the gateway's
    /// <paramref name="autoResponse"/> request itself) until the socket closes, and says how it closed (the server's
    /// code if the server closed first, else the client's, else 1006).
    /// </summary>
    public async Task<(int Code, string Reason)> RunReaderAsync(RoomLink room, (Payload Request, OutboundFrame Response)? autoResponse)
    {
        var bufferSize = Math.Min(16 * 1024, _options.MaxMessageBytes + 1);
        MemoryStream? message = null; // only for a message that arrives in several reads
        try
        {
            while (true)
            {
                // A zero-byte read waits for the next frame without holding a buffer: an idle socket costs no buffer.
                // It returns once a frame header is in; a frame with an empty payload may already be complete then.
                // No cancellation token: a close that times out aborts the transport, which ends the read (OnCloseTimeout).
                var result = await _socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None);
                byte[]? buffer = null;
                try
                {
                    if (result.MessageType != WebSocketMessageType.Close && !result.EndOfMessage)
                    {
                        buffer = ArrayPool<byte>.Shared.Rent(bufferSize);
                        result = await _socket.ReceiveAsync(buffer.AsMemory(0, bufferSize), CancellationToken.None);
                    }

                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        OnClientClosed();
                        return ServerClose ?? ((int?)_socket.CloseStatus ?? CloseCodes.Normal, _socket.CloseStatusDescription ?? "");
                    }

                    var pending = message?.Length ?? 0;
                    if (pending + result.Count > _options.MaxMessageBytes)
                    {
                        RequestClose(CloseCodes.MessageTooBig, $"message exceeds the limit of {_options.MaxMessageBytes} bytes", discardQueued: true);
                        return ServerClose!.Value;
                    }

                    var chunk = buffer.AsSpan(0, result.Count);
                    var isText = result.MessageType == WebSocketMessageType.Text;
                    if (result.EndOfMessage && pending == 0)
                    {
                        // The common case: the whole message arrived in one read.
                        await OnMessageAsync(room, autoResponse, new Payload(isText, chunk.ToArray()));
                        continue;
                    }

                    message ??= new MemoryStream();
                    message.Write(chunk);
                    if (result.EndOfMessage)
                    {
                        await OnMessageAsync(room, autoResponse, new Payload(isText, message.ToArray()));
                        message.SetLength(0);
                    }
                }
                finally
                {
                    if (buffer is not null)
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                    }
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException or ObjectDisposedException)
        {
            // The connection dropped or was aborted: report the server's reason if it had one, else 1006.
            _socket.Abort();
            BeginClose(discardQueued: true); // lets the writer finish
            return ServerClose ?? (CloseCodes.Abnormal, "connection lost");
        }
    }

    private ValueTask OnMessageAsync(RoomLink room, (Payload Request, OutboundFrame Response)? autoResponse, Payload frame)
    {
        if (autoResponse is { } auto && frame.IsText && frame.Data.AsSpan().SequenceEqual(auto.Request.Data))
        {
            // Answered here, without waking the room; the room learns the time with its next batch.
            Enqueue(auto.Response);
            room.Pinged(Id);
            return ValueTask.CompletedTask;
        }

        return room.SendToRoomAsync(InboundEvent.Message(Id, frame));
    }
}
