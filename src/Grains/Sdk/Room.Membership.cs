namespace RoomActors;

/// <summary>
/// The room's connections: who is a member, on which gateway, and the durable record of each (written at the end of
/// every turn that added, changed or removed one), so that the set survives the room leaving memory.
/// </summary>
public abstract partial class Room
{
    private readonly Dictionary<string, Connection> _connections = new();
    private readonly List<Connection> _dirty = new();
    private RoomStorage? _membership;

    /// <summary>A new member: in <see cref="Connections"/> from here on, before its connect hook runs.</summary>
    private Connection Admit(ConnectRequest request)
    {
        Outbox.Session(request.Gateway, request.Session, restart: true);
        var connection = new Connection(this, request.ConnectionId, request.Gateway) { Session = request.Session, Joined = TimeProvider.GetUtcNow().UtcTicks };
        _connections.Add(connection.Id, connection);
        Outbox.AddMember(connection.Gateway);
        Joined(connection);
        return connection;
    }

    /// <summary>Tells the connection's gateway that it is a member: from here on it receives the room's messages.</summary>
    private void Joined(Connection connection) =>
        Outbox.ToGateway(connection.Gateway, new RoomOp(RoomOpKind.Join, ConnectionId: connection.Id));

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
            Outbox.AddMember(gateway);
            Outbox.Session(gateway, record.Session, restart: true); // the latest join's session wins
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

        Outbox.ToGateway(connection.Gateway, new RoomOp(RoomOpKind.Send, frame, TargetKind.Only, [connection.Id]));
    }

    /// <summary>The room closes a connection: its gateway is told, and the close hook runs later in this turn.</summary>
    internal void CloseConnection(Connection connection, int code, string reason)
    {
        CloseCodes.ThrowIfNotSendable(code);
        if (!connection.IsOpen)
        {
            return;
        }

        Outbox.ToGateway(connection.Gateway, CloseOp(connection, code, reason));
        Closed(connection, code, reason);
    }

    /// <summary>The connection is gone (closed by anyone): it leaves the room now, and its close hook runs in this turn.</summary>
    private void Closed(Connection connection, int code, string reason)
    {
        Remove(connection);
        _closing.Enqueue((connection, code, reason));
    }

    private void BroadcastPayload(Payload payload, string[]? except)
    {
        var op = except is { Length: > 0 }
            ? new RoomOp(RoomOpKind.Send, payload, TargetKind.AllExcept, except)
            : new RoomOp(RoomOpKind.Send, payload);
        Outbox.ToAllGateways(op);
    }

    private static RoomOp CloseOp(Connection connection, int code, string reason) =>
        new(RoomOpKind.Close, ConnectionId: connection.Id, CloseCode: code, CloseReason: reason);

    /// <summary>Out of the room (no close hook: a refused connect, or the caller queues it).</summary>
    private void Remove(Connection connection)
    {
        connection.IsOpen = false;
        _connections.Remove(connection.Id);
        Outbox.RemoveMember(connection.Gateway);
        _membership?.Delete(connection.Id);
    }

    /// <summary>At the end of the turn: the records of connections whose tags or state changed, for the durable set.</summary>
    private void WriteDirtyConnections()
    {
        foreach (var connection in _dirty)
        {
            connection.Dirty = false;
            if (connection.IsOpen)
            {
                _membership?.Put(connection.Id, connection.Record());
            }
        }

        _dirty.Clear();
    }
}
