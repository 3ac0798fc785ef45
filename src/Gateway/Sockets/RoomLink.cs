using System.Threading.Channels;
using Microsoft.Extensions.Logging;

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
    private volatile bool _renewDue;
    private long _batches;
    private readonly Dictionary<string, long> _lastPing = new();
    private readonly HashSet<string> _pingsChanged = new();
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private List<ClientConnection> _writersToStart = new(); // guarded by _lock; filled by FanOut

    public RoomLink(GatewayService gateway, GrainId roomId, IRoomGrain grain, GatewayOptions options, ILogger logger)
    {
        _gateway = gateway;
        RoomId = roomId;
        Grain = grain;
        _options = options;
        _logger = logger;
        Session = Random.Shared.NextInt64(1, long.MaxValue);
        _sequencer = new DeliverySequencer<RoomDelivery>(Session);
        _inbound = Channel.CreateBounded<InboundEvent>(new BoundedChannelOptions(options.InboundQueueEvents)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        Pump = Task.Run(PumpAsync);
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
            _pending.Remove(connection.Id);
            _members.Remove(connection.Id);
            _lastPing.Remove(connection.Id);
            _pingsChanged.Remove(connection.Id);
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
    public void OnDelivery(RoomDelivery delivery)
    {
        lock (_lock)
        {
            var verdict = _sequencer.Offer(delivery.Session, delivery.Epoch, delivery.Number, delivery, _ready);
            if (verdict == DeliveryVerdict.NewEpoch)
            {
                // The room restarted: tell it at once which connections it has here.
                RenewSoon();
            }

            foreach (var ready in _ready)
            {
                Apply(ready);
            }

            _ready.Clear();
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
                ClientConnection.StartWriters(_writersToStart);
                _writersToStart = new();
            }
        }
    }

    private void Apply(RoomDelivery delivery)
    {
        foreach (var op in delivery.Ops)
        {
            switch (op.Kind)
            {
                case RoomOpKind.Send:
                    FanOut(op);
                    break;
                case RoomOpKind.Join:
                    if (_pending.Remove(op.ConnectionId!, out var joined))
                    {
                        _members[joined.Id] = joined;
                    }

                    break;
                case RoomOpKind.Close:
                    var closing = _members.GetValueOrDefault(op.ConnectionId!) ?? _pending.GetValueOrDefault(op.ConnectionId!);
                    if (closing is not null)
                    {
                        _members.Remove(closing.Id);
                        _pending.Remove(closing.Id);
                        closing.RequestClose(op.CloseCode, op.CloseReason ?? "", byRoom: true);
                    }

                    break;
            }
        }
    }

    /// <summary>The same frame object goes onto every recipient's queue: encoded once, for all of them.</summary>
    private void FanOut(RoomOp op)
    {
        var frame = new OutboundFrame(op.Payload!);
        switch (op.Target)
        {
            case TargetKind.All:
                foreach (var member in _members.Values)
                {
                    member.Enqueue(frame, _writersToStart);
                }

                break;
            case TargetKind.AllExcept:
                var except = op.Ids!;
                foreach (var member in _members.Values)
                {
                    if (Array.IndexOf(except, member.Id) < 0)
                    {
                        member.Enqueue(frame, _writersToStart);
                    }
                }

                break;
            case TargetKind.Only:
                foreach (var id in op.Ids!)
                {
                    if (_members.TryGetValue(id, out var member))
                    {
                        member.Enqueue(frame, _writersToStart);
                    }
                }

                break;
        }
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
        _wake.TrySetResult();
    }

    private async Task PumpAsync()
    {
        var reader = _inbound.Reader;
        var batch = new List<InboundEvent>(); // grows with the traffic; an idle room keeps a small one
        while (true)
        {
            var wait = reader.WaitToReadAsync().AsTask();
            if (!wait.IsCompleted)
            {
                // Wake for events, or for a renewal (a room restart seen in a delivery).
                var wake = _wake.Task;
                await Task.WhenAny(wait, wake);
                if (wake.IsCompleted)
                {
                    _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
                }
            }

            if (wait.IsCompleted && !await wait)
            {
                return; // completed: the session ended and everything queued was sent
            }

            // Batch only what is already queued; never wait to fill a batch.
            while (batch.Count < _options.MaxBatchEvents && reader.TryRead(out var item))
            {
                batch.Add(item);
            }

            var renew = _renewDue;
            if (batch.Count == 0 && !renew)
            {
                continue;
            }

            _renewDue = false;

            await SendAsync([.. batch], renew ? MemberIds() : null);
            batch.Clear();
        }
    }

    /// <summary>
    /// Sends one batch. Connections the room does not know (it closed them in its eyes, e.g. when this gateway's lease
    /// ran out during a partition, or the room lost them) cannot be served and are never restored behind the room's
    /// back: their clients are closed with 1012 so that they reconnect (and run the connect hook again).
    /// </summary>
    private async Task SendAsync(InboundEvent[] events, string[]? renew)
    {
        var result = await CallAsync(NewBatch(events, renew: renew, pings: TakePings(all: renew is not null)));
        foreach (var id in result?.Unknown ?? [])
        {
            ClientConnection? stranger;
            lock (_lock)
            {
                stranger = _members.GetValueOrDefault(id);
            }

            stranger?.RequestClose(CloseCodes.ServiceRestart, "the room no longer knows this connection; reconnect");
        }
    }

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

    private async Task<ReceiveResult?> CallAsync(InboundBatch batch)
    {
        try
        {
            // Sent again on failure (numbered, so never processed twice); see RoomCalls for the policy.
            var result = await _gateway.Calls.CallAsync(RoomId, "batch", () => Grain.Receive(batch));
            if (result.Delivery is { } delivery)
            {
                // What the batch's turn sent this gateway: applied in the room's order like any delivery, by the
                // room's current session here (which is not this one when the batch was this session's last).
                _gateway.Delivered(delivery);
            }

            return result;
        }
        catch (RoomUnavailableException ex)
        {
            // Close and report: the room stayed unreachable, so its clients here reconnect.
            Log.ReceiveFailed(_logger, ex, RoomId, batch.Events.Length);
            CloseAll(CloseCodes.InternalError, "room unavailable; reconnect");
            return null;
        }
    }

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
