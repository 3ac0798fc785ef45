namespace RoomActors;

/// <summary>
/// Collects what a room turn sends and hands it out at the end of the turn: one <see cref="RoomDelivery"/> per
/// gateway that has something to receive, numbered per gateway so the gateway can keep the room's order. Numbers
/// every message the room emits (the room's sequence number) and keeps the recent ones for resumes
/// (<see cref="Replay"/>): a turn's messages join it when they leave the room, never before the output gate.
/// </summary>
internal sealed class RoomOutbox(GrainId room, ReplayBuffer replay)
{
    private readonly Dictionary<GrainId, GatewayLink> _gateways = new();
    private GatewayLink? _lastLink; // the link Link found last (see there)
    private readonly List<GatewayLink> _dirty = new();
    private readonly Dictionary<GrainId, RoomDelivery> _replies = new(); // Flush's answer, valid until the next Flush
    private readonly List<RoomOp> _turnSends = new();
    private readonly List<(string ConnectionId, long ClientId)> _turnAcks = new();

    public GrainId Room { get; } = room;

    /// <summary>The recent messages, for resumes; rebuilt from the gateways' at activation.</summary>
    public ReplayBuffer Replay { get; } = replay;

    /// <summary>The room's latest message number (this turn's included).</summary>
    public long Seq { get; private set; }

    /// <summary>A new activation's numbering: see <see cref="ReplayBuffer.Restore"/>.</summary>
    public void Restore(IEnumerable<RoomOp> held, long next, long nowMs)
    {
        Replay.Restore(held, next, nowMs);
        Seq = Replay.Last;
    }

    /// <summary>A message of this turn, numbered; it joins <see cref="Replay"/> when the turn's output leaves.</summary>
    public RoomOp NewSend(Payload payload, TargetKind target, string[]? ids)
    {
        var op = new RoomOp(RoomOpKind.Send, payload, target, ids, Seq: ++Seq);
        _turnSends.Add(op);
        return op;
    }

    /// <summary>
    /// The turn processed client message <paramref name="clientId"/> of <paramref name="connectionId"/>: every gateway
    /// that gets a delivery of this turn learns it, and <paramref name="gateway"/> (the connection's) always gets one.
    /// </summary>
    public void Ack(IGatewayObserver gateway, string connectionId, long clientId)
    {
        _turnAcks.Add((connectionId, clientId));
        MarkDirty(Link(gateway));
    }

    /// <summary>
    /// This activation's numbering of deliveries: larger than every earlier activation's (the room persists it before
    /// the first delivery that carries it leaves).
    /// </summary>
    public long Epoch { get; set; }

    /// <summary>
    /// What a connection missed after <paramref name="lastSeq"/>: the replay buffer's messages and those of the turns not
    /// saved yet (group commit: they leave with the next save, which also carries the resume). False when the buffer no
    /// longer reaches back that far.
    /// </summary>
    public bool TryCollectMissed(long lastSeq, Func<RoomOp, bool> wanted, List<RoomOp> missed)
    {
        if (!Replay.TryCollect(lastSeq, wanted, missed))
        {
            return false;
        }

        foreach (var op in _turnSends)
        {
            if (op.Seq > lastSeq && wanted(op))
            {
                missed.Add(op);
            }
        }

        return true;
    }

    /// <summary>True when the turns not saved yet have sent something.</summary>
    public bool HasOutput => _dirty.Count > 0 || _turnSends.Count > 0;

    /// <summary>
    /// Notes the gateway's session with the room: a new session (the gateway started holding this room's
    /// connections again) restarts the numbering of deliveries to it.
    /// </summary>
    /// <param name="gateway">The gateway.</param>
    /// <param name="session">Its session.</param>
    /// <param name="restart">
    /// True for a connect, which is how a gateway opens a session. False for inbound events, which only name the
    /// session when this activation has not heard of the gateway yet (a late batch of an older session must not
    /// turn the numbering back).
    /// </param>
    public void Session(IGatewayObserver gateway, long session, bool restart)
    {
        var link = Link(gateway);
        if (link.Session != session && (restart || link.Session == 0))
        {
            link.Session = session;
            link.Delivered = 0;
            link.LastBatch = 0;
        }
    }

    /// <summary>True when this gateway session's batch <paramref name="batch"/> was processed already.</summary>
    public bool AlreadyProcessed(IGatewayObserver gateway, long session, long batch, out ReceiveResult result)
    {
        var link = Link(gateway);
        result = link.LastResult;
        return batch > 0 && link.Session == session && batch <= link.LastBatch;
    }

    /// <summary>Remembers the answer to the gateway's latest batch (for a retry of it).</summary>
    public void Processed(IGatewayObserver gateway, long session, long batch, ReceiveResult result)
    {
        var link = Link(gateway);
        if (link.Session == session && batch > link.LastBatch)
        {
            link.LastBatch = batch;
            link.LastResult = result;
        }
    }

    /// <summary>Adds a connection's gateway to the room (a connection joined through it).</summary>
    public void AddMember(IGatewayObserver gateway) => Link(gateway).Members++;

    /// <summary>A connection of <paramref name="gateway"/> left.</summary>
    public void RemoveMember(IGatewayObserver gateway) => Link(gateway).Members--;

    /// <summary>An operation for every gateway that holds members (broadcasts).</summary>
    public void ToAllGateways(RoomOp op)
    {
        foreach (var link in _gateways.Values)
        {
            if (link.Members > 0)
            {
                Add(link, op);
            }
        }
    }

    /// <summary>An operation for one gateway.</summary>
    public void ToGateway(IGatewayObserver gateway, RoomOp op) => Add(Link(gateway), op);

    /// <summary>
    /// Sends every gateway its part of the turns since the last flush, one call each, and returns the parts of the
    /// gateways in <paramref name="replyTo"/> instead of sending them (each goes back with the answer to that gateway's
    /// call). Never awaits a gateway. The dictionary returned is reused: it holds until the next flush.
    /// </summary>
    public Dictionary<GrainId, RoomDelivery>? Flush(Action<Exception> onSendError, long nowMs, ICollection<GrainId>? replyTo)
    {
        foreach (var op in _turnSends)
        {
            Replay.Append(op, nowMs);
        }

        _turnSends.Clear();
        ClientAck[]? acks = null;
        if (_turnAcks.Count > 0)
        {
            acks = [.. _turnAcks.Select(a => new ClientAck(a.ConnectionId, a.ClientId, Seq))];
            _turnAcks.Clear();
        }

        _replies.Clear();
        foreach (var link in _dirty)
        {
            var delivery = new RoomDelivery
            {
                Room = Room,
                Epoch = Epoch,
                Session = link.Session,
                Number = ++link.Delivered,
                Ops = link.Pending.ToArray(),
                Acks = acks,
            };
            link.Pending.Clear();
            link.Dirty = false;
            if (replyTo is { Count: > 0 } && link.Gateway.GetGrainId() is var id && replyTo.Contains(id))
            {
                _replies[id] = delivery;
                continue;
            }

            try
            {
                // One-way: returns at once; a dead gateway costs the room nothing.
                _ = link.Gateway.Deliver(delivery);
            }
            catch (Exception ex)
            {
                // Report and go on: the gateway will see the gap in the numbers and resynchronise its clients.
                onSendError(ex);
            }
        }

        _dirty.Clear();
        return _replies.Count > 0 ? _replies : null;
    }

    /// <summary>Drops everything this turn would have sent (the output gate closed).</summary>
    public void Discard()
    {
        foreach (var link in _dirty)
        {
            link.Pending.Clear();
            link.Dirty = false;
        }

        _dirty.Clear();
        _turnSends.Clear();
        _turnAcks.Clear();
        Seq = Replay.Last; // the numbers of messages that never left are used again
    }

    private void Add(GatewayLink link, RoomOp op)
    {
        MarkDirty(link);
        link.Pending.Add(op);
    }

    private void MarkDirty(GatewayLink link)
    {
        if (!link.Dirty)
        {
            link.Dirty = true;
            _dirty.Add(link);
        }
    }

    private GatewayLink Link(IGatewayObserver gateway)
    {
        // A batch names its gateway by the same reference in every call of that batch (and a co-hosted gateway in every
        // batch): the last one found answers without a lookup.
        if (_lastLink is { } last && ReferenceEquals(last.Reference, gateway))
        {
            return last;
        }

        var id = gateway.GetGrainId();
        if (!_gateways.TryGetValue(id, out var link))
        {
            link = new GatewayLink(gateway);
            _gateways.Add(id, link);
        }

        link.Reference = gateway;
        _lastLink = link;
        return link;
    }

    private sealed class GatewayLink(IGatewayObserver gateway)
    {
        public IGatewayObserver Gateway { get; } = gateway;

        /// <summary>The reference this link was last found by (see <see cref="Link"/>).</summary>
        public IGatewayObserver? Reference { get; set; }
        public int Members { get; set; }
        public long Session { get; set; }
        public long LastBatch { get; set; }
        public ReceiveResult LastResult { get; set; } = ReceiveResult.Ok;
        public long Delivered { get; set; }
        public bool Dirty { get; set; }
        public List<RoomOp> Pending { get; } = new();
    }
}
