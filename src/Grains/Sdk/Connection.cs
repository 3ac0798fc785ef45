using System.Text.Json;

namespace RoomActors;

/// <summary>
/// One client connected to a room: an id, tags chosen at connect, a small per-connection state, and
/// <see cref="Send(string)"/>/<see cref="Close"/>. Handles are owned by the room and valid while the connection is open.
/// </summary>
public sealed class Connection
{
    /// <summary>The most tags a connection may have (its id included).</summary>
    public const int MaxTags = 10;

    /// <summary>The longest tag, in characters.</summary>
    public const int MaxTagLength = 256;

    private readonly Room _room;
    private readonly List<string> _tags;
    private byte[]? _stateJson;

    internal Connection(Room room, string id, IGatewayObserver gateway)
    {
        _room = room;
        Id = id;
        Gateway = gateway;
        _tags = [id];
    }

    /// <summary>A connection a room takes back from its durable record (after hibernation, a move or a crash).</summary>
    internal Connection(Room room, ConnectionRecord record, IGatewayObserver gateway)
    {
        _room = room;
        Id = record.Id;
        Gateway = gateway;
        _tags = record.Tags.Length > 0 && record.Tags[0] == record.Id ? [.. record.Tags] : [record.Id, .. record.Tags];
        _stateJson = record.State;
        Session = record.Session;
        Joined = record.Joined;
        JoinedSeq = record.JoinedSeq;
        LastClientId = record.LastClientId;
        ResumeHash = record.ResumeHash;
        VerifiedUserId = record.UserId;
        UserId = record.User ?? record.UserId;
        Attachment = record.Attachment;
        DetachedAt = record.DetachedAt;
        DetachCode = record.DetachCode;
        DetachReason = record.DetachReason;
        TagsFrozen = true;
    }

    /// <summary>The connection id, unique in the cluster. Also the first of its <see cref="Tags"/>.</summary>
    public string Id { get; }

    /// <summary>The connection's tags: its id, then the tags the connect hook added.</summary>
    public IReadOnlyList<string> Tags => _tags;

    /// <summary>
    /// When the client last sent the gateway's auto-response request (<c>RoomActors:Gateway:AutoResponse</c>, e.g.
    /// <c>ping</c>), which the gateway answers without waking the room; null if never. Up to date as of the last
    /// message the room received from that client's gateway.
    /// </summary>
    public DateTimeOffset? LastPing { get; internal set; }

    /// <summary>False once the connection closed or the room closed it; sends to it are then ignored.</summary>
    public bool IsOpen { get; internal set; } = true;

    /// <summary>
    /// False while the room waits for the client to resume: its socket ended without the client leaving (a
    /// <c>roomactors.v1</c> client whose network dropped, or whose gateway went away). It is still a member: messages to it
    /// are kept and replayed when it resumes (<c>OnResumeAsync</c>); if it does not within
    /// <see cref="RoomOptions.ResumeWindow"/>, it closes (<c>OnCloseAsync</c>).
    /// </summary>
    public bool IsConnected => DetachedAt == 0;

    internal IGatewayObserver Gateway { get; set; }

    internal bool TagsFrozen { get; set; }

    /// <summary>The gateway session the connection joined (or resumed) in (kept so a restarted room numbers deliveries right).</summary>
    internal long Session { get; set; }

    /// <summary>When the room accepted the connection (UTC ticks).</summary>
    internal long Joined { get; init; }

    /// <summary>The room's sequence number at the join: messages numbered above it may be addressed to it.</summary>
    internal long JoinedSeq { get; set; }

    /// <summary>
    /// Its connect hook runs and the gateway has not been told it joined: other events' messages do not reach it yet. The
    /// join goes out when the hook first sends to it (or broadcasts), or when the hook ends and accepts it.
    /// </summary>
    internal bool JoinPending { get; set; }

    /// <summary>The answer to its connect, while the connect hook runs (a gateway that asks again waits for it).</summary>
    internal TaskCompletionSource<ConnectResult>? Connecting { get; set; }

    /// <summary>The close that came while its connect hook ran (its close hook runs once that hook is done).</summary>
    internal (int Code, string Reason)? ClosedWhileConnecting { get; set; }

    /// <summary>The latest client id processed (messages at or below it are not processed again).</summary>
    internal long LastClientId { get; set; }

    /// <summary>The client id advanced this turn and is not yet in the durable record.</summary>
    internal bool ClientIdUnsaved { get; set; }

    /// <summary>SHA-256 of the resume token's secret; null: the connection cannot resume.</summary>
    internal byte[]? ResumeHash { get; init; }

    /// <summary>The verified user of the client's ticket, or null (auth off).</summary>
    internal string? VerifiedUserId { get; init; }

    /// <summary>
    /// The connection's user: the verified user of the client's ticket, or the one the connect hook named with
    /// <see cref="SetUser"/>; null when neither. A connection with a user can be reached wherever it is
    /// (<c>Room.SendToUser</c>, <c>Room.CloseUser</c>, <c>Room.FindUserAsync</c>).
    /// </summary>
    public string? UserId { get; internal set; }

    /// <summary>True once the user directory was told of this connection (it is told again of its close).</summary>
    internal bool Registered { get; set; }

    /// <summary>The current socket (events naming another one are stale).</summary>
    internal long Attachment { get; set; }

    /// <summary>When the room began waiting for a resume (UTC ticks); 0 while connected.</summary>
    internal long DetachedAt { get; set; }

    internal int DetachCode { get; set; }

    internal string? DetachReason { get; set; }

    /// <summary>Tags or state changed this turn: its durable record is written at the end of the turn.</summary>
    internal bool Dirty { get; set; }

    internal ConnectionRecord Record() => new(Id, Gateway.GetGrainId().ToString(), [.. _tags], _stateJson, Session, Joined,
        JoinedSeq, LastClientId, ResumeHash, VerifiedUserId, Attachment, DetachedAt, DetachCode, DetachReason,
        UserId == VerifiedUserId ? null : UserId);

    /// <summary>True when send op <paramref name="op"/> is addressed to this connection (sent after it joined, to it).</summary>
    internal bool IsAddressedBy(RoomOp op) => op.Seq > JoinedSeq && op.Targets(Id);

    /// <summary>Sends a text message to this connection (at the end of the turn).</summary>
    public void Send(string text) => _room.SendTo(this, Payloads.Text(text));

    /// <summary>Sends a binary message to this connection (at the end of the turn). The bytes are copied.</summary>
    public void Send(ReadOnlySpan<byte> data) => _room.SendTo(this, Payloads.Binary(data));

    /// <summary>Sends a received message on unchanged (text stays text, binary stays binary), without copying it.</summary>
    public void Send(RoomMessage message) => _room.SendTo(this, message.Payload);

    /// <summary>
    /// Closes the connection with <paramref name="code"/> and <paramref name="reason"/>: it leaves the room at once
    /// and the room's close hook runs for it once, later in this turn.
    /// </summary>
    public void Close(int code = CloseCodes.Normal, string reason = "") => _room.CloseConnection(this, code, reason ?? "");

    /// <summary>Adds a tag (only inside the connect hook). Tags find connections: <c>GetConnections(tag)</c>.</summary>
    public void AddTag(string tag)
    {
        if (TagsFrozen)
        {
            throw new InvalidOperationException("Tags are set in the connect hook only; store changing data with SetState instead.");
        }

        ArgumentException.ThrowIfNullOrEmpty(tag);
        if (tag.Length > MaxTagLength)
        {
            throw new ArgumentException($"Tag of {tag.Length} characters exceeds the limit of {MaxTagLength}.", nameof(tag));
        }

        if (_tags.Contains(tag))
        {
            return;
        }

        if (_tags.Count >= MaxTags)
        {
            throw new ArgumentException($"A connection has at most {MaxTags} tags, its id included.", nameof(tag));
        }

        _tags.Add(tag);
        _room.MarkDirty(this);
    }

    /// <summary>
    /// Names the connection's user (only inside the connect hook), so that rooms can reach it wherever it is
    /// (<c>Room.SendToUser</c>). For a client with a verified ticket the user is the ticket's and cannot change; without
    /// auth (development) the room decides, e.g. from a name in the query string.
    /// </summary>
    /// <param name="userId">The user id (1–256 characters).</param>
    public void SetUser(string userId)
    {
        if (TagsFrozen)
        {
            throw new InvalidOperationException("The user is named in the connect hook only.");
        }

        ArgumentException.ThrowIfNullOrEmpty(userId);
        if (userId.Length > MaxTagLength)
        {
            throw new ArgumentException($"A user id of {userId.Length} characters exceeds the limit of {MaxTagLength}.", nameof(userId));
        }

        if (VerifiedUserId is not null && VerifiedUserId != userId)
        {
            throw new InvalidOperationException(
                $"This client's ticket names user '{VerifiedUserId}'; a room cannot change a verified user (leave SetUser out when auth is on).");
        }

        UserId = userId;
    }

    /// <summary>True when the connection carries <paramref name="tag"/>.</summary>
    public bool HasTag(string tag) => _tags.Contains(tag);

    /// <summary>
    /// Replaces the connection's state: a small object serialized as JSON (at once: later changes to
    /// <paramref name="state"/> are not seen), at most <see cref="RoomOptions.MaxConnectionStateBytes"/> bytes. Read it
    /// back with <see cref="GetState{T}"/>. Durable at the end of the turn.
    /// </summary>
    public void SetState<T>(T state)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(state, _room.JsonOptions);
        var limit = RoomOptions.MaxConnectionStateBytes;
        if (json.Length > limit)
        {
            throw new ArgumentException(
                $"Connection state of {json.Length} bytes exceeds the limit of {limit} bytes; keep large data in the room's state instead.",
                nameof(state));
        }

        _stateJson = json;
        _room.MarkDirty(this);
    }

    /// <summary>
    /// A copy of the state last set with <see cref="SetState{T}"/> (read from its JSON), or default when none was set.
    /// Changing the copy changes nothing: pass the changed object to <see cref="SetState{T}"/> to keep it (durable at
    /// the end of the turn, and through hibernation).
    /// </summary>
    public T? GetState<T>() => _stateJson is null ? default : JsonSerializer.Deserialize<T>(_stateJson, _room.JsonOptions);

    /// <inheritdoc />
    public override string ToString() => Id;
}
