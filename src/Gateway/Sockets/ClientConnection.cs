using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using RoomActors.Gateway.Diagnostics;

namespace RoomActors.Gateway.Sockets;

/// <summary>
/// One client socket on this gateway: its <see cref="OutboundQueue"/> and the writer that drains it, its
/// <see cref="CloseState"/>, and its <see cref="SocketReader"/>. Deliveries only enqueue (never block); a client whose
/// queue overflows is closed with 1008. The writer runs only while there is something to write, and always finishes
/// once the connection closes: an idle connection holds no writer and no buffer.
/// </summary>
/// <remarks>
/// The queue and the close state are fields of this one object, guarded by one lock; the reader lives in its one async
/// call. This class composes them: it takes the lock, starts the writer, and does the socket's I/O.
/// </remarks>
internal sealed class ClientConnection : IDisposable
{
    private readonly WebSocket _socket;
    private readonly GatewayOptions _options;
    private readonly IFrameLayer? _frames;
    private readonly Action? _abortTransport;
    private readonly Lock _lock = new();
    private OutboundQueue _outbound; // guarded by _lock
    private CloseState _close; // guarded by _lock

    /// <summary>
    /// A connection over <paramref name="socket"/>. <paramref name="abortTransport"/> aborts the underlying connection
    /// (e.g. <c>HttpContext.Abort</c>): the only thing that ends a read or a write stuck on the transport once the close
    /// timeout has passed.
    /// </summary>
    public ClientConnection(string id, WebSocket socket, GatewayOptions options, IFrameLayer? frames = null, Action? abortTransport = null)
    {
        Id = id;
        _socket = socket;
        _options = options;
        _frames = frames;
        _abortTransport = abortTransport;
        if (frames is not null)
        {
            frames.Connection = this;
        }
    }

    /// <summary>
    /// The frame layer found a protocol error in the client's frames (see <see cref="IFrameLayer.Connection"/>): close at
    /// once with <paramref name="code"/> (1002, 1007 or 1009), dropping what is queued; the close timeout aborts the socket
    /// if the client does not answer.
    /// </summary>
    public void OnProtocolError(int code, string reason) => RequestClose(code, reason, discardQueued: true);

    public string Id { get; }

    /// <summary>The client speaks <c>roomactors.v1</c>: envelopes both ways, a welcome, acks, and it may resume.</summary>
    public bool Enveloped { get; init; }

    /// <summary>This socket's number (see <c>ConnectRequest.Attachment</c>); 0 for a raw client.</summary>
    public long Attachment { get; init; }

    /// <summary>The gateway's inbound message buckets, one per connection; null: no limit.</summary>
    public System.Threading.RateLimiting.PartitionedRateLimiter<ClientConnection>? MessageRate { get; init; }

    private bool _rateExceeded; // set once, by the reader only

    /// <summary>The client went over the message rate and is closed with 1008 (read once the reader ended).</summary>
    public bool RateExceeded => _rateExceeded;

    /// <summary>The resume token's secret until the welcome frame carries it (then dropped: an open socket keeps no copy).</summary>
    public string? ResumeSecret { init => _secret = value; }

    private string? _secret;

    /// <summary>The resume secret, once: the welcome frame takes it.</summary>
    public string TakeResumeSecret()
    {
        var secret = _secret ?? "";
        _secret = null;
        return secret;
    }

    /// <summary>The close code and reason the server chose (room, policy, shutdown), or null when the client closed first.</summary>
    public (int Code, string Reason)? ServerClose => _close.ServerClose;

    /// <summary>True when the room itself closed this connection (so the room need not be told).</summary>
    public bool ClosedByRoom => _close.ClosedByRoom;

    /// <summary>
    /// Completes once the writer has sent the close frame or given up on the socket: after any close request (or a
    /// failed write), it always does.
    /// </summary>
    public Task WriterFinished
    {
        get
        {
            lock (_lock)
            {
                return _close.WriterFinished();
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
        bool queued, start;
        lock (_lock)
        {
            if (_close.Requested)
            {
                return false;
            }

            queued = _outbound.TryAdd(frame, _options.OutboundQueueMessages, _options.OutboundQueueBytes, out start);
        }

        if (!queued)
        {
            if (BeginClose(discardQueued: true, (CloseCodes.PolicyViolation, "client too slow: outbound queue full")))
            {
                GatewayMetrics.OverflowClosed();
            }

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
    /// Starts the writers of <paramref name="connections"/>, up to 64 per thread-pool work item: one delivery to a room's
    /// members costs one or a few work items, not one per member. The list is taken over, unless
    /// <paramref name="startFirstHere"/>: then the first 64 start on this thread and the list is the caller's again on
    /// return.
    /// </summary>
    public static void StartWriters(List<ClientConnection> connections, bool startFirstHere = false)
    {
        const int PerWorkItem = 64;
        var first = 0;
        if (startFirstHere)
        {
            first = Math.Min(PerWorkItem, connections.Count);
            for (var i = 0; i < first; i++)
            {
                // Each runs until its first write that cannot complete at once, then continues on its own.
                _ = connections[i].WriteAsync();
            }
        }

        for (var i = first; i < connections.Count; i += PerWorkItem)
        {
            var chunk = connections.Count <= PerWorkItem && !startFirstHere ? connections : connections.GetRange(i, Math.Min(PerWorkItem, connections.Count - i));
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
        _ = BeginClose(discardQueued, (code, reason), byRoom);

    /// <summary>The client sent a close frame: answer it without sending what is still queued.</summary>
    public void OnClientClosed() => _ = BeginClose(discardQueued: true);

    /// <summary>Begins the close; false when one had begun already (the first request wins).</summary>
    private bool BeginClose(bool discardQueued, (int Code, string Reason)? serverClose = null, bool byRoom = false)
    {
        bool start;
        lock (_lock)
        {
            if (!_close.TryBegin(serverClose, byRoom))
            {
                return false;
            }

            if (serverClose is { } close)
            {
                GatewayMetrics.Closing(close.Code); // counts the closes that tell a client to resync
            }

            if (discardQueued)
            {
                _outbound.Discard(); // and nothing more is taken after a close
            }

            // Flushing, the close frame and the client's answer get the close timeout together: a write may be stuck
            // on a client that does not read, and it must not hold the connection open.
            _close.StartTimer(static c => ((ClientConnection)c!).OnCloseTimeout(), this, _options.CloseTimeout);
            start = _outbound.TryStartWriter();
        }

        if (start)
        {
            ScheduleWriter();
        }

        return true;
    }

    /// <summary>The close did not complete in time: abort the socket and its transport, which ends a stuck read or write.</summary>
    private void OnCloseTimeout()
    {
        lock (_lock)
        {
            if (_close.Disposed)
            {
                return;
            }
        }

        // The transport first: aborting the socket lets the reader end, and the request with it, and a request that ended
        // has disposed what aborts its transport.
        try
        {
            _abortTransport?.Invoke();
        }
        catch (ObjectDisposedException)
        {
            // The request ended meanwhile (the socket closed by itself): nothing is left to abort. Caught here because
            // this runs on a timer thread, where an exception would end the process.
        }

        _socket.Abort();
    }

    /// <summary>Stops the close timer; the socket itself belongs to the handler.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            _close.Dispose();
        }
    }

    /// <summary>Off the caller's thread: deliveries fan out under the room's lock and never write to a socket there.</summary>
    private void ScheduleWriter() =>
        ThreadPool.UnsafeQueueUserWorkItem(static c => _ = c.WriteAsync(), this, preferLocal: true);

    /// <summary>
    /// The writer (one at a time): sends queued frames in order, each batch in one flush, and stops when the queue is
    /// empty; once a close is requested it sends the close frame and finishes. Whatever happens, a writer that does not
    /// stop for an empty queue finishes and signals <see cref="WriterFinished"/>.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteAsync()
    {
        var stopped = false; // the queue ran empty with no close pending: a later frame starts a new writer
        try
        {
            while (NextBatch(out stopped) is { } batch)
            {
                var bytes = 0L;
                var count = batch.Count;

                // Everything already queued goes out in one flush (see IFrameLayer); nothing waits for more.
                _frames?.BeginBatch();
                foreach (var frame in batch)
                {
                    bytes += frame.Length;
                    if (_frames is not null)
                    {
                        // The finished frame, encoded once for all its recipients; a keep-alive ping the socket sends
                        // meanwhile goes between two frames (the layer takes one write at a time).
                        await _frames.WriteAsync(frame.Encoded, CancellationToken.None);
                    }
                    else
                    {
                        var type = frame.Payload.IsText ? WebSocketMessageType.Text : WebSocketMessageType.Binary;
                        await _socket.SendAsync(frame.Body, type, true, CancellationToken.None);
                    }
                }

                if (_frames is not null)
                {
                    await _frames.EndBatchAsync(CancellationToken.None);
                }

                batch.Clear();
                lock (_lock)
                {
                    // Counted until written: a stuck write keeps the queue full, so a client that stops reading overflows.
                    _outbound.Written(batch, count, bytes);
                }
            }

            if (!stopped)
            {
                await SendCloseAsync();
            }
        }
        catch (Exception)
        {
            // Abort, whatever the exception: the peer is gone, a write stuck past the close timeout was aborted, or the
            // socket or its stream is in a state we did not expect. The reader sees the abort and reports the close to
            // the room; no exception leaves the writer (nobody awaits it), and the finally below always runs.
            _socket.Abort();
        }
        finally
        {
            if (!stopped)
            {
                FinishWriter();
            }
        }
    }

    /// <summary>The writer's next batch; null when there is none, and then <paramref name="stopped"/> unless a close is pending.</summary>
    private Queue<OutboundFrame>? NextBatch(out bool stopped)
    {
        lock (_lock)
        {
            var closing = _close.Requested;
            var batch = _outbound.TakeBatch(closing);
            stopped = batch is null && !closing;
            return batch;
        }
    }

    /// <summary>The writer is done for good (it stays "running", so none starts again): signals <see cref="WriterFinished"/>.</summary>
    private void FinishWriter()
    {
        TaskCompletionSource? signal;
        lock (_lock)
        {
            signal = _close.FinishWriter();
        }

        signal?.TrySetResult();
    }

    private Task SendCloseAsync() =>
        CloseState.CloseFrame(_socket.State, ServerClose, _socket.CloseStatus, _socket.CloseStatusDescription) is { } close
            ? _socket.CloseOutputAsync((WebSocketCloseStatus)close.Code, close.Reason, CancellationToken.None)
            : Task.CompletedTask;

    /// <summary>
    /// One inbound message's token: false when the connection is over its rate, which closes it with 1008 (and every
    /// later message is dropped too, even once the bucket refills).
    /// </summary>
    private bool TakeMessageToken()
    {
        if (MessageRate is null)
        {
            return true;
        }

        if (!_rateExceeded)
        {
            using var lease = MessageRate.AttemptAcquire(this);
            if (lease.IsAcquired)
            {
                return true;
            }

            _rateExceeded = true;
            RequestClose(CloseCodes.PolicyViolation, "message rate exceeded", discardQueued: true);
        }

        return false;
    }

    /// <summary>
    /// The single reader: hands every complete message to <paramref name="room"/> in order (or answers the gateway's
    /// <paramref name="autoResponse"/> request itself) until the socket closes, and says how it closed (the server's
    /// code if the server closed first, else the client's, else 1006; 1011 when reading failed unexpectedly). It never
    /// throws, and by the time it returns a close has begun, so <see cref="WriterFinished"/> completes.
    /// </summary>
    public Task<(int Code, string Reason)> RunReaderAsync(RoomLink room, (Payload Request, OutboundFrame Response)? autoResponse) =>
        SocketReader.RunAsync(_socket, _options.MaxMessageBytes, new RoomReader(this, room, autoResponse));

    /// <summary>
    /// The reader's handler: messages go to the room (or get the auto-response); each end begins the close. It lives in
    /// the reader's async call, so its fields are what an idle connection's reader holds: kept to four references.
    /// </summary>
    private readonly struct RoomReader(ClientConnection connection, RoomLink room, (Payload Request, OutboundFrame Response)? autoResponse)
        : ISocketReaderHandler
    {
        private readonly ClientConnection _connection = connection;
        private readonly RoomLink _room = room;
        private readonly Payload? _autoRequest = autoResponse?.Request;
        private readonly OutboundFrame? _autoResponse = autoResponse?.Response;

        public ValueTask OnMessageAsync(Payload frame)
        {
            if (!_connection.TakeMessageToken())
            {
                return ValueTask.CompletedTask; // over the rate: dropped, and the connection is closing
            }

            if (_autoRequest is { } request && frame.IsText && frame.Data.AsSpan().SequenceEqual(request.Data))
            {
                // Answered here, without waking the room; the room learns the time with its next batch.
                _connection.Enqueue(_autoResponse!);
                _room.Pinged(_connection.Id);
                return ValueTask.CompletedTask;
            }

            if (!_connection.Enveloped)
            {
                return _room.SendToRoomAsync(InboundEvent.Message(_connection.Id, frame));
            }

            if (!WireV1.TryParseClientFrame(frame, out var payload, out var clientId))
            {
                // Close; the reader goes on until the client answers the close (or the close timeout aborts it).
                _connection.RequestClose(CloseCodes.ProtocolError, "roomactors.v1: a client frame is \"m\\nPAYLOAD\" or \"m ID\\nPAYLOAD\"", discardQueued: true);
                return ValueTask.CompletedTask;
            }

            return _room.SendToRoomAsync(InboundEvent.Message(_connection.Id, payload, clientId, _connection.Attachment));
        }

        public (int Code, string Reason) OnClientClose()
        {
            _connection.OnClientClosed();
            return _connection.ServerClose ?? CloseState.ClientClose(_connection._socket.CloseStatus, _connection._socket.CloseStatusDescription);
        }

        public (int Code, string Reason) OnMessageTooBig(int limit)
        {
            var reason = $"message exceeds the limit of {limit} bytes";
            _connection.RequestClose(CloseCodes.MessageTooBig, reason, discardQueued: true);
            return _connection.ServerClose ?? (CloseCodes.MessageTooBig, reason);
        }

        public (int Code, string Reason) OnConnectionLost()
        {
            // Report the server's reason if it had one, else 1006; a frame left unfinished is the client's protocol error.
            if (_connection._frames is { FrameStalled: true, FrameTimeout: { } timeout })
            {
                _connection.RequestClose(CloseCodes.ProtocolError, $"frame not completed within {timeout.TotalSeconds:0.###} s", discardQueued: true);
            }

            _connection._socket.Abort();
            _ = _connection.BeginClose(discardQueued: true); // lets the writer finish
            return _connection.ServerClose ?? (CloseCodes.Abnormal, "connection lost");
        }

        public (int Code, string Reason) OnFault(Exception error)
        {
            // A fault of ours or of the socket: close with 1011, and the room hears it as the close (the writer aborts
            // the socket if it cannot send the close frame, the close timer if it gets stuck).
            _connection.RequestClose(CloseCodes.InternalError, "server error", discardQueued: true);
            return _connection.ServerClose ?? (CloseCodes.InternalError, "server error");
        }
    }
}
