namespace RoomActors.Client;

/// <summary>
/// The room's acknowledgement of a sent message: the turn that handled it has ended (after its state write, if any).
/// </summary>
/// <param name="Id">The message's client id: 1, 2, 3… per connection, kept across resumes.</param>
/// <param name="Seq">
/// The room's number when the turn ended: every message that turn sent to this client has a number at or below it and
/// was delivered before the acknowledgement.
/// </param>
public readonly record struct RoomAck(long Id, long Seq);
