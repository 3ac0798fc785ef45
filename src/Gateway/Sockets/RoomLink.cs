using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using RoomActors.Gateway.Diagnostics;

namespace RoomActors.Gateway.Sockets;

/// <summary>
/// One room as seen from this gateway: its local connections, the in-order application of the room's deliveries,
/// and the inbound pump that sends the local connections' frames and closes to the room, batched, one call at a time.
/// </summary>
internal sealed partial class RoomLink
{
    private readonly object _lock = new();
    private readonly Dictionary<string, ClientConnection> _pending = new();
    private readonly Dictionary<string, ClientConnection> _members = new();
    private readonly DeliverySequencer<RoomDelivery> _sequencer;
    private readonly List<RoomDelivery> _ready = new(); // guarded by _lock; filled by the sequencer
    private readonly Channel<InboundEvent> _inbound;
    private readonly GatewayService _gateway;
    private readonly GatewayOptions _options;
    private readonly ILogger _logger;
    private Timer? _gapTimer;
    private DeadlineWaiter? _deadline; // the pump's, for its one call in flight
    private volatile bool _renewDue;
    private long _batches;
    private readonly Dictionary<string, long> _lastPing = new();
    private readonly HashSet<string> _pingsChanged = new();
    private List<ClientConnection> _writersToStart = new(); // guarded by _lock; filled by FanOut
    private List<ClientConnection>? _writersSpare; // an emptied list for _writersToStart, given back by the pump
    private readonly ReplayBuffer _tail; // guarded by _lock: what this gateway applied, for a new activation of the room
    private readonly Dictionary<string, (long ClientId, long At)> _acked = new(); // guarded by _lock: latest processed client id per connection

    public RoomLink(GatewayService gateway, GrainId roomId, IRoomGrain grain, GatewayOptions options, ILogger logger)
    {
        _gateway = gateway;
        RoomId = roomId;
        Grain = grain;
        _options = options;
        _logger = logger;
        Session = Random.Shared.NextInt64(1, long.MaxValue);
        _sequencer = new DeliverySequencer<RoomDelivery>(Session);
        _tail = new ReplayBuffer(options.ReplayMessages, options.ReplayBytes, options.ReplayAge);
        _inbound = Channel.CreateBounded<InboundEvent>(new BoundedChannelOptions(options.InboundQueueEvents)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });

        // The pump outlives the connection that created the link: it must not carry that request's context (its
        // Activity, a connect span) into every later call to the room.
        using (ExecutionContext.SuppressFlow())
        {
            Pump = Task.Run(PumpAsync);
        }
    }

    public GrainId RoomId { get; }

    public IRoomGrain Grain { get; }

    /// <summary>Names this gateway's current link to the room; deliveries of an older session are stale.</summary>
    public long Session { get; }

    /// <summary>Local connections (pending or joined); guarded by the gateway's registry lock.</summary>
    public int References { get; set; }

    public Task Pump { get; }

    /// <summary>The room activation followed and the number of the next delivery expected (for tests and diagnostics).</summary>
    internal (long Epoch, long Expected) Position
    {
        get
        {
            lock (_lock)
            {
                return (_sequencer.Epoch, _sequencer.Expected);
            }
        }
    }

    public void AddPending(ClientConnection connection)
    {
        lock (_lock)
        {
            _pending[connection.Id] = connection;
        }
    }

    public void Remove(ClientConnection connection)
    {
        lock (_lock)
        {
            // Only this socket: a resumed connection has another socket with the same id here.
            if (_pending.GetValueOrDefault(connection.Id) == connection)
            {
                _pending.Remove(connection.Id);
            }

            if (_members.GetValueOrDefault(connection.Id) == connection)
            {
                _members.Remove(connection.Id);
                _lastPing.Remove(connection.Id);
                _pingsChanged.Remove(connection.Id);
            }
        }
    }

    /// <summary>
    /// A new activation of the room asks what this gateway holds of its recent output: from now on the older
    /// activations' deliveries are dropped, so the answer is final. The answer also names the local connections (the
    /// renewal a new activation needs): a renewal batch sent after it would wake a room that only woke to check its
    /// gateways, and then left memory again.
    /// </summary>
    public GatewayTail Fence(long epoch)
    {
        var pings = TakePings(all: true);
        lock (_lock)
        {
            _sequencer.Fence(epoch);
            _tail.Trim(Environment.TickCount64);
            return new GatewayTail
            {
                HighWater = _tail.Last,
                Sends = _tail.Snapshot(),
                Acks = [.. _acked.Select(a => new ClientAck(a.Key, a.Value.ClientId, 0))],
                Members = [.. _members.Keys],
                Pings = pings,
            };
        }
    }

    /// <summary>Queues a frame for the room; waits when the room is behind (back-pressure onto the socket).</summary>
    public ValueTask SendToRoomAsync(InboundEvent item) => _inbound.Writer.WriteAsync(item);

    /// <summary>No more inbound events: the pump sends what is queued and ends.</summary>
    public void CompleteInbound() => _inbound.Writer.TryComplete();

    /// <summary>
    /// Applies a delivery in the room's order (see <see cref="DeliverySequencer{T}"/>): holds back one that arrives
    /// early, drops one from another session or an older room activation, and closes the local clients with 1012 when
    /// a missing one does not arrive within <see cref="GatewayOptions.ResyncTimeout"/>.
    /// </summary>
    /// <param name="delivery">The delivery.</param>
    /// <param name="writeHere">
    /// True on the pump, with the answer to its batch: the sockets' writers start on this thread once the lock is given
    /// up (up to 64; any further in work items) instead of in a work item of their own. False where the caller's thread
    /// must not write to sockets (an Orleans call into the gateway).
    /// </param>
    public void OnDelivery(RoomDelivery delivery, bool writeHere = false)
    {
        List<ClientConnection>? writers = null;
        lock (_lock)
        {
            var verdict = _sequencer.Offer(delivery.Session, delivery.Epoch, delivery.Number, delivery, _ready);
            if (verdict == DeliveryVerdict.NewEpoch)
            {
                // The room restarted: tell it at once which connections it has here.
                RenewSoon();
            }

            var delivered = 0;
            foreach (var ready in _ready)
            {
                delivered += Apply(ready);
            }

            _ready.Clear();
            GatewayMetrics.Delivered(delivered);
            if (_sequencer.Waiting)
            {
                _gapTimer ??= new Timer(_ => OnGapTimeout(), null, _options.ResyncTimeout, Timeout.InfiniteTimeSpan);
            }
            else if (_gapTimer is not null)
            {
                _gapTimer.Dispose();
                _gapTimer = null;
            }

            if (_writersToStart.Count > 0)
            {
                if (writeHere)
                {
                    writers = _writersToStart;
                    _writersToStart = Interlocked.Exchange(ref _writersSpare, null) ?? new();
                }
                else
                {
                    ClientConnection.StartWriters(_writersToStart);
                    _writersToStart = new();
                }
            }
        }

        if (writers is not null)
        {
            ClientConnection.StartWriters(writers, startFirstHere: true);
            writers.Clear();
            _writersSpare = writers;
        }
    }

    /// <summary>Applies one delivery; returns how many room messages it queued to sockets.</summary>
    private int Apply(RoomDelivery delivery)
    {
        var queued = 0;
        foreach (var op in delivery.Ops)
        {
            switch (op.Kind)
            {
                case RoomOpKind.Send:
                    if (_tail.AppliedAlready(op))
                    {
                        break; // sent again by a new activation that did not get this gateway's tail in time
                    }

                    queued += FanOut(op);
                    if (op.Seq > 0)
                    {
                        _tail.Append(op, Environment.TickCount64);
                    }

                    break;
                case RoomOpKind.Join:
                    if (_pending.Remove(op.ConnectionId!, out var joined))
                    {
                        _members[joined.Id] = joined;
                        if (joined.Enveloped)
                        {
                            // The first frame: the connection id, the resume token and the room's number at the join.
                            joined.Enqueue(WireV1.Welcome(joined.Id, joined.TakeResumeSecret(), op.Seq, op.ResumeWindowSeconds), _writersToStart);
                        }
                    }

                    break;
                case RoomOpKind.Resume:
                    if (_pending.Remove(op.ConnectionId!, out var resumed))
                    {
                        if (_members.Remove(resumed.Id, out var previous))
                        {
                            // The client took its connection over from a socket it still has here.
                            previous.RequestClose(CloseCodes.ResumedElsewhere, "resumed elsewhere", byRoom: true);
                        }

                        _members[resumed.Id] = resumed;
                        var replay = op.Replay ?? [];
                        resumed.Enqueue(WireV1.Resumed(resumed.Id, op.Seq, replay.Length), _writersToStart);
                        foreach (var missed in replay)
                        {
                            queued += resumed.Enqueue(OutboundFrame.Enveloped(missed.Payload!, missed.Seq), _writersToStart) ? 1 : 0;
                        }
                    }

                    break;
                case RoomOpKind.Close:
                    // A member first: a socket waiting for its resume answer is not the one the room closes.
                    if (_members.Remove(op.ConnectionId!, out var closing) || _pending.Remove(op.ConnectionId!, out closing))
                    {
                        closing.RequestClose(op.CloseCode, op.CloseReason ?? "", byRoom: true);
                    }

                    break;
            }
        }

        foreach (var ack in delivery.Acks ?? [])
        {
            if (ack.ClientId > _acked.GetValueOrDefault(ack.ConnectionId).ClientId)
            {
                RememberAck(ack);
            }

            if (_members.TryGetValue(ack.ConnectionId, out var sender) && sender.Enveloped)
            {
                sender.Enqueue(WireV1.Ack(ack.ClientId, ack.Seq), _writersToStart);
            }
        }

        return queued;
    }

    /// <summary>Remembers a connection's latest processed client id for a new activation; forgets ids older than the replay age.</summary>
    private void RememberAck(ClientAck ack)
    {
        var now = Environment.TickCount64;
        if (_acked.Count >= 1024 && !_acked.ContainsKey(ack.ConnectionId))
        {
            var maxAge = (long)_options.ReplayAge.TotalMilliseconds;
            foreach (var old in _acked.Where(a => now - a.Value.At > maxAge).Select(a => a.Key).ToList())
            {
                _acked.Remove(old);
            }
        }

        _acked[ack.ConnectionId] = (ack.ClientId, now);
    }

    /// <summary>
    /// The same frame object goes onto every recipient's queue: encoded once for all raw clients and once for all
    /// <c>roomactors.v1</c> clients (with the room's number in its header).
    /// </summary>
    private int FanOut(RoomOp op)
    {
        OutboundFrame? raw = null, enveloped = null;
        var queued = 0;
        switch (op.Target)
        {
            case TargetKind.All:
                foreach (var member in _members.Values)
                {
                    queued += member.Enqueue(FrameFor(member), _writersToStart) ? 1 : 0;
                }

                break;
            case TargetKind.AllExcept:
                var except = op.Ids!;
                foreach (var member in _members.Values)
                {
                    if (Array.IndexOf(except, member.Id) < 0)
                    {
                        queued += member.Enqueue(FrameFor(member), _writersToStart) ? 1 : 0;
                    }
                }

                break;
            case TargetKind.Only:
                foreach (var id in op.Ids!)
                {
                    if (_members.TryGetValue(id, out var member))
                    {
                        queued += member.Enqueue(FrameFor(member), _writersToStart) ? 1 : 0;
                    }
                }

                break;
        }

        return queued;

        OutboundFrame FrameFor(ClientConnection member) => member.Enveloped
            ? enveloped ??= OutboundFrame.Enveloped(op.Payload!, op.Seq)
            : raw ??= new OutboundFrame(op.Payload!);
    }

    private void OnGapTimeout()
    {
        List<ClientConnection> everyone;
        lock (_lock)
        {
            if (!_sequencer.Waiting)
            {
                return;
            }

            Log.DeliveryGap(_logger, RoomId, _sequencer.Epoch, _sequencer.Expected);
            everyone = [.. _members.Values, .. _pending.Values];
            _members.Clear();
            _pending.Clear();
            _sequencer.Clear();
            _gapTimer?.Dispose();
            _gapTimer = null;
        }

        // This session's numbering is broken for good: clients that connect from now on get a new session (the room
        // numbers it from 1), while this one only sends its closing clients' closes.
        _gateway.Retire(this);

        // Never skip silently: clients that may have missed a message reconnect and start from the room's state.
        GatewayMetrics.MissedDeliveriesClosed(everyone.Count);
        foreach (var connection in everyone)
        {
            connection.RequestClose(CloseCodes.ServiceRestart, "missed room messages; reconnect");
        }
    }

    /// <summary>A connection sent the auto-response request now.</summary>
    public void Pinged(string connectionId)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        lock (_lock)
        {
            _lastPing[connectionId] = now;
            _pingsChanged.Add(connectionId);
        }
    }

    private ConnectionPing[]? TakePings(bool all)
    {
        lock (_lock)
        {
            if (_pingsChanged.Count == 0 && !(all && _lastPing.Count > 0))
            {
                return null;
            }

            var ids = all ? _lastPing.Keys.Where(_members.ContainsKey) : _pingsChanged;
            var pings = ids.Select(id => new ConnectionPing(id, _lastPing[id])).ToArray();
            _pingsChanged.Clear();
            return pings;
        }
    }

    /// <summary>Asks the pump to send a lease renewal (with every local connection id) as soon as it can.</summary>
    public void RenewSoon()
    {
        _renewDue = true;

        // Wake the pump with a marker it skips (a full queue needs none: the pump is at work, and sees the flag next).
        _inbound.Writer.TryWrite(WakeMarker);
    }

    /// <summary>Queued only to wake the pump (an event always names its connection).</summary>
    private static readonly InboundEvent WakeMarker = default;

    private async Task PumpAsync()
    {
        var reader = _inbound.Reader;
        var batch = new List<InboundEvent>(); // grows with the traffic; an idle room keeps a small one
        while (await reader.WaitToReadAsync())
        {
            // Batch only what is already queued; never wait to fill a batch.
            var messages = 0;
            while (batch.Count < _options.MaxBatchEvents && reader.TryRead(out var item))
            {
                if (item.ConnectionId is null)
                {
                    continue; // the wake marker
                }

                batch.Add(item);
                if (item.Kind == InboundKind.Message)
                {
                    messages++;
                }
            }

            GatewayMetrics.Received(messages);

            var renew = _renewDue;
            if (batch.Count == 0 && !renew)
            {
                continue;
            }

            _renewDue = false;

            await SendAsync([.. batch], renew ? MemberIds() : null);
            batch.Clear();
        }

        // Completed: the session ended and everything queued was sent.
        _deadline?.Dispose();
    }

    /// <summary>
    /// Sends one batch and applies what its turn sent this gateway (it comes with the answer). Sent again on failure
    /// (numbered, so never processed twice); see <see cref="RoomCalls"/> for the policy. Connections the room does not know
    /// (it closed them in its eyes, e.g. when this gateway's lease ran out during a partition, or the room lost them)
    /// cannot be served and are never restored behind the room's back: their clients are closed with 1012 so that they
    /// reconnect (and run the connect hook again).
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendAsync(InboundEvent[] events, string[]? renew)
    {
        var batch = NewBatch(events, renew: renew, pings: TakePings(all: renew is not null));
        ReceiveResult result;
        try
        {
            var started = Stopwatch.GetTimestamp();
            result = await _gateway.Calls.CallAsync(RoomId, "batch", static call => call.Link.Receive(call.Batch), (Link: this, Batch: batch), deadline: _deadline ??= new());
            GatewayMetrics.RoomCalled(started);
        }
        catch (RoomUnavailableException ex)
        {
            // Close and report: the room stayed unreachable, so its clients here reconnect.
            Log.ReceiveFailed(_logger, ex, RoomId, batch.Events.Length);
            CloseAll(CloseCodes.InternalError, "room unavailable; reconnect");
            return;
        }

        if (result.Delivery is { } delivery)
        {
            // What the batch's turn sent this gateway: applied in the room's order like any delivery, by the room's
            // current session here (which is not this one when the batch was this session's last).
            _gateway.Delivered(delivery, writeHere: true);
        }

        foreach (var id in result.Unknown ?? [])
        {
            ClientConnection? stranger;
            lock (_lock)
            {
                stranger = _members.GetValueOrDefault(id);
            }

            stranger?.RequestClose(CloseCodes.ServiceRestart, "the room no longer knows this connection; reconnect");
        }
    }

    /// <summary>One attempt: straight to the room when it is active in this process, else through Orleans.</summary>
    private Task<ReceiveResult> Receive(InboundBatch batch) =>
        _gateway.LocalRooms is { } local && local.TryGet(RoomId, out var room) ? room.Receive(batch, Grain) : Grain.Receive(batch);

    /// <summary>The next batch of this gateway session; it takes its delivery in the answer.</summary>
    private InboundBatch NewBatch(InboundEvent[] events, string[]? renew, ConnectionPing[]? pings) => new()
    {
        Gateway = _gateway.Reference,
        Session = Session,
        BatchNumber = ++_batches,
        Events = events,
        Renew = renew,
        Pings = pings,
        DeliveryInAnswer = true,
    };

    private string[] MemberIds()
    {
        lock (_lock)
        {
            return [.. _members.Keys];
        }
    }

    private void CloseAll(int code, string reason)
    {
        List<ClientConnection> everyone;
        lock (_lock)
        {
            everyone = [.. _members.Values, .. _pending.Values];
        }

        foreach (var connection in everyone)
        {
            connection.RequestClose(code, reason);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2001, Level = LogLevel.Warning, Message = "Room {Room}: delivery {Sequence} of epoch {Epoch} never arrived; closing local clients so they resynchronise.")]
        public static partial void DeliveryGap(ILogger logger, GrainId room, long epoch, long sequence);

        [LoggerMessage(EventId = 2002, Level = LogLevel.Error, Message = "Room {Room}: {Count} inbound events could not be delivered; closing local clients.")]
        public static partial void ReceiveFailed(ILogger logger, Exception exception, GrainId room, int count);
    }
}
