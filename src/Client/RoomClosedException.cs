namespace RoomActors.Client;

/// <summary>
/// The socket is closed for good: by the app (<see cref="RoomSocket.CloseAsync"/>, disposal), by a final close from the
/// server (the room closed the connection, a policy close, the connection was resumed on another socket), or because
/// the server refused the connection. A closed socket does not reconnect: create a new <see cref="RoomSocket"/>.
/// </summary>
public sealed class RoomClosedException : Exception
{
    internal RoomClosedException(string message, int? closeCode = null, string? reason = null, int? httpStatusCode = null, Exception? inner = null)
        : base(message, inner)
    {
        CloseCode = closeCode;
        Reason = reason;
        HttpStatusCode = httpStatusCode;
    }

    /// <summary>The WebSocket close code, when the socket ended with one.</summary>
    public int? CloseCode { get; }

    /// <summary>The close reason, when the socket ended with one.</summary>
    public string? Reason { get; }

    /// <summary>The HTTP status of a refused connect (401, 403, 404…), when the server refused the upgrade.</summary>
    public int? HttpStatusCode { get; }
}
