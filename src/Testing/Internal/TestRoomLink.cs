using RoomActors.Gateway.Sockets;

namespace RoomActors.Testing.Internal;

/// <summary>
/// One room as the kit's gateway sees it, like the real gateway's room link: the room's test clients (pending until the
/// room's join, then members), the in-order application of the room's deliveries, the tail a new activation of the room
/// asks for, and the batches of client events, numbered and sent one call at a time.
/// </summary>
internal sealed class TestRoomLink
{
    private readonly object _lock = new();
    private readonly Dictionary<string, TestRoomClient> _pending = new();
    private readonly Dictionary<string, TestRoomClient> _members = new();
    private readonly DeliverySequencer<RoomDelivery> _sequencer;
    private readonly List<RoomDelivery> _ready = new(); // guarded by _lock
    private readonly ReplayBuffer _tail = new(1024, 1024 * 1024, TimeSpan.FromMinutes(2)); // guarded by _lock: the gateway's defaults
    private readonly SemaphoreSlim _calls = new(1, 1);
    private Timer? _gapTimer;
    private long _batches;

    public TestRoomLink(TestGateway gateway, string type, string name)
    {
        Gateway = gateway;
        Type = type;
        Name = name;
        RoomId = RoomGrainIds.Of(type, name);
        Grain = gateway.Grains.GetGrain<IRoomGrain>(RoomId);
        Session = Random.Shared.NextInt64(1, long.MaxValue);
        _sequencer = new DeliverySequencer<RoomDelivery>(Session);
    }

    public TestGateway Gateway { get; }

    public string Type { get; }

    public string Name { get; }

    public GrainId RoomId { get; }

    public IRoomGrain Grain { get; }

    /// <summary>The kit's one session with the room: the room numbers its deliveries to this gateway within it.</summary>
    public long Session { get; }

    public void AddPending(TestRoomClient client)
    {
        lock (_lock)
        {
            _pending[client.Id] = client;
        }
    }

    public void Remove(TestRoomClient client)
    {
        lock (_lock)
        {
            if (_pending.GetValueOrDefault(client.Id) == client)
            {
                _pending.Remove(client.Id);
            }

            if (_members.GetValueOrDefault(client.Id) == client)
            {
                _members.Remove(client.Id);
            }
        }
    }

    /// <summary>
    /// Sends the clients' events (and, for a renewal, every member's id) to the room as one batch, the room's answer
    /// applied before it returns; one call at a time, like the gateway's pump. Tried again on failure (the batch is
    /// numbered, so the room processes it once).
    /// </summary>
    public async Task SendAsync(InboundEvent[] events, bool renew = false)
    {
        await _calls.WaitAsync();
        try
        {
            var batch = new InboundBatch
            {
                Gateway = Gateway.Reference,
                Session = Session,
                BatchNumber = ++_batches,
                Events = events,
                Renew = renew ? MemberIds() : null,
                DeliveryInAnswer = true,
            };
            var result = await Gateway.CallAsync(RoomId, "batch", () => Grain.Receive(batch));
            if (result.Delivery is { } delivery)
            {
                OnDelivery(delivery);
            }

            foreach (var id in result.Unknown ?? [])
            {
                // As the gateway does: a connection the room no longer knows cannot be served; its client reconnects.
                Close(id, CloseCodes.ServiceRestart, "the room no longer knows this connection; reconnect");
            }
        }
        finally
        {
            _calls.Release();
        }
    }

    /// <summary>
    /// A new activation of the room asks what this gateway applied; from now on older activations' deliveries are dropped.
    /// The answer names the local members, as the gateway's does (no renewal batch after it).
    /// </summary>
    public GatewayTail Fence(long epoch)
    {
        lock (_lock)
        {
            _sequencer.Fence(epoch);
            _tail.Trim(Environment.TickCount64);
            return new GatewayTail { HighWater = _tail.Last, Sends = _tail.Snapshot(), Acks = [], Members = [.. _members.Keys] };
        }
    }

    /// <summary>Applies a delivery in the room's order (held back when early, dropped when stale or repeated).</summary>
    public void OnDelivery(RoomDelivery delivery)
    {
        lock (_lock)
        {
            var verdict = _sequencer.Offer(delivery.Session, delivery.Epoch, delivery.Number, delivery, _ready);
            if (verdict == DeliveryVerdict.NewEpoch)
            {
                Gateway.Renew(this); // the room restarted: tell it which connections it has here
            }

            foreach (var ready in _ready)
            {
                Apply(ready);
            }

            _ready.Clear();
            if (_sequencer.Waiting)
            {
                _gapTimer ??= new Timer(_ => OnGapTimeout(), null, TimeSpan.FromSeconds(5), Timeout.InfiniteTimeSpan);
            }
            else if (_gapTimer is not null)
            {
                _gapTimer.Dispose();
                _gapTimer = null;
            }
        }
    }

    /// <summary>Closes every client of the room (the host stops).</summary>
    public void CloseAll(int code, string reason)
    {
        List<TestRoomClient> everyone;
        lock (_lock)
        {
            everyone = [.. _members.Values, .. _pending.Values];
            _members.Clear();
            _pending.Clear();
            _gapTimer?.Dispose();
            _gapTimer = null;
        }

        foreach (var client in everyone)
        {
            client.Closed(code, reason, byRoom: false);
        }
    }

    private void Apply(RoomDelivery delivery)
    {
        foreach (var op in delivery.Ops)
        {
            switch (op.Kind)
            {
                case RoomOpKind.Send:
                    if (_tail.AppliedAlready(op))
                    {
                        break; // sent again by a new activation that did not get this gateway's tail in time
                    }

                    FanOut(op);
                    if (op.Seq > 0)
                    {
                        _tail.Append(op, Environment.TickCount64);
                    }

                    break;
                case RoomOpKind.Join:
                case RoomOpKind.Resume: // test clients never resume; a resume makes a member all the same
                    if (_pending.Remove(op.ConnectionId!, out var joined))
                    {
                        _members[joined.Id] = joined;
                        joined.OnJoined();
                    }

                    break;
                case RoomOpKind.Close:
                    if (_members.Remove(op.ConnectionId!, out var closing) || _pending.Remove(op.ConnectionId!, out closing))
                    {
                        closing.Closed(op.CloseCode, op.CloseReason ?? "", byRoom: true);
                    }

                    break;
            }
        }
    }

    private void FanOut(RoomOp op)
    {
        switch (op.Target)
        {
            case TargetKind.Only:
                foreach (var id in op.Ids!)
                {
                    _members.GetValueOrDefault(id)?.OnMessage(op.Payload!);
                }

                break;
            default:
                foreach (var member in _members.Values)
                {
                    if (op.Targets(member.Id))
                    {
                        member.OnMessage(op.Payload!);
                    }
                }

                break;
        }
    }

    private void Close(string id, int code, string reason)
    {
        TestRoomClient? client;
        lock (_lock)
        {
            _members.Remove(id, out client);
        }

        client?.Closed(code, reason, byRoom: true);
    }

    /// <summary>A delivery never arrived: as the gateway does, the clients are closed with 1012 rather than skip a message silently.</summary>
    private void OnGapTimeout()
    {
        long epoch, expected;
        lock (_lock)
        {
            if (!_sequencer.Waiting)
            {
                return;
            }

            (epoch, expected) = (_sequencer.Epoch, _sequencer.Expected);
            _sequencer.Clear();
        }

        // This session's numbering is broken for good: clients that connect from now on get a new one.
        Gateway.Retire(this, epoch, expected);
        CloseAll(CloseCodes.ServiceRestart, "missed room messages; reconnect");
    }

    private string[] MemberIds()
    {
        lock (_lock)
        {
            return [.. _members.Keys];
        }
    }
}
