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
///         Broadcast(message, except: [sender.Id]);
///         return Task.CompletedTask;
///     }
/// }
/// </code>
/// </summary>
/// <remarks>
/// Everything a hook sends (<see cref="Broadcast(string)"/>, <see cref="Connection.Send(string)"/>,
/// <see cref="Connection.Close"/>) is collected and delivered when the turn ends, in the order it was called:
/// every client of the room sees the room's messages in one order.
/// </remarks>
public abstract partial class Room : Grain, IRoomGrain
{
    private ILogger? _logger;
    private string? _type;
    private string? _name; // decoded from the grain id once: every turn's trace and log names the room
    private TimeProvider? _time;

    // ───────────── The room author's API ─────────────

    /// <summary>The room's type name, as in <c>/rooms/{type}/{name}</c>.</summary>
    public string RoomType => _type ??= RoomGrainIds.RoomTypeOf(this.GetGrainId().Type) ?? GetType().Name;

    /// <summary>The room's name, as in <c>/rooms/{type}/{name}</c>.</summary>
    public string RoomName => _name ??= this.GetPrimaryKeyString();

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

    /// <summary>The clock rooms use (the silo's <see cref="System.TimeProvider"/>, so tests can control it).</summary>
    protected TimeProvider TimeProvider => _time ??= ServiceProvider.GetService<TimeProvider>() ?? TimeProvider.System;

    /// <summary>A logger named after the room class.</summary>
    protected ILogger Logger => _logger ??= ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger(GetType());

    /// <summary>Sends a text message to every connection.</summary>
    /// <param name="text">The message.</param>
    public void Broadcast(string text) => BroadcastPayload(Payloads.Text(text), null);

    /// <summary>Sends a text message to every connection except the ids in <paramref name="except"/>.</summary>
    /// <param name="text">The message.</param>
    /// <param name="except">Connection ids that do not receive it, e.g. <c>except: [sender.Id]</c>.</param>
    public void Broadcast(string text, string[] except) => BroadcastPayload(Payloads.Text(text), except);

    /// <summary>Sends a binary message to every connection. The bytes are copied.</summary>
    /// <param name="data">The message.</param>
    public void Broadcast(ReadOnlySpan<byte> data) => BroadcastPayload(Payloads.Binary(data), null);

    /// <summary>Sends a binary message to every connection except the ids in <paramref name="except"/>. The bytes are copied.</summary>
    /// <param name="data">The message.</param>
    /// <param name="except">Connection ids that do not receive it, e.g. <c>except: [sender.Id]</c>.</param>
    public void Broadcast(ReadOnlySpan<byte> data, string[] except) => BroadcastPayload(Payloads.Binary(data), except);

    /// <summary>
    /// Relays a received message unchanged to every connection: text stays text, binary stays binary, and the bytes are
    /// neither copied nor re-encoded.
    /// </summary>
    /// <param name="message">The message.</param>
    public void Broadcast(RoomMessage message) => BroadcastPayload(message.Payload, null);

    /// <summary>Relays a received message unchanged to every connection except the ids in <paramref name="except"/>.</summary>
    /// <param name="message">The message.</param>
    /// <param name="except">Connection ids that do not receive it, e.g. <c>except: [sender.Id]</c>.</param>
    public void Broadcast(RoomMessage message, string[] except) => BroadcastPayload(message.Payload, except);

    // ───────────── Hooks: override what you need; each default does nothing ─────────────

    /// <summary>Runs when the room starts (each activation), before any other hook.</summary>
    protected virtual Task OnStartAsync() => Task.CompletedTask;

    /// <summary>
    /// Runs before the WebSocket upgrade, when a room type overrides it: check the verified identity
    /// (<see cref="ClientContext.UserId"/>), the query and headers, and <see cref="BeforeConnectContext.Deny"/> with
    /// 401/403 to refuse the client before any socket opens. The connection does not exist yet: do not send to it.
    /// </summary>
    protected virtual Task OnBeforeConnectAsync(BeforeConnectContext context) => Task.CompletedTask;

    /// <summary>
    /// Runs when a client connects. The connection is already in <see cref="Connections"/> and can be sent to;
    /// add tags with <see cref="Connection.AddTag"/>; refuse it with <see cref="ConnectContext.Reject"/>.
    /// </summary>
    protected virtual Task OnConnectAsync(Connection connection, ConnectContext context) => Task.CompletedTask;

    /// <summary>Runs for every message a client sends, in the order that client sent them.</summary>
    protected virtual Task OnMessageAsync(Connection sender, RoomMessage message) => Task.CompletedTask;

    /// <summary>
    /// Runs exactly once per accepted connection when it closes: the client closed, the network dropped (1006),
    /// the gateway closed it (e.g. 1008, 1009, 1012 at a gateway's shutdown) or the room did.
    /// </summary>
    protected virtual Task OnCloseAsync(Connection connection, int code, string reason) => Task.CompletedTask;

    /// <summary>
    /// Runs when a <c>roomactors.v1</c> client resumed its connection on a new socket (its network dropped, its gateway
    /// went away): it has been sent the messages it missed, and keeps its id, tags and state. No connect or close hook
    /// ran for it. Until then <see cref="Connection.IsConnected"/> was false.
    /// </summary>
    protected virtual Task OnResumeAsync(Connection connection) => Task.CompletedTask;

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
}
