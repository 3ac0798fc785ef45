using Microsoft.Extensions.DependencyInjection;

namespace RoomActors;

/// <summary>
/// Rooms calling rooms (like Durable Object stubs) and users wherever they are. One-way messages, user sends and the
/// user directory's updates are outputs of the turn: they leave when the turn's changes are saved, in the order made for
/// each target.
/// A request goes out at once and is awaited in the hook; while it is out, the room takes its other events (a connect, a
/// batch of messages, a call from another room…) one at a time, as Durable Objects open their input gate while an object
/// awaits another: two rooms that request each other at once do not deadlock, and a hook waiting for a busy room does
/// not hold up everyone else's.
/// </summary>
public abstract partial class Room
{
    /// <summary>How long <see cref="RoomStub.RequestAsync(string)"/> waits for an answer unless told otherwise: 10 s.</summary>
    public static readonly TimeSpan DefaultRequestTimeout = TimeSpan.FromSeconds(10);

    private readonly List<(GrainId Target, Func<Task> Call)> _afterTurn = new();
    private readonly Dictionary<GrainId, Queue<Func<Task>>> _calls = new();
    private readonly Dictionary<GrainId, Task> _callPumps = new();
    private bool _turnHeld;
    private Queue<(TaskCompletionSource Waiter, long Since)>? _turnWaiters;

    /// <summary>
    /// A stub for the room (<paramref name="type"/>, <paramref name="name"/>) of this cluster: send it messages or make
    /// requests of it; its <see cref="OnRoomMessageAsync"/> handles them. The room need not exist yet: like any room, it
    /// starts on first use.
    /// </summary>
    /// <param name="type">The room type, as in <c>[Room("type")]</c>.</param>
    /// <param name="name">The room name.</param>
    protected RoomStub GetRoom(string type, string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(type);
        ArgumentException.ThrowIfNullOrEmpty(name);
        return new RoomStub(this, type, name, GrainFactory.GetGrain<IRoomGrain>(RoomGrainIds.Of(type, name)));
    }

    /// <summary>
    /// Runs for a message or a request from another room (<see cref="RoomStub.Send(string)"/>,
    /// <see cref="RoomStub.RequestAsync(string)"/>), in a turn of its own. Answer a request with
    /// <see cref="RoomCall.Reply(string)"/>: the reply leaves when the turn's changes are saved. If the hook throws, the
    /// requester's call fails with a <see cref="RoomCallException"/>.
    /// </summary>
    protected virtual Task OnRoomMessageAsync(RoomCall call) => Task.CompletedTask;

    /// <summary>
    /// Sends a text message to every connection of user <paramref name="userId"/>, in whatever room of the cluster they
    /// are (through the user directory and the rooms that hold them), when this turn ends. Connections have a user
    /// when their ticket names one or their connect hook called <see cref="Connection.SetUser"/>.
    /// </summary>
    /// <param name="userId">The user.</param>
    /// <param name="text">The message.</param>
    public void SendToUser(string userId, string text)
    {
        ArgumentException.ThrowIfNullOrEmpty(userId);
        var payload = Payloads.Text(text);
        var directory = Directory(userId);
        _afterTurn.Add((directory.GetGrainId(), () => directory.Send(payload)));
    }

    /// <summary>
    /// Closes every connection of user <paramref name="userId"/>, in whatever room they are, when this turn ends; each
    /// room runs its close hook for them.
    /// </summary>
    /// <param name="userId">The user.</param>
    /// <param name="code">The close code (an application code 4000–4999, or e.g. 1008).</param>
    /// <param name="reason">Why, for the client.</param>
    public void CloseUser(string userId, int code, string reason)
    {
        ArgumentException.ThrowIfNullOrEmpty(userId);
        CloseCodes.ThrowIfNotSendable(code);
        var directory = Directory(userId);
        _afterTurn.Add((directory.GetGrainId(), () => directory.Close(code, reason ?? "")));
    }

    /// <summary>
    /// Where user <paramref name="userId"/>'s connections are now, as the user directory knows them (a connection that
    /// closed a moment ago may still be listed). Awaiting it lets other rooms' calls in, as a request does.
    /// </summary>
    /// <param name="userId">The user.</param>
    public async Task<IReadOnlyList<UserConnection>> FindUserAsync(string userId)
    {
        ArgumentException.ThrowIfNullOrEmpty(userId);
        return await OutsideTurnAsync(Directory(userId).Get());
    }

    async Task<RoomCallResult> IRoomGrain.Call(RoomCallEnvelope call)
    {
        var result = new RoomCallResult();
        await TurnAsync(TurnKind.Call, async () => result = await HandleCallAsync(call));
        return result;
    }

    private async Task<RoomCallResult> HandleCallAsync(RoomCallEnvelope call)
    {
        switch (call.Kind)
        {
            case RoomCallKind.UserSend:
            {
                var count = 0;
                foreach (var connection in UserConnections(call.UserId))
                {
                    SendTo(connection, call.Payload!);
                    count++;
                }

                return new RoomCallResult(Count: count);
            }

            case RoomCallKind.UserClose:
            {
                var count = 0;
                foreach (var connection in UserConnections(call.UserId))
                {
                    CloseConnection(connection, call.CloseCode, call.CloseReason ?? "");
                    count++;
                }

                return new RoomCallResult(Count: count);
            }

            default:
                var roomCall = new RoomCall(call);
                try
                {
                    await OnRoomMessageAsync(roomCall);
                }
                catch (Exception ex)
                {
                    // Reported here, and the requester's call fails with the message (a one-way sender is not told).
                    await ReportAsync(null, ex);
                    return new RoomCallResult(Error: $"{ex.GetType().Name}: {ex.Message}");
                }

                return new RoomCallResult(roomCall.ReplyPayload);
        }
    }

    private List<Connection> UserConnections(string? userId) =>
        userId is null ? [] : _connections.Values.Where(c => c.IsOpen && c.UserId == userId).ToList();

    internal void SendToRoom(RoomStub target, Payload payload)
    {
        var call = new RoomCallEnvelope { Kind = RoomCallKind.Message, FromType = RoomType, FromName = RoomName, Payload = payload };
        _afterTurn.Add((target.Grain.GetGrainId(), () => target.Grain.Call(call)));
    }

    internal async Task<RoomMessage?> RequestAsync(RoomStub target, Payload payload, TimeSpan timeout)
    {
        var call = new RoomCallEnvelope { Kind = RoomCallKind.Request, FromType = RoomType, FromName = RoomName, Payload = payload };
        var result = await OutsideTurnAsync(target.Grain.Call(call).WaitAsync(timeout));
        if (result.Error is { } error)
        {
            throw new RoomCallException($"Room {target.Type}/{target.Name} failed to answer the request: {error}");
        }

        return result.Reply is { } reply ? new RoomMessage(reply) : null;
    }

    /// <summary>
    /// Awaits <paramref name="call"/> with the turn released, so that the room's other events run meanwhile (a room
    /// that awaits another one which awaits it back would otherwise wait forever); takes the turn back after. A connect
    /// hook that awaits here has not joined its connection yet unless it sent to it first (see <c>Connection.JoinPending</c>).
    /// </summary>
    private async Task<T> OutsideTurnAsync<T>(Task<T> call)
    {
        var held = _turnHeld;
        var connecting = _connecting;
        if (held)
        {
            _connecting = null;
            ExitTurn();
        }

        try
        {
            return await call;
        }
        finally
        {
            if (held)
            {
                await EnterTurnAsync();
                _connecting = connecting;
            }
        }
    }

    /// <summary>Takes the turn: at once when no turn runs, else (first come, first served) when the running one ends or awaits another room.</summary>
    private Task EnterTurnAsync()
    {
        if (!_turnHeld)
        {
            _turnHeld = true;
            return Task.CompletedTask;
        }

        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        (_turnWaiters ??= new()).Enqueue((waiter, Environment.TickCount64));
        return waiter.Task;
    }

    /// <summary>
    /// Gives the turn to the next waiter (it stays held); with nobody waiting, saves the turns that ended without saving
    /// first (it stays held for that), or frees it.
    /// </summary>
    private void ExitTurn()
    {
        if (_turnWaiters is { Count: > 0 } waiters)
        {
            waiters.Dequeue().Waiter.SetResult();
            return;
        }

        if (_group.Count > 0)
        {
            _ = SaveGroupThenExitAsync();
            return;
        }

        _turnHeld = false;
    }

    private async Task SaveGroupThenExitAsync()
    {
        await SaveGroupAsync(); // never throws: a failure goes to the group's turns
        ExitTurn();
    }

    /// <summary>How long the event first in line for the turn has waited (zero when none waits).</summary>
    private TimeSpan TurnQueueDelay() => _turnWaiters is { Count: > 0 } waiters
        ? TimeSpan.FromMilliseconds(Environment.TickCount64 - waiters.Peek().Since)
        : TimeSpan.Zero;

    private IUserDirectory Directory(string userId) => GrainFactory.GetGrain<IUserDirectory>(userId);

    /// <summary>Tells the user directory of a member with a user (after the turn's changes are saved).</summary>
    private void Register(Connection connection)
    {
        if (connection.UserId is not { } user || connection.Registered)
        {
            return;
        }

        connection.Registered = true;
        var entry = new UserConnection(RoomType, RoomName, connection.Id);
        var directory = Directory(user);
        _afterTurn.Add((directory.GetGrainId(), () => directory.Add(entry)));
    }

    /// <summary>Tells the user directory that a member with a user left.</summary>
    private void Unregister(Connection connection)
    {
        if (connection.UserId is not { } user || !connection.Registered)
        {
            return;
        }

        connection.Registered = false;
        var entry = new UserConnection(RoomType, RoomName, connection.Id);
        var directory = Directory(user);
        _afterTurn.Add((directory.GetGrainId(), () => directory.Remove(entry)));
    }

    /// <summary>
    /// The turn's changes are saved: its calls to other rooms and to the directory leave, in the order made for each
    /// target; different targets do not wait for each other (a hub telling 120 rooms of a shout does not wait for each
    /// room's turn before the next).
    /// </summary>
    private void SendCalls()
    {
        if (_afterTurn.Count == 0)
        {
            return;
        }

        foreach (var (target, call) in _afterTurn)
        {
            if (!_calls.TryGetValue(target, out var queue))
            {
                _calls[target] = queue = new Queue<Func<Task>>();
            }

            queue.Enqueue(call);
        }

        foreach (var (target, _) in _afterTurn)
        {
            if (!_callPumps.ContainsKey(target) && _calls.TryGetValue(target, out var queue))
            {
                var pump = PumpCallsAsync(target, queue);
                if (!pump.IsCompleted)
                {
                    _callPumps[target] = pump;
                }
            }
        }

        _afterTurn.Clear();
    }

    /// <summary>Makes one target's queued calls one after another (so it sees them in the order made), off the turn.</summary>
    private async Task PumpCallsAsync(GrainId target, Queue<Func<Task>> queue)
    {
        while (queue.TryDequeue(out var call))
        {
            try
            {
                await call();
            }
            catch (Exception ex)
            {
                // Log and go on: a one-way call is not retried (it may have run); the next one still goes.
                Log.CallFailed(Logger, ex, RoomType, RoomName);
            }
        }

        _calls.Remove(target);
        _callPumps.Remove(target);
    }

    /// <summary>At deactivation: the calls already made leave before the room does (bounded).</summary>
    private async Task DrainCallsAsync()
    {
        if (_callPumps.Count > 0)
        {
            try
            {
                await Task.WhenAll(_callPumps.Values.ToArray()).WaitAsync(TimeSpan.FromSeconds(5));
            }
            catch (TimeoutException)
            {
                // Leave anyway (a deactivation must end): what is still queued is lost, and said so.
                Log.CallsDropped(Logger, _calls.Values.Sum(q => q.Count), RoomType, RoomName);
            }
        }
    }
}

/// <summary>
/// Another room, as a room sees it (like a Durable Object stub): <see cref="Send(string)"/> a message or
/// <see cref="RequestAsync(string)"/> an answer. Get one with <c>GetRoom(type, name)</c> inside a room.
/// </summary>
public sealed class RoomStub
{
    private readonly Room _room;

    internal RoomStub(Room room, string type, string name, IRoomGrain grain)
    {
        _room = room;
        Type = type;
        Name = name;
        Grain = grain;
    }

    /// <summary>The room's type.</summary>
    public string Type { get; }

    /// <summary>The room's name.</summary>
    public string Name { get; }

    internal IRoomGrain Grain { get; }

    /// <summary>
    /// Sends a text message, one-way, when this turn ends (after its changes are saved; a failed turn sends nothing).
    /// Messages to one room arrive in the order sent; a lost one is logged, not retried.
    /// </summary>
    /// <param name="text">The message.</param>
    public void Send(string text) => _room.SendToRoom(this, Payloads.Text(text));

    /// <summary>Sends a binary message, one-way, when this turn ends. The bytes are copied.</summary>
    /// <param name="data">The message.</param>
    public void Send(ReadOnlySpan<byte> data) => _room.SendToRoom(this, Payloads.Binary(data));

    /// <summary>
    /// Asks the room and awaits its reply (null when its hook did not reply). The request goes out at once; the other room
    /// handles it in a turn of its own and answers once that turn's changes are saved. While this room awaits, calls from
    /// other rooms may run in it (so two rooms requesting each other at once do not deadlock): read what they may change
    /// again after the await. Throws <see cref="RoomCallException"/> when the other room's hook failed and
    /// <see cref="TimeoutException"/> after <see cref="Room.DefaultRequestTimeout"/>.
    /// </summary>
    /// <param name="text">The request.</param>
    public Task<RoomMessage?> RequestAsync(string text) => _room.RequestAsync(this, Payloads.Text(text), Room.DefaultRequestTimeout);

    /// <summary>Asks the room and awaits its reply for at most <paramref name="timeout"/> (see <see cref="RequestAsync(string)"/>).</summary>
    /// <param name="text">The request.</param>
    /// <param name="timeout">How long to wait for the reply.</param>
    public Task<RoomMessage?> RequestAsync(string text, TimeSpan timeout) => _room.RequestAsync(this, Payloads.Text(text), timeout);

    /// <summary>Asks the room with a binary request (the bytes are copied) and awaits its reply (see <see cref="RequestAsync(string)"/>).</summary>
    /// <param name="data">The request.</param>
    public Task<RoomMessage?> RequestAsync(ReadOnlySpan<byte> data) => _room.RequestAsync(this, Payloads.Binary(data), Room.DefaultRequestTimeout);

    /// <summary>Asks the room with a binary request and awaits its reply for at most <paramref name="timeout"/>.</summary>
    /// <param name="data">The request.</param>
    /// <param name="timeout">How long to wait for the reply.</param>
    public Task<RoomMessage?> RequestAsync(ReadOnlySpan<byte> data, TimeSpan timeout) => _room.RequestAsync(this, Payloads.Binary(data), timeout);

    /// <inheritdoc />
    public override string ToString() => $"{Type}/{Name}";
}

/// <summary>A message or request from another room, as <c>OnRoomMessageAsync</c> sees it.</summary>
public sealed class RoomCall
{
    private readonly RoomCallEnvelope _call;
    private RoomMessage? _message;

    internal RoomCall(RoomCallEnvelope call) => _call = call;

    /// <summary>The calling room's type.</summary>
    public string FromType => _call.FromType;

    /// <summary>The calling room's name.</summary>
    public string FromName => _call.FromName;

    /// <summary>True for a request (the caller awaits <see cref="Reply(string)"/>), false for a one-way message.</summary>
    public bool IsRequest => _call.Kind == RoomCallKind.Request;

    /// <summary>The message itself.</summary>
    public RoomMessage Message => _message ??= new RoomMessage(_call.Payload ?? Payloads.Text(""));

    /// <summary>The message decoded as UTF-8.</summary>
    public string Text => Message.Text;

    internal Payload? ReplyPayload { get; private set; }

    /// <summary>Answers a request with text (the last reply wins); ignored for a one-way message.</summary>
    /// <param name="text">The reply.</param>
    public void Reply(string text) => ReplyPayload = Payloads.Text(text);

    /// <summary>Answers a request with bytes (copied); ignored for a one-way message.</summary>
    /// <param name="data">The reply.</param>
    public void Reply(ReadOnlySpan<byte> data) => ReplyPayload = Payloads.Binary(data);

    /// <inheritdoc />
    public override string ToString() => $"{(IsRequest ? "request" : "message")} from {FromType}/{FromName}: {Message}";
}

/// <summary>Another room failed to answer a request (its hook threw): the message says which room and why.</summary>
public sealed class RoomCallException : Exception
{
    /// <summary>A failed request.</summary>
    /// <param name="message">Which room, and why.</param>
    public RoomCallException(string message)
        : base(message)
    {
    }
}
