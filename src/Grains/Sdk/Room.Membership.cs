namespace RoomActors;

/// <summary>
/// The room's connections: who is a member, on which gateway, and the durable record of each (written at the end of
/// every turn that added, changed or removed one), so that the set survives the room leaving memory.
/// </summary>
public abstract partial class Room
{
    /// <summary>The index record of the room's durable connection set in its grain storage.</summary>
    internal const string MembershipIndex = "connections";

    /// <summary>The prefix of each connection's durable record (then its id).</summary>
    internal const string MembershipPrefix = "connection:";

    private readonly Dictionary<string, Connection> _connections = new();
    private readonly List<Connection> _dirty = new();
    private readonly List<Connection> _unsavedClientIds = new(); // their LastClientId is not in their durable record yet
    private RoomStorage? _membership;

    /// <summary>A new member: in <see cref="Connections"/> from here on, before its connect hook runs.</summary>
    private Connection Admit(ConnectRequest request)
    {
        Outbox.Session(request.Gateway, request.Session, restart: true);
        var connection = new Connection(this, request.ConnectionId, request.Gateway)
        {
            Session = request.Session,
            Joined = TimeProvider.GetUtcNow().UtcTicks,
            JoinedSeq = Outbox.Seq,
            ResumeHash = request.ResumeSecret is { } secret ? ResumeSecrets.Hash(secret) : null,
            VerifiedUserId = request.UserId,
            UserId = request.UserId,
            Attachment = request.Attachment,
        };
        _connections.Add(connection.Id, connection);
        Outbox.AddMember(connection.Gateway);
        connection.JoinPending = true;
        return connection;
    }

    /// <summary>
    /// The connection joins now (its gateway is told): the first time its connect hook sends to it or broadcasts, or when
    /// the hook accepts it. Until then messages of the events that run while the hook awaits another room skip it.
    /// </summary>
    private void JoinNow(Connection connection)
    {
        connection.JoinPending = false;
        connection.JoinedSeq = Outbox.Seq;
        Joined(connection);
    }

    /// <summary>Tells the connection's gateway that it is a member: from here on it receives the room's messages.</summary>
    private void Joined(Connection connection) =>
        Outbox.ToGateway(connection.Gateway, new RoomOp(RoomOpKind.Join, ConnectionId: connection.Id, Seq: connection.JoinedSeq,
            ResumeWindowSeconds: (int)Math.Ceiling(Options.ResumeWindow.TotalSeconds)));

    /// <summary>
    /// Takes back the connections the room had when it left memory (hibernation, a move, a crash): they are durable,
    /// written at the end of every turn that added, changed or removed one. No connect hook runs for them.
    /// </summary>
    private async Task LoadMembershipAsync()
    {
        await _membership!.LoadIndexAsync();
        var records = await _membership.ListAsync<ConnectionRecord>();
        foreach (var record in records.Select(r => r.Value).OfType<ConnectionRecord>().OrderBy(r => r.Joined))
        {
            var gateway = GrainFactory.GetGrain<IGatewayObserver>(GrainId.Parse(record.Gateway));
            var connection = new Connection(this, record, gateway);
            _connections[connection.Id] = connection;
            if (connection.IsConnected)
            {
                Outbox.AddMember(gateway);
                Outbox.Session(gateway, record.Session, restart: true); // the latest join's session wins
            }
        }
    }

    internal void MarkDirty(Connection connection)
    {
        if (!connection.Dirty && connection.TagsFrozen)
        {
            connection.Dirty = true;
            _dirty.Add(connection);
        }
    }

    internal void SendTo(Connection connection, Payload frame)
    {
        if (!connection.IsOpen)
        {
            return;
        }

        if (connection.JoinPending)
        {
            if (connection != _connecting)
            {
                return; // not joined yet: its own connect hook gives it what it needs
            }

            JoinNow(connection);
        }

        // Numbered and kept for a resume even while the client is away.
        var op = Outbox.NewSend(frame, TargetKind.Only, [connection.Id]);
        if (connection.IsConnected)
        {
            Outbox.ToGateway(connection.Gateway, op);
        }
    }

    /// <summary>The room closes a connection: its gateway is told, and the close hook runs later in this turn.</summary>
    internal void CloseConnection(Connection connection, int code, string reason)
    {
        CloseCodes.ThrowIfNotSendable(code);
        if (!connection.IsOpen)
        {
            return;
        }

        if (connection.IsConnected && !connection.JoinPending)
        {
            // (A connection that has not joined is refused by the answer to its connect instead.)
            Outbox.ToGateway(connection.Gateway, CloseOp(connection, code, reason));
        }

        Closed(connection, code, reason);
    }

    /// <summary>
    /// The connection's socket ended but its client may resume (see <see cref="Connection.IsConnected"/>): it stays a
    /// member, no close hook runs, and its gateway no longer counts it.
    /// </summary>
    private void Detach(Connection connection, int code, string reason)
    {
        if (!connection.IsConnected)
        {
            return;
        }

        Outbox.RemoveMember(connection.Gateway);
        connection.DetachedAt = TimeProvider.GetUtcNow().UtcTicks;
        connection.DetachCode = code;
        connection.DetachReason = reason;
        MarkDirty(connection);
    }

    /// <summary>
    /// The connection continues on a new socket through <paramref name="request"/>'s gateway. A socket it still has
    /// elsewhere is closed with 4409 (the client took it over with its token).
    /// </summary>
    private void Reattach(Connection connection, ResumeRequest request)
    {
        if (connection.IsConnected)
        {
            // On the same gateway, the resume itself closes the old socket (a close here could reach the new one).
            if (connection.Gateway.GetGrainId() != request.Gateway.GetGrainId())
            {
                Outbox.ToGateway(connection.Gateway, CloseOp(connection, CloseCodes.ResumedElsewhere, "resumed elsewhere"));
            }

            Outbox.RemoveMember(connection.Gateway);
        }

        Outbox.Session(request.Gateway, request.Session, restart: true);
        connection.Gateway = request.Gateway;
        connection.Session = request.Session;
        connection.Attachment = request.Attachment;
        connection.DetachedAt = 0;
        connection.DetachCode = 0;
        connection.DetachReason = null;
        Outbox.AddMember(request.Gateway);
        MarkDirty(connection);
    }

    /// <summary>The connection is gone (closed by anyone): it leaves the room now, and its close hook runs in this turn.</summary>
    private void Closed(Connection connection, int code, string reason)
    {
        Remove(connection);
        if (connection.Connecting is not null)
        {
            // Closed while its connect hook awaits another room: the close hook runs after the connect hook (if accepted).
            connection.ClosedWhileConnecting ??= (code, reason);
            return;
        }

        _closing.Enqueue((connection, code, reason));
    }

    private void BroadcastPayload(Payload payload, string[]? except)
    {
        if (_connecting is { JoinPending: true, IsOpen: true } connecting)
        {
            JoinNow(connecting); // a connect hook's broadcast reaches its own connection too (unless excepted)
        }

        Outbox.ToAllGateways(except is { Length: > 0 }
            ? Outbox.NewSend(payload, TargetKind.AllExcept, except)
            : Outbox.NewSend(payload, TargetKind.All, null));
    }

    private static RoomOp CloseOp(Connection connection, int code, string reason) =>
        new(RoomOpKind.Close, ConnectionId: connection.Id, CloseCode: code, CloseReason: reason);

    /// <summary>Out of the room (no close hook: a refused connect, or the caller queues it).</summary>
    private void Remove(Connection connection)
    {
        connection.IsOpen = false;
        _connections.Remove(connection.Id);
        if (connection.IsConnected)
        {
            Outbox.RemoveMember(connection.Gateway);
        }

        _membership?.Delete(connection.Id);
        Unregister(connection);
    }

    /// <summary>
    /// At the end of the turn: the records of connections whose tags or state changed, for the durable set. When the turn
    /// writes anyway (<paramref name="withClientIds"/>), also those whose latest processed client id is not durable yet;
    /// returns those ids, for the state's record.
    /// </summary>
    private Dictionary<string, long>? WriteDirtyConnections(bool withClientIds)
    {
        Dictionary<string, long>? ids = null;
        if (withClientIds && _unsavedClientIds.Count > 0)
        {
            ids = new(_unsavedClientIds.Count, StringComparer.Ordinal);
            foreach (var connection in _unsavedClientIds)
            {
                connection.ClientIdUnsaved = false;
                ids[connection.Id] = connection.LastClientId;
                MarkDirty(connection);
            }

            _unsavedClientIds.Clear();
        }

        foreach (var connection in _dirty)
        {
            connection.Dirty = false;
            if (connection.IsOpen)
            {
                _membership?.Put(connection.Id, connection.Record());
            }
        }

        _dirty.Clear();
        return ids;
    }

    /// <summary>
    /// At activation, from the state's record: client ids processed by a turn whose state write is durable while its
    /// connections' records may not be (a crash between the writes). Kept, and written to those records next time.
    /// </summary>
    private protected void RestoreClientIds(IReadOnlyDictionary<string, long>? ids)
    {
        foreach (var (id, clientId) in ids ?? new Dictionary<string, long>())
        {
            if (_connections.TryGetValue(id, out var connection) && clientId > connection.LastClientId)
            {
                connection.LastClientId = clientId;
                if (!connection.ClientIdUnsaved)
                {
                    connection.ClientIdUnsaved = true;
                    _unsavedClientIds.Add(connection);
                }
            }
        }
    }
}
