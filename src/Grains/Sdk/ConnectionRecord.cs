namespace RoomActors;

/// <summary>A connection as the room stores it, so that it survives the room leaving memory.</summary>
/// <param name="Id">The connection id.</param>
/// <param name="Gateway">The gateway's grain id (its observer).</param>
/// <param name="Tags">The tags, the id first.</param>
/// <param name="State">The per-connection state as JSON, or null.</param>
/// <param name="Session">The gateway session it joined in.</param>
/// <param name="Joined">When it joined (UTC ticks).</param>
internal sealed record ConnectionRecord(string Id, string Gateway, string[] Tags, byte[]? State, long Session, long Joined);
