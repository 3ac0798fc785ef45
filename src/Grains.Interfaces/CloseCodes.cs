namespace RoomActors;

/// <summary>WebSocket close codes the platform uses (RFC 6455 §7.4).</summary>
public static class CloseCodes
{
    /// <summary>Normal closure.</summary>
    public const int Normal = 1000;

    /// <summary>The server is going away (shutdown).</summary>
    public const int GoingAway = 1001;

    /// <summary>Protocol error: a <c>roomactors.v1</c> client frame that does not follow the wire spec.</summary>
    public const int ProtocolError = 1002;

    /// <summary>Abnormal closure: the connection dropped without a close frame. Reported to rooms, never sent.</summary>
    public const int Abnormal = 1006;

    /// <summary>Policy violation, e.g. a client that does not read its messages.</summary>
    public const int PolicyViolation = 1008;

    /// <summary>A message exceeded the size limit.</summary>
    public const int MessageTooBig = 1009;

    /// <summary>The server hit an unexpected condition.</summary>
    public const int InternalError = 1011;

    /// <summary>The service is restarting; reconnect.</summary>
    public const int ServiceRestart = 1012;

    /// <summary>Try again later (overload).</summary>
    public const int TryAgainLater = 1013;

    /// <summary>
    /// The connection's ticket expired (<c>exp</c> + <c>RoomActors:Auth:ClockSkew</c>): the client gets a new ticket and
    /// resumes. Sent by the gateway.
    /// </summary>
    public const int TicketExpired = 4401;

    /// <summary>A resume token that is not this connection's (malformed, wrong secret, another user): start fresh.</summary>
    public const int ResumeRefused = 4403;

    /// <summary>This socket's connection was resumed on another socket.</summary>
    public const int ResumedElsewhere = 4409;

    /// <summary>
    /// The connection cannot be resumed: unknown here (expired, closed, another room's) or the messages it missed are no
    /// longer available. The client starts fresh and re-reads the room's state.
    /// </summary>
    public const int Resync = 4410;

    /// <summary>True for a code a server may put in a close frame: 1000–1003, 1007–1014 or 3000–4999.</summary>
    public static bool IsSendable(int code) =>
        code is >= 1000 and <= 1003 or >= 1007 and <= 1014 or >= 3000 and <= 4999;

    /// <summary>Throws when <paramref name="code"/> may not be sent in a close frame.</summary>
    public static void ThrowIfNotSendable(int code)
    {
        if (!IsSendable(code))
        {
            throw new ArgumentOutOfRangeException(nameof(code), code,
                "Close code cannot be sent: use 1000-1003, 1007-1014, or an application code 4000-4999 (1005, 1006 and 1015 are reserved).");
        }
    }
}
