using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace RoomActors;

/// <summary>
/// The base class of every room: one grain per (room type, room name), the single authority for that room,
/// handling one event at a time. Derive from it, mark the class <c>[Room("type")]</c> and override the hooks you need.
/// <code>
/// [Room("chat")]
/// public sealed class MyChat : Room
/// {
///     protected override Task OnMessageAsync(Connection sender, RoomMessage message)
///     {
///         Broadcast(message, except: sender.Id);
///         return Task.CompletedTask;
///     }
/// }
/// </code>
/// </summary>
/// <remarks>
/// Everything a hook sends (<see cref="Broadcast(string, string[])"/>, <see cref="Connection.Send(string)"/>,
/// <see cref="Connection.Close"/>) is collected and delivered when the turn ends, in the order it was called:
/// every client of the room sees the room's messages in one order.
/// </remarks>
public abstract partial class Room : Grain, IRoomGrain
{
    private readonly Dictionary<string, Connection> _connections = new();
    private readonly Queue<(Connection Connection, int Code, string Reason)> _closing = new();
    private readonly List<Connection> _dirty = new();
    private RoomOutbox? _outbox;

    private RoomOptions? _options;
    private RoomStorage? _storage;
    private RoomStorage? _membership;
    private TimeProvider? _time;
    private IGrainTimer? _housekeeping;
    private long _lastActivity;
    private bool _sleepReminder;
    private const string SleepReminder = "roomactors-sleep";
    private ILogger? _logger;
    private string? _type;

    // ───────────── The room author's API ─────────────

    /// <summary>The room's type name, as in <c>/rooms/{type}/{name}</c>.</summary>
    public string RoomType => _type ??= RoomGrainIds.RoomTypeOf(this.GetGrainId().Type) ?? GetType().Name;

    /// <summary>The room's name, as in <c>/rooms/{type}/{name}</c>.</summary>
    public string RoomName => this.GetPrimaryKeyString();

    /// <summary>The open connections of the room.</summary>
    public IReadOnlyCollection<Connection> Connections => _connections.Values;

    /// <summary>The open connection with id <paramref name="id"/>, or null.</summary>
    public Connection? GetConnection(string id) => _connections.GetValueOrDefault(id);

    /// <summary>The open connections that carry <paramref name="tag"/>.</summary>
    public IEnumerable<Connection> GetConnections(string tag) => _connections.Values.Where(c => c.HasTag(tag));

    /// <summary>JSON settings for per-connection state and for the sample rooms' messages (web defaults).</summary>
    protected internal JsonSerializerOptions JsonOptions { get; } = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// The room's key/value store (<see cref="RoomStorage"/>): per-key records, written at the end of the turn. Use it
    /// for data too large to rewrite whole; use <see cref="Room{TState}"/> for small state.
    /// </summary>
    protected RoomStorage Storage => _storage ?? throw new InvalidOperationException("Storage is ready when the room starts; use it from a hook.");

    /// <summary>A logger named after the room class.</summary>
    protected ILogger Logger => _logger ??= ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger(GetType());

    /// <summary>Sends a text message to every connection except the ids in <paramref name="except"/>.</summary>
    public void Broadcast(string text, params string[] except) => BroadcastFrame(Frames.Text(text), except);

    /// <summary>Sends a binary message to every connection except the ids in <paramref name="except"/>. The bytes are copied.</summary>
    public void Broadcast(ReadOnlySpan<byte> data, params string[] except) => BroadcastFrame(Frames.Binary(data), except);

    /// <summary>Relays a received message unchanged (text stays text, binary stays binary) to every connection except <paramref name="except"/>.</summary>
    public void Broadcast(RoomMessage message, params string[] except) => BroadcastFrame(message.Frame, except);

    // ───────────── Hooks: override what you need; each default does nothing ─────────────

    /// <summary>Runs when the room starts (each activation), before any other hook.</summary>
    protected virtual Task OnStartAsync() => Task.CompletedTask;

    /// <summary>
    /// Runs before the WebSocket upgrade, when a room type overrides it: check the verified identity
    /// (<see cref="ConnectContext.UserId"/>), the query and headers, and <see cref="ConnectContext.Deny"/> with 401/403
    /// to refuse the client before any socket opens. The connection does not exist yet: do not send from here.
    /// </summary>
    protected virtual Task OnBeforeConnectAsync(ConnectContext context) => Task.CompletedTask;

    /// <summary>
    /// Runs when a client connects. The connection is already in <see cref="Connections"/> and can be sent to;
    /// add tags with <see cref="Connection.AddTag"/>; refuse it with <see cref="ConnectContext.Reject"/>.
    /// </summary>
    protected virtual Task OnConnectAsync(Connection connection, ConnectContext context) => Task.CompletedTask;

    /// <summary>Runs for every message a client sends, in the order that client sent them.</summary>
    protected virtual Task OnMessageAsync(Connection sender, RoomMessage message) => Task.CompletedTask;

    /// <summary>
    /// Runs exactly once per accepted connection when it closes: the client closed, the network dropped (1006),
    /// the gateway closed it (e.g. 1008, 1009, 1001 at shutdown) or the room did.
    /// </summary>
    protected virtual Task OnCloseAsync(Connection connection, int code, string reason) => Task.CompletedTask;

    /// <summary>
    /// Answers an HTTP request to the room (like a Durable Object's fetch): any method on <c>/rooms/{type}/{name}</c>
    /// without a WebSocket upgrade, or on <c>/rooms/{type}/{name}/{**path}</c>. Rooms that do not override it answer
    /// 426 to plain requests (and 404 below the room) without being activated.
    /// </summary>
    protected virtual Task<RoomHttpResponse> OnRequestAsync(RoomHttpRequest request) =>
        Task.FromResult(RoomHttpResponse.Text("This room does not answer HTTP requests.", 404));

    /// <summary>Runs when another hook throws. The default logs the error; the room goes on.</summary>
    protected virtual Task OnErrorAsync(Connection? connection, Exception error)
    {
        Log.HookFailed(Logger, error, RoomType, RoomName, connection?.Id);
        return Task.CompletedTask;
    }

    // ───────────── Runtime: called by the gateway, not by room authors ─────────────

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _options = ServiceProvider.GetService<Microsoft.Extensions.Options.IOptions<RoomOptions>>()?.Value ?? new RoomOptions();
        _outbox = new RoomOutbox(this.GetGrainId());
        var storage = ServiceProvider.GetKeyedService<Orleans.Storage.IGrainStorage>(RoomOptions.StorageName);
        if (storage is not null)
        {
            _storage = new RoomStorage(storage, this.GetGrainId(), JsonOptions);
            await _storage.LoadIndexAsync();
            _membership = new RoomStorage(storage, this.GetGrainId(), JsonOptions, "connections", "connection:");
            await LoadMembershipAsync();
        }

        _lastActivity = TimeProvider.GetTimestamp();
        await LoadStateAsync();
        await LoadSystemAsync();
        await OnStartAsync();
    }

    /// <summary>The clock rooms use (the silo's <see cref="System.TimeProvider"/>, so tests can control it).</summary>
    protected TimeProvider TimeProvider => _time ??= ServiceProvider.GetService<TimeProvider>() ?? TimeProvider.System;

    async Task<Admission> IRoomGrain.Admit(ConnectRequest request)
    {
        var context = new ConnectContext(request);
        try
        {
            await OnBeforeConnectAsync(context);
        }
        catch (Exception ex)
        {
            // Refuse and report: a failing check must not let the client in.
            await ReportAsync(null, ex);
            return new Admission(false, 500, "the room's before-connect check failed");
        }

        await EndTurnAsync();
        return context.IsDenied ? new Admission(false, context.DenyStatus, context.RejectReason) : Admission.Allow;
    }

    async Task<ConnectResult> IRoomGrain.Connect(ConnectRequest request)
    {
        if (_connections.ContainsKey(request.ConnectionId))
        {
            return ConnectResult.Accept;
        }

        Outbox.Session(request.Gateway, request.Session, restart: true);
        var connection = new Connection(this, request.ConnectionId, request.Gateway) { Session = request.Session, Joined = TimeProvider.GetUtcNow().UtcTicks };
        _connections.Add(connection.Id, connection);
        Outbox.AddMember(connection.Gateway);
        Outbox.ToGateway(connection.Gateway, new RoomOp(RoomOpKind.Join, ConnectionId: connection.Id));

        var context = new ConnectContext(request);
        try
        {
            await OnConnectAsync(connection, context);
        }
        catch (Exception ex)
        {
            // Close and report: a connect hook that throws refuses the connection with 1011.
            context.Reject(CloseCodes.InternalError, "room error");
            await ReportAsync(connection, ex);
        }

        connection.TagsFrozen = true;
        MarkDirty(connection);
        if (context.IsRejected && connection.IsOpen)
        {
            Remove(connection);
            Outbox.ToGateway(connection.Gateway, CloseOp(connection, context.RejectCode, context.RejectReason));
        }

        await RunClosingHooksAsync();
        await EndTurnAsync();
        return context.IsRejected ? new ConnectResult(false, context.RejectCode, context.RejectReason) : ConnectResult.Accept;
    }

    async Task<ReceiveResult> IRoomGrain.Receive(InboundBatch batch)
    {
        Outbox.Session(batch.Gateway, batch.Session, restart: false);
        if (Outbox.AlreadyProcessed(batch.Gateway, batch.Session, batch.Sequence, out var earlier))
        {
            return earlier; // a retry of a batch whose answer the gateway did not wait for
        }

        foreach (var snapshot in batch.Restore ?? [])
        {
            if (!_connections.ContainsKey(snapshot.Id))
            {
                // Taken back after a restart: no connect hook, the connection never left the client's view.
                var restored = new Connection(this, snapshot, batch.Gateway) { Session = batch.Session, Joined = TimeProvider.GetUtcNow().UtcTicks };
                _connections.Add(restored.Id, restored);
                Outbox.AddMember(restored.Gateway);
                MarkDirty(restored);
            }
        }

        foreach (var ping in batch.Pings ?? [])
        {
            if (_connections.TryGetValue(ping.ConnectionId, out var pinged))
            {
                pinged.LastPing = DateTimeOffset.FromUnixTimeMilliseconds(ping.UnixMilliseconds);
            }
        }

        List<string>? unknown = null;
        foreach (var item in batch.Events)
        {
            if (!_connections.TryGetValue(item.ConnectionId, out var connection))
            {
                // This activation does not know the connection (the room restarted): ask the gateway to restore it
                // and send its events again. A close of an unknown connection needs nothing.
                if (item.Kind == InboundKind.Message && !(unknown ??= []).Contains(item.ConnectionId))
                {
                    unknown.Add(item.ConnectionId);
                }

                continue;
            }

            if (item.Kind == InboundKind.Message)
            {
                try
                {
                    await OnMessageAsync(connection, new RoomMessage(item.Frame!));
                }
                catch (Exception ex)
                {
                    // Report and go on with the next event: one bad message does not stop the room.
                    await ReportAsync(connection, ex);
                }
            }
            else
            {
                Remove(connection);
                _closing.Enqueue((connection, item.CloseCode, item.CloseReason ?? ""));
            }

            await RunClosingHooksAsync();
        }

        foreach (var id in batch.Renew ?? [])
        {
            if (!_connections.ContainsKey(id) && !(unknown ??= []).Contains(id))
            {
                unknown.Add(id);
            }
        }

        // What the turn sent the calling gateway goes back with the answer, unless that gateway only takes calls.
        var reply = await EndTurnAsync(batch.DeliveryInAnswer ? batch.Gateway : null);
        var result = unknown is null && reply is null ? ReceiveResult.Ok : new ReceiveResult(unknown is null ? null : [.. unknown], reply);
        Outbox.Processed(batch.Gateway, batch.Session, batch.Sequence, result);
        return result;
    }

    async Task<RoomHttpResponse> IRoomGrain.Request(RoomHttpRequest request)
    {
        RoomHttpResponse response;
        try
        {
            response = await OnRequestAsync(request);
        }
        catch (Exception ex)
        {
            // Answer 500 and report: the request failed, the room goes on.
            await ReportAsync(null, ex);
            response = RoomHttpResponse.Text("The room failed to answer the request.", 500);
        }

        await EndTurnAsync();
        return response;
    }

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
            var gateway = GrainFactory.GetGrain<IRoomGateway>(GrainId.Parse(record.Gateway));
            var connection = new Connection(this, new ConnectionSnapshot(record.Id, record.Tags, record.State), gateway) { Session = record.Session, Joined = record.Joined };
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

    internal void SendTo(Connection connection, Frame frame)
    {
        if (!connection.IsOpen)
        {
            return;
        }

        Outbox.ToGateway(connection.Gateway, new RoomOp(RoomOpKind.Send, frame, TargetKind.Only, [connection.Id]));
    }

    internal void CloseConnection(Connection connection, int code, string reason)
    {
        CloseCodes.ThrowIfNotSendable(code);
        if (!connection.IsOpen)
        {
            return;
        }

        Remove(connection);
        Outbox.ToGateway(connection.Gateway, CloseOp(connection, code, reason));
        _closing.Enqueue((connection, code, reason));
    }

    /// <summary>Loads durable state at activation. Overridden by <see cref="Room{TState}"/>.</summary>
    private protected virtual Task LoadStateAsync() => Task.CompletedTask;

    /// <summary>Makes the turn's state changes durable. Overridden by <see cref="Room{TState}"/>.</summary>
    private protected virtual Task SaveStateAsync() => Task.CompletedTask;

    private RoomOutbox Outbox => _outbox ?? throw new InvalidOperationException("The room is not active yet: send from a hook, not from the constructor.");

    private void BroadcastFrame(Frame frame, string[] except)
    {
        var op = except is { Length: > 0 }
            ? new RoomOp(RoomOpKind.Send, frame, TargetKind.AllExcept, except)
            : new RoomOp(RoomOpKind.Send, frame);
        Outbox.ToAllGateways(op);
    }

    private static RoomOp CloseOp(Connection connection, int code, string reason) =>
        new(RoomOpKind.Close, ConnectionId: connection.Id, CloseCode: code, CloseReason: reason);

    private void Remove(Connection connection)
    {
        connection.IsOpen = false;
        _connections.Remove(connection.Id);
        Outbox.RemoveMember(connection.Gateway);
        _membership?.Delete(connection.Id);
    }

    private async Task RunClosingHooksAsync()
    {
        while (_closing.TryDequeue(out var closing))
        {
            try
            {
                await OnCloseAsync(closing.Connection, closing.Code, closing.Reason);
            }
            catch (Exception ex)
            {
                // Report and go on: the connection is gone whatever the hook did.
                await ReportAsync(closing.Connection, ex);
            }
        }
    }

    private async Task ReportAsync(Connection? connection, Exception error)
    {
        try
        {
            await OnErrorAsync(connection, error);
        }
        catch (Exception ex)
        {
            // Log only: an error hook that throws must not take the room down.
            Log.HookFailed(Logger, ex, RoomType, RoomName, connection?.Id);
        }
    }

    /// <summary>
    /// Ends the turn: saves what changed, then sends what the turn sent (the output gate). Returns
    /// <paramref name="replyTo"/>'s delivery instead of sending it, for the answer to that gateway's call.
    /// </summary>
    private async Task<RoomDelivery?> EndTurnAsync(IRoomGateway? replyTo = null)
    {
        foreach (var connection in _dirty)
        {
            connection.Dirty = false;
            if (connection.IsOpen)
            {
                Outbox.ToGateway(connection.Gateway, connection.AttachOp());
                _membership?.Put(connection.Id, new ConnectionRecord(connection.Id, connection.Gateway.GetGrainId().ToString(),
                    [.. connection.Tags], connection.Snapshot().State, connection.Session, connection.Joined));
            }
        }

        _dirty.Clear();
        try
        {
            await SaveStateAsync();
            if (_storage is not null)
            {
                await _storage.FlushAsync();
            }

            if (_membership is not null)
            {
                await _membership.FlushAsync();
            }

            await SaveSystemAsync();
        }
        catch (Exception ex)
        {
            // Output gate, then stop serving: what this turn sent must never be seen, since the state it reflects is
            // not durable. A stale ETag means another activation won; any other failure leaves memory ahead of
            // storage. Either way this activation goes away and the caller retries on a fresh one, which reads the
            // last durable state.
            Outbox.Discard();
            _storage?.Discard();
            _membership?.Discard();
            _systemDirty = _alarmChanged = false;
            Log.SaveFailed(Logger, ex, RoomType, RoomName);
            DeactivateOnIdle();
            throw;
        }

        var reply = Outbox.Flush(ex => Log.DeliveryFailed(Logger, ex, RoomType, RoomName), replyTo);
        await ArmAlarmAsync();
        _lastActivity = TimeProvider.GetTimestamp();

        // A room with connections stays in memory (until it hibernates) and watches its gateways; an empty one is
        // collected as usual.
        var occupied = _connections.Count > 0;
        DelayDeactivation(occupied ? TimeSpan.MaxValue : TimeSpan.Zero);
        if (occupied && _housekeeping is null)
        {
            var period = Options.HibernateAfter > TimeSpan.Zero && Options.HibernateAfter < Options.LeaseCheckInterval * 2
                ? Options.HibernateAfter / 2
                : Options.LeaseCheckInterval;
            _housekeeping = this.RegisterGrainTimer(HousekeepingAsync, period, period);
        }
        else if (!occupied && _housekeeping is not null)
        {
            _housekeeping.Dispose();
            _housekeeping = null;
            if (_sleepReminder)
            {
                _sleepReminder = false;
                if (await this.GetReminder(SleepReminder) is { } reminder)
                {
                    await this.UnregisterReminder(reminder);
                }
            }
        }

        return reply;
    }

    /// <summary>
    /// While awake with connections: check the gateways, and hibernate after <see cref="RoomOptions.HibernateAfter"/>
    /// without traffic. The connection set is durable, so nothing is lost; a reminder wakes the sleeping room once a
    /// minute to check its gateways.
    /// </summary>
    private async Task HousekeepingAsync(CancellationToken cancellationToken)
    {
        await CheckLeasesAsync(cancellationToken);
        var idle = TimeProvider.GetElapsedTime(_lastActivity);
        if (_membership is not null && _connections.Count > 0 && Options.HibernateAfter > TimeSpan.Zero && idle >= Options.HibernateAfter)
        {
            await HibernateAsync();
        }
    }

    private async Task HibernateAsync()
    {
        if (!_sleepReminder)
        {
            await this.RegisterOrUpdateReminder(SleepReminder, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
            _sleepReminder = true;
        }

        Log.Hibernating(Logger, RoomType, RoomName, _connections.Count);
        DeactivateOnIdle();
    }

    private RoomOptions Options => _options ?? new RoomOptions();

    /// <summary>Closes, in the room's eyes, the connections of gateways that stopped reporting (they died).</summary>
    private async Task CheckLeasesAsync(CancellationToken cancellationToken)
    {
        if (ServiceProvider.GetService<GatewayLivenessCache>() is not { } liveness)
        {
            return; // a host without the registry (a bare test cluster): no lease checks
        }

        var lost = _connections.Values.Where(c => liveness.IsDead(c.Gateway.GetGrainId())).ToList();
        if (lost.Count == 0)
        {
            return;
        }

        foreach (var connection in lost)
        {
            Remove(connection);
            _closing.Enqueue((connection, CloseCodes.Abnormal, "gateway lost"));
        }

        Log.GatewaysLost(Logger, RoomType, RoomName, lost.Select(c => c.Gateway.GetGrainId()).Distinct().Count());
        await RunClosingHooksAsync();
        await EndTurnAsync();
    }
}
