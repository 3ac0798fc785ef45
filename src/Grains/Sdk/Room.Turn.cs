using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace RoomActors;

/// <summary>
/// The turn: every way into the room (a connect, a batch of messages and closes, an HTTP request, an alarm, a lease
/// check) runs its hook through <see cref="TurnAsync(TurnKind, Func{Task}, IGatewayObserver)"/>, which runs the close
/// hooks the turn caused and then ends the turn (save what changed, then send what the turn sent: the output gate).
/// </summary>
public abstract partial class Room
{
    private readonly Queue<(Connection Connection, int Code, string Reason)> _closing = new();
    private Connection? _connecting;
    private RoomOutbox? _outbox;
    private bool _saveFailed;
    private int _turnsInFlight;
    private long _turnNumber; // the turns this activation began
    private long _savedTurn; // every turn up to this number is saved

    /// <summary>This activation's number of the turn under way (the first is 1).</summary>
    internal long TurnNumber => _turnNumber;

    /// <summary>
    /// Every turn of this activation up to this number is durable: its changes are written. A room that must not drop
    /// a record until another one is written (a snapshot before the log it covers) waits for this to pass the turn that
    /// wrote it.
    /// </summary>
    internal long SavedTurn => _savedTurn;

    /// <summary>The turns that ended without saving (others waited for the turn): one save covers them all.</summary>
    private readonly List<(IGatewayObserver? ReplyTo, TaskCompletionSource<RoomDelivery?> Done)> _group = new();

    /// <summary>The gateways a save answers (reused: one save at a time, under the turn gate).</summary>
    private readonly List<GrainId> _replyTo = new();

    private Action<Exception>? _onDeliveryFailed;

    /// <summary>The most turns one save covers (a bound on how long the first of them waits).</summary>
    private const int MaxGroup = 64;

    /// <summary>The gateways' batches under way, by (gateway, session, number): a batch asked again waits for the first.</summary>
    private readonly Dictionary<(GrainId, long, long), Task<ReceiveResult>> _receiving = new();
    private RoomOptions? _options;
    private RoomStorage? _storage;

    private RoomOutbox Outbox => _outbox ?? throw new InvalidOperationException("The room is not active yet: send from a hook, not from the constructor.");

    private RoomOptions Options => _options ??= ServiceProvider.GetService<Microsoft.Extensions.Options.IOptions<RoomOptions>>()?.Value ?? new RoomOptions();

    /// <summary>
    /// Sets the room up (storage, connections, state, alarm) and runs <see cref="OnStartAsync"/>. Sealed: a room
    /// cannot skip the setup; override <see cref="OnStartAsync"/> instead.
    /// </summary>
    public sealed override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _outbox = new RoomOutbox(this.GetGrainId(), new ReplayBuffer(Options.ReplayMessages, Options.ReplayBytes, Options.ResumeWindow));
        var storage = ServiceProvider.GetKeyedService<Orleans.Storage.IGrainStorage>(RoomOptions.StorageName);
        if (storage is not null)
        {
            _storage = new RoomStorage(storage, this.GetGrainId(), JsonOptions);
            _membership = new RoomStorage(storage, this.GetGrainId(), JsonOptions, MembershipIndex, MembershipPrefix);
        }

        // The records are independent: read at once (one storage round trip of waiting, not four in a row). Each read
        // fills only its own fields; the state is applied after, since its client ids belong to the connections.
        await Task.WhenAll(
            _storage?.LoadIndexAsync() ?? Task.CompletedTask,
            _membership is null ? Task.CompletedTask : LoadMembershipAsync(),
            ReadStateAsync(),
            LoadSystemAsync());
        RestoreState();
        var woke = _connections.Count > 0; // durable connections: the room comes back from hibernation (or a move)
        _lastActivity = TimeProvider.GetTimestamp();
        await RebuildAsync();
        foreach (var connection in _connections.Values)
        {
            Register(connection); // the directory may have missed it (a crash between a turn and its calls): told again
        }

        await OnStartAsync();
        SendCalls();
        Activated(woke);
        OpenLocal();
    }

    async Task<Admission> IRoomGrain.Admit(ConnectRequest request)
    {
        var context = new BeforeConnectContext(request);
        var failed = false;
        await TurnAsync(TurnKind.Connect, async () => failed = !await TryHookAsync(null, () => OnBeforeConnectAsync(context)));
        return failed ? new Admission(false, 500, "the room's before-connect check failed")
            : context.IsDenied ? new Admission(false, context.DenyStatus, context.DenyReason)
            : Admission.Allow;
    }

    async Task<ConnectResult> IRoomGrain.Connect(ConnectRequest request)
    {
        if (Options.BusyAfter > TimeSpan.Zero && TurnQueueDelay() is var waited && waited >= Options.BusyAfter)
        {
            // Admission control: a room whose events wait this long for their turn takes no one new; the client tries again
            // later instead of queueing behind everyone (and its gateway retrying into the same queue).
            RoomMetrics.BusyRefused(RoomType);
            return new ConnectResult(false, CloseCodes.TryAgainLater, $"the room is busy; try again in {Math.Ceiling(waited.TotalSeconds):0} s");
        }

        var context = new ConnectContext(request);
        TaskCompletionSource<ConnectResult>? answer = null;
        Task<ConnectResult>? first = null;
        ConnectResult? closedMeanwhile = null;
        try
        {
            await TurnAsync(TurnKind.Connect, async () =>
            {
                if (_connections.TryGetValue(request.ConnectionId, out var member))
                {
                    if (member.Connecting is { } running)
                    {
                        first = running.Task; // asked again while its hook awaits another room: the same answer, when there is one
                        return;
                    }

                    // Asked again (the answer, or the join, was lost): the join again, so the client is never left deaf.
                    Joined(member);
                    return;
                }

                var connection = Admit(request);
                connection.Connecting = answer = new TaskCompletionSource<ConnectResult>(TaskCreationOptions.RunContinuationsAsynchronously);
                _connecting = connection;
                var ran = await TryHookAsync(connection, () => OnConnectAsync(connection, context));
                _connecting = null;
                if (!ran)
                {
                    // A connect hook that throws refuses the connection with 1011.
                    context.Reject(CloseCodes.InternalError, "room error");
                }

                connection.TagsFrozen = true;
                MarkDirty(connection);
                if (context.IsRejected && connection.IsOpen)
                {
                    var joined = !connection.JoinPending;
                    Remove(connection);
                    if (joined)
                    {
                        Outbox.ToGateway(connection.Gateway, CloseOp(connection, context.RejectCode, context.RejectReason));
                    }
                }
                else if (connection.IsOpen)
                {
                    if (connection.JoinPending)
                    {
                        JoinNow(connection);
                    }

                    Register(connection);
                }
                else if (!context.IsRejected && connection.ClosedWhileConnecting is { } closed)
                {
                    // Closed while the hook awaited another room (a ban, an operator): accepted, then closed, so its
                    // close hook runs now, once; the client is refused with the close.
                    _closing.Enqueue((connection, closed.Code, closed.Reason));
                    closedMeanwhile = new ConnectResult(false, CloseCodes.IsSendable(closed.Code) ? closed.Code : CloseCodes.GoingAway, closed.Reason);
                }

                connection.Connecting = null;
            });
        }
        catch (Exception ex) when (answer is not null)
        {
            // The turn failed (its save, or the activation is going away): a gateway that asked again meanwhile gets the
            // same failure, and retries on a fresh activation.
            answer.TrySetException(ex);
            throw;
        }

        if (first is not null)
        {
            return await first;
        }

        var result = context.IsRejected ? new ConnectResult(false, context.RejectCode, context.RejectReason) : closedMeanwhile ?? ConnectResult.Accept;
        answer?.TrySetResult(result);
        return result;
    }

    Task<ReceiveResult> IRoomGrain.Receive(InboundBatch batch) => ReceiveBatchAsync(new BatchTurn(batch)).AsTask();

    /// <summary>
    /// A gateway's batch, from Orleans or from a gateway in this process: a batch asked for again while the first is
    /// under way (waiting for its turn, or saving) gets the first one's answer.
    /// </summary>
    private ValueTask<ReceiveResult> ReceiveBatchAsync(BatchTurn turn)
    {
        var batch = turn.Batch;
        var key = (batch.Gateway.GetGrainId(), batch.Session, batch.BatchNumber);
        if (batch.BatchNumber > 0 && _receiving.TryGetValue(key, out var running))
        {
            return new(running);
        }

        var receiving = ReceiveAsync(turn);
        if (receiving.IsCompleted || batch.BatchNumber <= 0)
        {
            return receiving; // done in this call (the usual case): no retry can have come meanwhile
        }

        return AwaitReceivingAsync(key, receiving.AsTask());
    }

    /// <summary>A retry that comes while this one waits awaits the same task: the same answer, or the same failure.</summary>
    private async ValueTask<ReceiveResult> AwaitReceivingAsync((GrainId, long, long) key, Task<ReceiveResult> waiting)
    {
        _receiving[key] = waiting;
        try
        {
            return await waiting;
        }
        finally
        {
            _receiving.Remove(key);
        }
    }

    private async ValueTask<ReceiveResult> ReceiveAsync(BatchTurn turn)
    {
        var batch = turn.Batch;

        // What the turn sent the calling gateway goes back with the answer, unless that gateway only takes calls.
        var reply = await TurnAsync(KindOf(batch), static (room, turn) => room.BatchBodyAsync((BatchTurn)turn!), turn, batch.DeliveryInAnswer ? batch.Gateway : null);
        if (turn.Earlier is { } earlier)
        {
            return earlier;
        }

        var unknown = turn.Unknown;
        var result = unknown is null && reply is null ? ReceiveResult.Ok : new ReceiveResult(unknown is null ? null : [.. unknown], reply);
        Outbox.Processed(batch.Gateway, batch.Session, batch.BatchNumber, result);
        return result;
    }

    /// <summary>The body of a batch's turn (its state in <paramref name="turn"/>, so that no closure is made per batch).</summary>
    private async Task BatchBodyAsync(BatchTurn turn)
    {
        var batch = turn.Batch;
        Outbox.Session(batch.Gateway, batch.Session, restart: false);
        if (Outbox.AlreadyProcessed(batch.Gateway, batch.Session, batch.BatchNumber, out var answered))
        {
            turn.Earlier = answered; // a retry of a batch whose answer the gateway did not wait for
            return;
        }

        turn.Unknown = await ProcessAsync(batch);
    }

    /// <summary>One gateway batch's way through its turn; a co-hosted gateway's <see cref="LocalBatch"/> is one too.</summary>
    private class BatchTurn(InboundBatch batch)
    {
        public InboundBatch Batch { get; } = batch;

        /// <summary>The answer given to this batch before (it was sent again).</summary>
        public ReceiveResult? Earlier { get; set; }

        /// <summary>The connection ids the room does not know.</summary>
        public List<string>? Unknown { get; set; }
    }

    async Task<RoomHttpResponse> IRoomGrain.Request(RoomHttpRequest request)
    {
        RoomHttpResponse? response = null;
        await TurnAsync(TurnKind.Http, async () =>
        {
            if (!await TryHookAsync(null, async () => response = await OnRequestAsync(request)))
            {
                // The request failed (reported); the room goes on.
                response = RoomHttpResponse.Text("The room failed to answer the request.", 500);
            }
        });
        return response!;
    }

    /// <summary>
    /// One batch's events in order: each message goes to the message hook, each close to the close hook (the close hooks
    /// a message caused run before the next event). Returns the connection ids the room does not know.
    /// </summary>
    private async Task<List<string>?> ProcessAsync(InboundBatch batch)
    {
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
                // Not a member (the room closed it in its eyes, e.g. its gateway's lease ran out): reported back so that
                // the gateway closes the client; never taken back without a connect hook. A close of it needs nothing.
                if (item.Kind == InboundKind.Message && !(unknown ??= []).Contains(item.ConnectionId))
                {
                    unknown.Add(item.ConnectionId);
                }

                continue;
            }

            if (item.Attachment != connection.Attachment)
            {
                continue; // from a socket the connection has left (it resumed on another): stale
            }

            if (item.Kind == InboundKind.Message)
            {
                if (!connection.IsConnected)
                {
                    // The room took it for gone (its gateway's lease ran out) and waits for a resume: the gateway closes
                    // the socket so that the client resumes.
                    if (!(unknown ??= []).Contains(item.ConnectionId))
                    {
                        unknown.Add(item.ConnectionId);
                    }

                    continue;
                }

                if (item.ClientId > 0)
                {
                    if (item.ClientId <= connection.LastClientId)
                    {
                        Outbox.Ack(connection.Gateway, connection.Id, item.ClientId); // processed before: acknowledged again only
                        continue;
                    }

                    connection.LastClientId = item.ClientId;
                    if (!connection.ClientIdUnsaved)
                    {
                        connection.ClientIdUnsaved = true;
                        _unsavedClientIds.Add(connection);
                    }
                }

                try
                {
                    await OnMessageAsync(connection, new RoomMessage(item.Payload!));
                }
                catch (Exception ex)
                {
                    // Report and go on with the next event: one bad message does not stop the room.
                    await ReportAsync(connection, ex);
                }

                if (item.ClientId > 0)
                {
                    Outbox.Ack(connection.Gateway, connection.Id, item.ClientId);
                }
            }
            else if (item.Resumable && connection.ResumeHash is not null)
            {
                Detach(connection, item.CloseCode, item.CloseReason ?? "");
            }
            else
            {
                Closed(connection, item.CloseCode, item.CloseReason ?? "");
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

        return unknown;
    }

    /// <summary>
    /// Runs one turn: <paramref name="body"/> (which calls the hooks), then the close hooks it caused, then the end of
    /// the turn. Every entry point of the room goes through here. Returns <paramref name="replyTo"/>'s delivery, once the
    /// turn is saved (see <see cref="HeldTurnAsync"/>).
    /// </summary>
    private ValueTask<RoomDelivery?> TurnAsync(TurnKind kind, Func<Task> body, IGatewayObserver? replyTo = null) =>
        TurnAsync(kind, RunBody, body, replyTo);

    /// <summary>The same, with the body's state passed in (a static body allocates nothing).</summary>
    private async ValueTask<RoomDelivery?> TurnAsync(TurnKind kind, Func<Room, object?, Task> body, object? state, IGatewayObserver? replyTo = null)
    {
        _turnsInFlight++;
        try
        {
            await EnterTurnAsync();
            return await HeldTurnAsync(kind, body, state, replyTo);
        }
        finally
        {
            _turnsInFlight--;
        }
    }

    /// <summary>
    /// Runs a turn if <paramref name="needed"/> says so once the turn is this room's (a timer's check must see the room as
    /// the turn will: another event may run first). Returns whether it ran.
    /// </summary>
    private async Task<bool> TurnIfAsync(TurnKind kind, Func<bool> needed, Func<Task> body)
    {
        await EnterTurnAsync();
        if (!needed())
        {
            ExitTurn();
            return false;
        }

        await HeldTurnAsync(kind, RunBody, body, null);
        return true;
    }

    /// <summary>Runs a body given as a closure (its state is the closure).</summary>
    private static readonly Func<Room, object?, Task> RunBody = static (_, body) => ((Func<Task>)body!)();

    /// <summary>
    /// The turn, the turn gate already taken (it is given back at the end). Its end joins the turns that ended without
    /// saving yet; it saves them all at once (group commit) unless another event waits for the turn, in which case it
    /// hands the turn on and one of the next turns saves for it (see <see cref="SaveGroupAsync"/>). Either way it returns
    /// once its changes are saved and what it sent has left.
    /// </summary>
    private async ValueTask<RoomDelivery?> HeldTurnAsync(TurnKind kind, Func<Room, object?, Task> body, object? state, IGatewayObserver? replyTo)
    {
        if (_saveFailed)
        {
            ExitTurn();
            throw SaveFailedError();
        }

        var started = Stopwatch.GetTimestamp();
        _turnNumber++;
        using var span = RoomTracing.StartTurn(RoomType, RoomName, RoomMetrics.KindName(kind));
        try
        {
            Task<RoomDelivery?>? saved = null;
            RoomDelivery? reply;
            try
            {
                await body(this, state);
                await RunClosingHooksAsync();
                if (_turnWaiters is { Count: > 0 } && _group.Count + 1 < MaxGroup)
                {
                    // Another event waits: hand the turn on; one of the next turns saves this one with its own.
                    var done = new TaskCompletionSource<RoomDelivery?>(TaskCreationOptions.RunContinuationsAsynchronously);
                    _group.Add((replyTo, done));
                    saved = done.Task;
                    reply = null;
                }
                else
                {
                    reply = await SaveGroupAsync(own: true, replyTo);
                }
            }
            finally
            {
                ExitTurn();
            }

            return saved is null ? reply : await saved;
        }
        catch (Exception ex) when (span is not null)
        {
            // Mark the span and rethrow: the entry point's caller applies its policy (a gateway retries the call).
            span.SetStatus(ActivityStatusCode.Error, ex.Message);
            throw;
        }
        finally
        {
            RoomMetrics.TurnEnded(RoomType, kind, started);
        }
    }

    /// <summary>
    /// Saves what the turns of the group changed, in one go, then sends what they sent (the output gate holds for each of
    /// them), and answers each with its gateway's part. Runs with the turn gate held. With <paramref name="own"/>, the
    /// turn that calls it (not in the group: it ended last) is saved too; it gets its part of
    /// <paramref name="ownReplyTo"/>'s delivery as the result, and a failed save as an exception. The group's turns
    /// get theirs through their completion sources, failures included.
    /// </summary>
    private async ValueTask<RoomDelivery?> SaveGroupAsync(bool own = false, IGatewayObserver? ownReplyTo = null)
    {
        var group = _group.Count == 0 ? [] : _group.ToArray();
        _group.Clear();
        var upTo = _turnNumber; // every turn so far has ended (the gate is held): this save writes what they changed
        var replyTo = _replyTo;
        replyTo.Clear();
        foreach (var (groupReplyTo, _) in group)
        {
            if (groupReplyTo is not null)
            {
                replyTo.Add(groupReplyTo.GetGrainId());
            }
        }

        if (ownReplyTo is not null)
        {
            replyTo.Add(ownReplyTo.GetGrainId());
        }

        Dictionary<GrainId, RoomDelivery>? replies;
        try
        {
            replies = await EndTurnAsync(replyTo);
        }
        catch (Exception ex)
        {
            // Each turn's caller gets the failure and applies its policy (a gateway calls again).
            foreach (var (_, done) in group)
            {
                done.TrySetException(ex);
            }

            if (own)
            {
                throw;
            }

            return null;
        }

        _savedTurn = upTo;
        foreach (var (groupReplyTo, done) in group)
        {
            RoomDelivery? reply = null;
            if (groupReplyTo is not null)
            {
                replies?.Remove(groupReplyTo.GetGrainId(), out reply); // the first turn of that gateway answers with it
            }

            done.TrySetResult(reply);
        }

        RoomDelivery? ownReply = null;
        if (ownReplyTo is not null)
        {
            replies?.Remove(ownReplyTo.GetGrainId(), out ownReply);
        }

        return ownReply;
    }

    /// <summary>A gateway's batch is a message turn unless it carries only closes.</summary>
    private static TurnKind KindOf(InboundBatch batch)
    {
        foreach (var item in batch.Events)
        {
            if (item.Kind == InboundKind.Message)
            {
                return TurnKind.Message;
            }
        }

        return batch.Events.Length > 0 ? TurnKind.Close : TurnKind.Message;
    }

    /// <summary>Runs a hook; if it throws, reports the error to <see cref="OnErrorAsync"/> and returns false.</summary>
    private async Task<bool> TryHookAsync(Connection? connection, Func<Task> hook)
    {
        try
        {
            await hook();
            return true;
        }
        catch (Exception ex)
        {
            // Report; the caller decides what a failed hook means (refuse, answer 500, retry the alarm).
            await ReportAsync(connection, ex);
            return false;
        }
    }

    private async Task RunClosingHooksAsync()
    {
        while (_closing.TryDequeue(out var closing))
        {
            // The connection is gone whatever the hook does; a failure is reported.
            await RunCloseHookAsync(closing.Connection, closing.Code, closing.Reason);
        }
    }

    // Its own method: a closure in the loop above would be allocated on every call, closes or not.
    private Task<bool> RunCloseHookAsync(Connection connection, int code, string reason) =>
        TryHookAsync(connection, () => OnCloseAsync(connection, code, reason));

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
    /// Ends the turns of a group: saves what changed, then sends what they sent (the output gate). Returns the deliveries of
    /// the gateways in <paramref name="replyTo"/> instead of sending them, for the answers to those gateways' calls.
    /// </summary>
    private async ValueTask<Dictionary<GrainId, RoomDelivery>?> EndTurnAsync(List<GrainId> replyTo)
    {
        if (_saveFailed)
        {
            // A turn that awaited another room while an earlier turn's save failed: memory is ahead of storage, so
            // nothing of it is saved or sent; its caller retries on the next activation.
            DiscardTurn();
            throw SaveFailedError();
        }

        var writes = StateChanged() || _storage?.HasChanges == true || _dirty.Count > 0 || _membership?.HasChanges == true || _systemDirty;
        var clientIds = WriteDirtyConnections(withClientIds: writes);
        try
        {
            // An activation's first output claims its epoch before anything else is written: a duplicate activation that
            // wrote the system record meanwhile (an older one leaving a silo that shuts down writes its next number) fails
            // this turn before any of it is durable, so the gateway's retry runs it whole on the next activation. Written
            // after the state, the state would keep the turn's effect (and the client ids that dedupe the retry) while its
            // output was dropped: a message processed whose output nobody ever sees.
            if (!_epochSaved && Outbox.HasOutput)
            {
                await SaveSystemAsync();
            }

            // The state first, carrying the client ids this turn processed in its own record: a message whose effect is
            // in the state is never processed again, and one whose effect was lost is never acknowledged. Then the
            // key/value records, then the connections' records (they carry the ids too, for turns that change no state):
            // a crash between those writes can apply an unacknowledged message to key/value records twice.
            await SaveStateAsync(clientIds);
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
            _saveFailed = true;
            DiscardTurn();
            Log.SaveFailed(Logger, ex, RoomType, RoomName);
            DeactivateOnIdle();
            throw;
        }

        var reply = Outbox.Flush(_onDeliveryFailed ??= ex => Log.DeliveryFailed(Logger, ex, RoomType, RoomName), Environment.TickCount64, replyTo.Count > 0 ? replyTo : null);
        SendCalls();
        await ArmAlarmAsync();
        await AfterTurnAsync();
        return reply;
    }

    private void DiscardTurn()
    {
        Outbox.Discard();
        _afterTurn.Clear();
        _storage?.Discard();
        _membership?.Discard();
        _systemDirty = _alarmChanged = false;
    }

    private InvalidOperationException SaveFailedError() => new(
        $"Room {RoomType}/{RoomName}: an earlier turn's save failed and this activation is going away; call again (the next activation reads the last saved state).");

    /// <summary>The record <see cref="Room{TState}"/> keeps its state in (a <see cref="StateRecord"/>).</summary>
    internal const string StateRecordName = "room-state";

    /// <summary>True when the turn changed the state (it will be written). Overridden by <see cref="Room{TState}"/>.</summary>
    private protected virtual bool StateChanged() => false;

    /// <summary>
    /// Reads the durable state's record at activation, alongside the room's other records (it touches no other field).
    /// Overridden by <see cref="Room{TState}"/>.
    /// </summary>
    private protected virtual Task ReadStateAsync() => Task.CompletedTask;

    /// <summary>Makes the state read by <see cref="ReadStateAsync"/> the room's, once the connections are loaded.</summary>
    private protected virtual void RestoreState()
    {
    }

    /// <summary>
    /// Makes the turn's state changes durable, with <paramref name="clientIds"/> (the client message ids processed since
    /// the last write, per connection) in the same record. Overridden by <see cref="Room{TState}"/>.
    /// </summary>
    private protected virtual Task SaveStateAsync(IReadOnlyDictionary<string, long>? clientIds) => Task.CompletedTask;
}
