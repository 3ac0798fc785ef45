namespace RoomActors.Client;

/// <summary>
/// A sent message's fate is unknown: the connection could not be resumed before the room acknowledged it, so the room
/// may or may not have processed it. Re-read the room's state (see <see cref="RoomSocket.Resynced"/>) before sending
/// it again.
/// </summary>
public sealed class RoomResyncException : Exception
{
    internal RoomResyncException(long id, int code, string reason)
        : base($"Message {id} may or may not have reached the room: the connection could not be resumed ({code} {reason}). "
            + "Re-read the room's state before sending it again.")
    {
        MessageId = id;
    }

    /// <summary>The message's client id on the connection that was lost.</summary>
    public long MessageId { get; }
}
