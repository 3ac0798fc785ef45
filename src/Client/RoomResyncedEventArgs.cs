namespace RoomActors.Client;

/// <summary>
/// The server could not resume the connection (<c>4403 resume refused</c> or <c>4410 resync</c>): messages may have been
/// missed. The socket connects fresh; the app re-reads the room's state.
/// </summary>
public sealed class RoomResyncedEventArgs : EventArgs
{
    internal RoomResyncedEventArgs(int code, string reason)
    {
        Code = code;
        Reason = reason;
    }

    /// <summary>The close code: 4403 (the token was refused) or 4410 (the connection cannot be resumed); 1006 when the
    /// server gave no token to resume with.</summary>
    public int Code { get; }

    /// <summary>The server's reason, e.g. <c>resync: unknown connection</c>.</summary>
    public string Reason { get; }
}
