using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace RoomActors.Gateway.Sockets;

/// <summary>
/// One room as seen from this gateway: its local connections, the in-order application of the room's deliveries,
/// and the inbound pump that sends the local connections' frames and closes to the room, batched, one call at a time.
/// </summary>
internal sealed partial class GatewayRoom
{
    private readonly object _lock = new();
    private readonly Dictionary<string, ClientConnection> _pending = new();
    private readonly Dictionary<string, ClientConnection> _members = new();
    private readonly SortedDictionary<(long Epoch, long Sequence), RoomDelivery> _early = new();
    private readonly Channel<InboundEvent> _inbound;
    private readonly RoomGateway _gateway;
    private readonly GatewayOptions _options;
    private readonly ILogger _logger;
    private long _epoch;
    private long _expected = 1;
    private Timer? _gapTimer;

    public GatewayRoom(RoomGateway gateway, GrainId roomId, IRoomGrain grain, GatewayOptions options, ILogger logger)
    {
        _gateway = gateway;
        RoomId = roomId;
        Grain = grain;
        _options = options;
        _logger = logger;
        Session = Random.Shared.NextInt64(1, long.MaxValue);
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
        }
    }

    /// <summary>Queues a frame for the room; waits when the room is behind (back-pressure onto the socket).</summary>
    public ValueTask SendToRoomAsync(InboundEvent item) => _inbound.Writer.WriteAsync(item);

    /// <summary>No more inbound events: the pump sends what is queued and ends.</summary>
    public void CompleteInbound() => _inbound.Writer.TryComplete();

    /// <summary>Applies a delivery in the room's order, holding back any that arrive early.</summary>
    public void OnDelivery(RoomDelivery delivery)
    {
        lock (_lock)
        {
            if (delivery.Epoch != _epoch && delivery.Sequence == 1)
            {
                // A new room activation numbers from 1: follow it; anything held back from the old one is void.
                _epoch = delivery.Epoch;
                _expected = 1;
                foreach (var key in _early.Keys.Where(k => k.Epoch != _epoch).ToList())
                {
                    _early.Remove(key);
                }
            }

            if (delivery.Epoch == _epoch && delivery.Sequence < _expected)
            {
                return; // already applied
            }

            if (delivery.Epoch != _epoch || delivery.Sequence != _expected)
            {
                _early[(delivery.Epoch, delivery.Sequence)] = delivery;
                _gapTimer ??= new Timer(_ => OnGapTimeout(), null, _options.ResyncTimeout, Timeout.InfiniteTimeSpan);
                return;
            }

            Apply(delivery);
            while (_early.Remove((_epoch, _expected), out var next))
            {
                Apply(next);
            }

            if (_early.Count == 0 && _gapTimer is not null)
            {
                _gapTimer.Dispose();
                _gapTimer = null;
            }
        }
    }

    private void Apply(RoomDelivery delivery)
    {
        _expected = delivery.Sequence + 1;
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

    /// <summary>The same frame object goes onto every recipient's queue: encoded once, copied never.</summary>
    private void FanOut(RoomOp op)
    {
        var frame = op.Frame!;
        switch (op.Target)
        {
            case TargetKind.All:
                foreach (var member in _members.Values)
                {
                    member.Enqueue(frame);
                }

                break;
            case TargetKind.AllExcept:
                var except = op.Ids!;
                foreach (var member in _members.Values)
                {
                    if (Array.IndexOf(except, member.Id) < 0)
                    {
                        member.Enqueue(frame);
                    }
                }

                break;
            case TargetKind.Only:
                foreach (var id in op.Ids!)
                {
                    if (_members.TryGetValue(id, out var member))
                    {
                        member.Enqueue(frame);
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
            if (_early.Count == 0)
            {
                return;
            }

            Log.DeliveryGap(_logger, RoomId, _epoch, _expected);
            everyone = [.. _members.Values, .. _pending.Values];
            _members.Clear();
            _pending.Clear();
            _early.Clear();
            _gapTimer?.Dispose();
            _gapTimer = null;
        }

        // Never skip silently: clients that may have missed a message reconnect and start from the room's state.
        foreach (var connection in everyone)
        {
            connection.RequestClose(CloseCodes.ServiceRestart, "missed room messages; reconnect");
        }
    }

    private async Task PumpAsync()
    {
        var reader = _inbound.Reader;
        var batch = new List<InboundEvent>(_options.MaxBatchEvents);
        while (await reader.WaitToReadAsync())
        {
            // Batch only what is already queued; never wait to fill a batch.
            while (batch.Count < _options.MaxBatchEvents && reader.TryRead(out var item))
            {
                batch.Add(item);
            }

            try
            {
                await Grain.Receive(new InboundBatch { Gateway = _gateway.Reference, Session = Session, Events = batch.ToArray() });
            }
            catch (Exception ex)
            {
                // Close and report: the room did not take these events, so its clients here can no longer trust
                // the room's view; they reconnect.
                Log.ReceiveFailed(_logger, ex, RoomId, batch.Count);
                CloseAll(CloseCodes.InternalError, "room unavailable; reconnect");
            }

            batch.Clear();
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
