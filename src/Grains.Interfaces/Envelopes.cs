namespace RoomActors.Contracts;

/// <summary>One WebSocket message's payload: text (UTF-8 bytes) or binary, passed through unchanged.</summary>
/// <param name="IsText">True for a text frame, false for binary.</param>
/// <param name="Data">The payload. Never mutated once created, so one buffer can go to many sockets.</param>
[GenerateSerializer, Immutable]
public sealed record Payload([property: Id(0)] bool IsText, [property: Id(1)] byte[] Data);

/// <summary>A gateway's request to connect a new client to a room.</summary>
[GenerateSerializer, Immutable]
public sealed record ConnectRequest
{
    /// <summary>The connection id the gateway chose; unique in the cluster.</summary>
    [Id(0)] public required string ConnectionId { get; init; }

    /// <summary>The gateway that holds the socket; the room delivers to it.</summary>
    [Id(1)] public required IGatewayObserver Gateway { get; init; }

    /// <summary>The raw query string of the upgrade request, including the leading <c>?</c>, or empty.</summary>
    [Id(2)] public string QueryString { get; init; } = "";

    /// <summary>The request headers the gateway is configured to forward (names in lower case).</summary>
    [Id(3)] public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();

    /// <summary>The gateway's session with this room (see <see cref="RoomDelivery.Session"/>).</summary>
    [Id(4)] public required long Session { get; init; }

    /// <summary>The verified user (the ticket's subject), or null when auth is off.</summary>
    [Id(5)] public string? UserId { get; init; }

    /// <summary>The verified ticket's claims (type → value; repeated claims joined with commas), or empty.</summary>
    [Id(6)] public IReadOnlyDictionary<string, string> Claims { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// For a client on the <c>roomactors.v1</c> subprotocol: the secret of its resume token (the room keeps only a
    /// hash of it). Null for a client that cannot resume (raw frames).
    /// </summary>
    [Id(7)] public string? ResumeSecret { get; init; }

    /// <summary>
    /// Names this socket of the connection: a resumed connection gets a new socket, and events that name an older one are
    /// stale. 0 for a client that cannot resume.
    /// </summary>
    [Id(8)] public long Attachment { get; init; }
}

/// <summary>A gateway's request to resume a connection on a new socket (the <c>roomactors.v1</c> subprotocol).</summary>
[GenerateSerializer, Immutable]
public sealed record ResumeRequest
{
    /// <summary>The connection to resume (from the client's token).</summary>
    [Id(0)] public required string ConnectionId { get; init; }

    /// <summary>The secret from the client's token.</summary>
    [Id(1)] public required string Secret { get; init; }

    /// <summary>The room sequence number of the last message the client saw (see the wire spec's <c>lastSeq</c>).</summary>
    [Id(2)] public required long LastSeq { get; init; }

    /// <summary>The gateway that holds the new socket.</summary>
    [Id(3)] public required IGatewayObserver Gateway { get; init; }

    /// <summary>The gateway's session with this room (see <see cref="RoomDelivery.Session"/>).</summary>
    [Id(4)] public required long Session { get; init; }

    /// <summary>The new socket (see <see cref="ConnectRequest.Attachment"/>).</summary>
    [Id(5)] public required long Attachment { get; init; }

    /// <summary>The verified user of the new socket's ticket, or null when auth is off; it must be the connection's.</summary>
    [Id(6)] public string? UserId { get; init; }
}

/// <summary>The room's answer to <see cref="ConnectRequest"/>.</summary>
/// <param name="Accepted">True when the room accepted the connection.</param>
/// <param name="CloseCode">When rejected: the WebSocket close code to close the socket with.</param>
/// <param name="Reason">When rejected: the close reason.</param>
[GenerateSerializer, Immutable]
public sealed record ConnectResult(
    [property: Id(0)] bool Accepted,
    [property: Id(1)] int CloseCode = 0,
    [property: Id(2)] string? Reason = null)
{
    /// <summary>The connection was accepted.</summary>
    public static ConnectResult Accept { get; } = new(true);
}

/// <summary>The room's answer before the upgrade.</summary>
/// <param name="Allowed">True when the client may connect.</param>
/// <param name="Status">When refused: the HTTP status (401 or 403 usually).</param>
/// <param name="Reason">When refused: why, for the client.</param>
[GenerateSerializer, Immutable]
public sealed record Admission([property: Id(0)] bool Allowed, [property: Id(1)] int Status = 0, [property: Id(2)] string? Reason = null)
{
    /// <summary>Allowed.</summary>
    public static Admission Allow { get; } = new(true);
}

/// <summary>What happened on a connection, as the gateway reports it to the room.</summary>
public enum InboundKind
{
    /// <summary>A frame arrived from the client.</summary>
    Message = 0,

    /// <summary>The connection closed (client close, network drop, gateway policy or shutdown).</summary>
    Close = 1,
}

/// <summary>One inbound event of one connection.</summary>
/// <param name="ConnectionId">The connection.</param>
/// <param name="Kind">A message or the close.</param>
/// <param name="Payload">The message's payload.</param>
/// <param name="CloseCode">The close's code.</param>
/// <param name="CloseReason">The close's reason.</param>
/// <param name="ClientId">
/// The message's client id (<c>roomactors.v1</c>): the room processes each id at most once per connection and
/// acknowledges it; 0 for none. For a close: 1 when the client may still resume the connection (it did not leave for
/// good), else 0.
/// </param>
/// <param name="Attachment">The socket the event happened on (see <see cref="ConnectRequest.Attachment"/>).</param>
[GenerateSerializer, Immutable]
public readonly record struct InboundEvent(
    [property: Id(0)] string ConnectionId,
    [property: Id(1)] InboundKind Kind,
    [property: Id(2)] Payload? Payload,
    [property: Id(3)] int CloseCode,
    [property: Id(4)] string? CloseReason,
    [property: Id(5)] long ClientId = 0,
    [property: Id(6)] long Attachment = 0)
{
    /// <summary>A frame from <paramref name="connectionId"/>.</summary>
    public static InboundEvent Message(string connectionId, Payload frame) => new(connectionId, InboundKind.Message, frame, 0, null);

    /// <summary>A frame from <paramref name="connectionId"/>'s socket <paramref name="attachment"/> with client id <paramref name="clientId"/> (0: none).</summary>
    public static InboundEvent Message(string connectionId, Payload frame, long clientId, long attachment) =>
        new(connectionId, InboundKind.Message, frame, 0, null, clientId, attachment);

    /// <summary>The close of <paramref name="connectionId"/>.</summary>
    public static InboundEvent Closed(string connectionId, int code, string? reason) => new(connectionId, InboundKind.Close, null, code, reason);

    /// <summary>The close of <paramref name="connectionId"/>'s socket <paramref name="attachment"/>; <paramref name="resumable"/> when the client may resume.</summary>
    public static InboundEvent Closed(string connectionId, int code, string? reason, bool resumable, long attachment) =>
        new(connectionId, InboundKind.Close, null, code, reason, resumable ? 1 : 0, attachment);

    /// <summary>For a close: the client may resume the connection within the room's resume window.</summary>
    public bool Resumable => Kind == InboundKind.Close && ClientId != 0;
}

/// <summary>Inbound events of one room from one gateway, in the order they happened.</summary>
[GenerateSerializer, Immutable]
public sealed class InboundBatch
{
    /// <summary>The gateway the events come from.</summary>
    [Id(0)] public required IGatewayObserver Gateway { get; init; }

    /// <summary>The events, oldest first.</summary>
    [Id(1)] public required InboundEvent[] Events { get; init; }

    /// <summary>The gateway's session with this room (see <see cref="RoomDelivery.Session"/>).</summary>
    [Id(2)] public required long Session { get; init; }

    // Id 3 was the gateway's snapshots of connections to restore; the room's durable membership is the one way now.

    /// <summary>
    /// When set: every connection this gateway holds in the room (sent when the gateway sees the room restarted). Ids
    /// the room does not know come back in <see cref="ReceiveResult.Unknown"/>; the gateway closes their clients.
    /// </summary>
    [Id(4)] public string[]? Renew { get; init; }

    /// <summary>
    /// The batch's number within <see cref="Session"/>, from 1. A gateway that timed out waiting for an answer sends
    /// the same batch again; the room answers a number it already processed from memory instead of processing twice.
    /// </summary>
    [Id(5)] public long BatchNumber { get; init; }

    /// <summary>
    /// When connections last sent the gateway's auto-response request (e.g. <c>ping</c>), which the gateway answered
    /// without waking the room: the changes since the last batch, or all of them on a renewal.
    /// </summary>
    [Id(6)] public ConnectionPing[]? Pings { get; init; }

    /// <summary>
    /// The gateway takes what the batch's turn sends it in <see cref="ReceiveResult.Delivery"/>. A gateway that does not
    /// say so (an older version, during a rolling upgrade) gets it by <see cref="IGatewayObserver.Deliver"/> as before.
    /// </summary>
    [Id(7)] public bool DeliveryInAnswer { get; init; }
}

/// <summary>When a connection last sent the auto-response request.</summary>
[GenerateSerializer, Immutable]
public readonly record struct ConnectionPing([property: Id(0)] string ConnectionId, [property: Id(1)] long UnixMilliseconds);

/// <summary>
/// The room's answer to an <see cref="InboundBatch"/>: the connections it does not know (closed in its eyes; the
/// gateway closes their clients), and what the batch's turn sent
/// to the calling gateway (numbered like every delivery), carried by the answer instead of a separate
/// <see cref="IGatewayObserver.Deliver"/> call.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ReceiveResult([property: Id(0)] string[]? Unknown = null, [property: Id(1)] RoomDelivery? Delivery = null)
{
    /// <summary>Every connection was known.</summary>
    public static ReceiveResult Ok { get; } = new();
}

/// <summary>Who receives an outbound message.</summary>
public enum TargetKind
{
    /// <summary>Every connection of the room.</summary>
    All = 0,

    /// <summary>Every connection of the room except the listed ids.</summary>
    AllExcept = 1,

    /// <summary>Only the listed ids.</summary>
    Only = 2,
}

/// <summary>What a room operation does on the gateway.</summary>
public enum RoomOpKind
{
    /// <summary>Send <see cref="RoomOp.Payload"/> to the targets.</summary>
    Send = 0,

    /// <summary>The room accepted connection <see cref="RoomOp.ConnectionId"/>: it is a member from here on.</summary>
    Join = 1,

    /// <summary>The room closed connection <see cref="RoomOp.ConnectionId"/> with a code and reason.</summary>
    Close = 2,

    // 3 was Attach (the gateway kept tags and state to restore connections); the room's durable membership replaced it.

    /// <summary>
    /// The room resumed connection <see cref="RoomOp.ConnectionId"/> on this gateway: it is a member from here on, and
    /// <see cref="RoomOp.Replay"/> holds the messages it missed (the room's Send ops, in order, with their numbers).
    /// </summary>
    Resume = 4,
}

/// <summary>One step of a room's output, applied by the gateway in order.</summary>
/// <param name="Kind">What the step does.</param>
/// <param name="Payload">For a send: the message.</param>
/// <param name="Target">For a send: who receives it.</param>
/// <param name="Ids">For a send: the ids <paramref name="Target"/> names.</param>
/// <param name="ConnectionId">For a join, resume or close: the connection.</param>
/// <param name="CloseCode">For a close: the code.</param>
/// <param name="CloseReason">For a close: the reason.</param>
/// <param name="Seq">
/// For a send: the room's sequence number of the message (one counter per room, +1 per message). For a join or a
/// resume: the room's number at that point (every later message has a larger one).
/// </param>
/// <param name="Replay">For a resume: the missed messages.</param>
/// <param name="ResumeWindowSeconds">For a join: how long the connection can be resumed after its socket ends.</param>
/// <param name="Redelivered">
/// For a send: a message a new activation of the room sends again, from what the gateways held. The gateway applies it
/// only when it has not applied that number yet (the room may not know what it applied: its tail did not come in time).
/// </param>
[GenerateSerializer, Immutable]
public sealed record RoomOp(
    [property: Id(0)] RoomOpKind Kind,
    [property: Id(1)] Payload? Payload = null,
    [property: Id(2)] TargetKind Target = TargetKind.All,
    [property: Id(3)] string[]? Ids = null,
    [property: Id(4)] string? ConnectionId = null,
    [property: Id(5)] int CloseCode = 0,
    [property: Id(6)] string? CloseReason = null,
    [property: Id(7)] long Seq = 0,
    [property: Id(8)] RoomOp[]? Replay = null,
    [property: Id(9)] int ResumeWindowSeconds = 0,
    [property: Id(10)] bool Redelivered = false)
{
    /// <summary>True when a send op is addressed to connection <paramref name="id"/> (by its target, not its membership).</summary>
    public bool Targets(string id) => Target switch
    {
        TargetKind.All => true,
        TargetKind.AllExcept => Array.IndexOf(Ids!, id) < 0,
        _ => Array.IndexOf(Ids!, id) >= 0,
    };
}

/// <summary>The room processed client message <paramref name="ClientId"/> of connection <paramref name="ConnectionId"/>.</summary>
/// <param name="ConnectionId">The connection.</param>
/// <param name="ClientId">The client id of its message (the connection's latest processed).</param>
/// <param name="Seq">The room's sequence number when the turn that processed it ended.</param>
[GenerateSerializer, Immutable]
public readonly record struct ClientAck([property: Id(0)] string ConnectionId, [property: Id(1)] long ClientId, [property: Id(2)] long Seq);

/// <summary>
/// What a gateway holds of one room's recent output, for a new activation of the room (after a crash, a move or
/// hibernation): it rebuilds its replay buffer from the gateways' and re-delivers to each gateway what another one had.
/// </summary>
[GenerateSerializer, Immutable]
public sealed class GatewayTail
{
    /// <summary>An empty tail: the gateway holds nothing of the room.</summary>
    public static GatewayTail Empty { get; } = new() { Sends = [], Acks = [] };

    /// <summary>The room's number of the latest message this gateway applied; 0 for none.</summary>
    [Id(0)] public long HighWater { get; init; }

    /// <summary>The recent messages this gateway applied (send ops with their numbers), oldest first.</summary>
    [Id(1)] public required RoomOp[] Sends { get; init; }

    /// <summary>The latest processed client id per connection that this gateway saw acknowledged.</summary>
    [Id(2)] public required ClientAck[] Acks { get; init; }

    /// <summary>
    /// The ids of the room's connections this gateway holds (joined), in place of a renewal batch after the fence: the
    /// room closes those it does not know. Null from a gateway that does not say (it renews instead).
    /// </summary>
    [Id(3)] public string[]? Members { get; init; }

    /// <summary>When each of those connections last sent the auto-response request, as a renewal batch carries it.</summary>
    [Id(4)] public ConnectionPing[]? Pings { get; init; }
}

/// <summary>
/// The output of one room turn for one gateway. Deliveries from one room activation to one gateway session are
/// numbered 1, 2, 3… within (<see cref="Session"/>, <see cref="Epoch"/>); the gateway applies them in that order
/// and never skips one.
/// </summary>
[GenerateSerializer, Immutable]
public sealed class RoomDelivery
{
    /// <summary>The room's grain id.</summary>
    [Id(0)] public required GrainId Room { get; init; }

    /// <summary>
    /// The room activation that numbered this delivery. Each activation of a room has a larger epoch than every earlier
    /// one (persisted before its first delivery), so a gateway drops a delivery from an older or duplicate activation.
    /// </summary>
    [Id(1)] public required long Epoch { get; init; }

    /// <summary>The delivery's number within <see cref="Epoch"/> for this gateway, starting at 1.</summary>
    [Id(2)] public required long Number { get; init; }

    /// <summary>The operations, in the room's order.</summary>
    [Id(3)] public required RoomOp[] Ops { get; init; }

    /// <summary>
    /// The gateway session the delivery is numbered for. A gateway starts a new session with a room each time it
    /// starts holding connections of that room again; the room restarts the numbering for it.
    /// </summary>
    [Id(4)] public required long Session { get; init; }

    /// <summary>
    /// Every client message the turn processed (on any gateway), applied after <see cref="Ops"/>: the gateway acknowledges
    /// its own connections' ones, and remembers all of them so that a new activation of the room knows what was processed.
    /// </summary>
    [Id(5)] public ClientAck[]? Acks { get; init; }
}
