namespace RoomActors.Client;

/// <summary>Where a <see cref="RoomSocket"/> is in its life.</summary>
public enum RoomSocketState
{
    /// <summary>Constructed; <see cref="RoomSocket.ConnectAsync"/> has not been called. Sends wait in the buffer.</summary>
    Created,

    /// <summary>Connecting for the first time. Sends wait in the buffer.</summary>
    Connecting,

    /// <summary>Connected: <c>welcome</c> or <c>resumed</c> received; sends are written at once.</summary>
    Open,

    /// <summary>The socket dropped; reconnecting (resuming, or fresh after a resync). Sends wait in the buffer.</summary>
    Reconnecting,

    /// <summary>Closed for good: by <see cref="RoomSocket.CloseAsync"/>, disposal, or a final close from the server.</summary>
    Closed,
}
