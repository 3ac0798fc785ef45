namespace RoomActors.Contracts;

/// <summary>
/// The room as the gateway sees it: one grain per (room type, room name), the single authority for that room.
/// Its grain type is <c>room.{type}</c> (see <see cref="RoomGrainIds"/>) and its key is the room name.
/// </summary>
/// <remarks>
/// A gateway never calls one room concurrently for one connection: it sends the frames and closes of its local
/// connections in the order they happened, batched per room, awaiting each call before the next.
/// Every method interleaves as far as Orleans is concerned: the room orders its events itself, first come first served
/// through its turn gate, one turn at a time, and lets the next one in while a turn awaits another room (as Durable
/// Objects open their input gate while an object awaits another). Orleans' own queue would hold every event behind a
/// hook waiting for another room.
/// </remarks>
public interface IRoomGrain : IGrainWithStringKey
{
    /// <summary>
    /// Before the upgrade: may this client connect? Runs the room's before-connect hook; called only for room types
    /// that have one (see <see cref="RoomGrainIds.BeforeConnectProperty"/>).
    /// </summary>
    [AlwaysInterleave]
    Task<Admission> Admit(ConnectRequest request);

    /// <summary>
    /// Asks the room to accept a new connection. Runs the room's connect hook. Idempotent per connection id: asked
    /// again for a member (the first answer was lost), the room sends the join again and runs no hook.
    /// </summary>
    [AlwaysInterleave]
    Task<ConnectResult> Connect(ConnectRequest request);

    /// <summary>
    /// Resumes a connection on a new socket (<c>roomactors.v1</c>): checks the token's secret, moves the connection to the
    /// calling gateway and sends it a <see cref="RoomOpKind.Resume"/> with the messages it missed after
    /// <see cref="ResumeRequest.LastSeq"/>. Refused with 4403 (a token that is not the connection's) or 4410 (unknown
    /// connection, or the missed messages are gone: the client starts fresh). Runs the room's resume hook, not its
    /// connect or close hooks. Asked again for the same socket, it answers the same and sends nothing more.
    /// </summary>
    [AlwaysInterleave]
    Task<ConnectResult> Resume(ResumeRequest request);

    /// <summary>
    /// Hands the room a batch of inbound events (frames and closes) from the connections one gateway holds, in the
    /// order they happened on that gateway. Returns the connection ids the room does not know (their events were not
    /// processed): the room closed them in its eyes (or never had them), so the gateway closes their clients.
    /// </summary>
    [AlwaysInterleave]
    Task<ReceiveResult> Receive(InboundBatch batch);

    /// <summary>
    /// An HTTP request to the room (any method on <c>/rooms/{type}/{name}</c> without a WebSocket upgrade, or on
    /// <c>/rooms/{type}/{name}/{**path}</c>). Runs the room's request hook.
    /// </summary>
    [AlwaysInterleave]
    Task<RoomHttpResponse> Request(RoomHttpRequest request);

    /// <summary>
    /// A call from another room (a message or a request) or from the user directory. Runs in a turn of its own, like every
    /// event; like every event, it may start while the room's current turn awaits a request to another room (so two rooms
    /// requesting each other at once do not deadlock), never in the middle of anything else.
    /// </summary>
    [AlwaysInterleave]
    Task<RoomCallResult> Call(RoomCallEnvelope call);
}

/// <summary>
/// The delivery side of a gateway: the room calls it back with what its connections on that gateway must see.
/// One observer per gateway process.
/// </summary>
public interface IGatewayObserver : IGrainObserver
{
    /// <summary>
    /// Delivers one batch of a room's output to this gateway. One-way: a slow or dead gateway never blocks a room.
    /// Deliveries of one room to one gateway carry consecutive sequence numbers so the gateway can restore order.
    /// </summary>
    [OneWay]
    Task Deliver(RoomDelivery delivery);

    /// <summary>
    /// A new activation of <paramref name="room"/> (numbering in <paramref name="epoch"/>) asks what this gateway holds of
    /// its recent output. From the answer on, this gateway drops the room's deliveries from older activations, so the
    /// answer is final; the room re-delivers what other gateways had and this one lacks.
    /// </summary>
    Task<GatewayTail> Fence(GrainId room, long epoch);
}
