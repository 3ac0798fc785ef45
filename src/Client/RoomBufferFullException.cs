namespace RoomActors.Client;

/// <summary>
/// A send was refused because <see cref="RoomSocketOptions.MaxBufferedMessages"/> messages are already held (sent but
/// not acknowledged, or waiting for a connection). The message was not sent.
/// </summary>
public sealed class RoomBufferFullException : Exception
{
    internal RoomBufferFullException(int limit)
        : base($"Send buffer full: {limit} messages wait to be sent or acknowledged (RoomSocketOptions.MaxBufferedMessages). "
            + "Await earlier sends before sending more, or raise MaxBufferedMessages.")
    {
        Limit = limit;
    }

    /// <summary>The limit that was reached.</summary>
    public int Limit { get; }
}
