namespace RoomActors;

/// <summary>A connection as the room stores it, so that it survives the room leaving memory.</summary>
/// <param name="Id">The connection id.</param>
/// <param name="Gateway">The gateway's grain id (its observer).</param>
/// <param name="Tags">The tags, the id first.</param>
/// <param name="State">The per-connection state as JSON, or null.</param>
/// <param name="Session">The gateway session it joined (or resumed) in.</param>
/// <param name="Joined">When it joined (UTC ticks).</param>
/// <param name="JoinedSeq">The room's sequence number at its join: messages numbered above it may be addressed to it.</param>
/// <param name="LastClientId">The latest client id the room processed for it (written with the state it changed).</param>
/// <param name="ResumeHash">SHA-256 of its resume token's secret; null when it cannot resume.</param>
/// <param name="UserId">The verified user of its ticket, or null.</param>
/// <param name="Attachment">Its current socket.</param>
/// <param name="DetachedAt">When its socket ended and the room began waiting for it to resume (UTC ticks); 0 while connected.</param>
/// <param name="DetachCode">The close code its socket ended with (for the close hook if it never resumes).</param>
/// <param name="DetachReason">The close reason its socket ended with.</param>
/// <param name="User">Its user (the verified one, or the one the connect hook named), or null.</param>
internal sealed record ConnectionRecord(
    string Id,
    string Gateway,
    string[] Tags,
    byte[]? State,
    long Session,
    long Joined,
    long JoinedSeq = 0,
    long LastClientId = 0,
    byte[]? ResumeHash = null,
    string? UserId = null,
    long Attachment = 0,
    long DetachedAt = 0,
    int DetachCode = 0,
    string? DetachReason = null,
    string? User = null);
