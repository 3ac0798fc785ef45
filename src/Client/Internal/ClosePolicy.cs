namespace RoomActors.Client.Internal;

/// <summary>What the socket does after the server ended a connection.</summary>
internal enum CloseAction
{
    /// <summary>Reconnect with the resume token: the connection lives on in the room.</summary>
    Resume,

    /// <summary>The connection cannot be resumed: forget it, fail the unacknowledged sends, connect fresh.</summary>
    Resync,

    /// <summary>Do not reconnect: the connection is over.</summary>
    Final,
}

/// <summary>
/// The spec's close codes as the client reads them. Final: 4409 (resumed on another socket), the policy closes
/// 1002/1003/1007/1008/1009/1010, and the room's own close (1000, 3000–4999 but the gateway's 4401). Resync: 4403 and
/// 4410. Everything else — 4401 ticket expired (reconnect with a new ticket), 1001 going away, 1006 dropped (no close
/// frame), 1011–1014 — resumes. The same table as the JavaScript client's
/// <c>closePolicy</c>.
/// </summary>
internal static class ClosePolicy
{
    /// <summary>The connection's ticket expired: resume with a new one.</summary>
    public const int TicketExpired = 4401;

    /// <summary>The token is not this connection's (malformed, wrong secret, another user).</summary>
    public const int ResumeRefused = 4403;

    /// <summary>This socket's connection was resumed on another socket.</summary>
    public const int ResumedElsewhere = 4409;

    /// <summary>The connection cannot be resumed (unknown, expired, or its missed messages are gone).</summary>
    public const int Resync = 4410;

    /// <summary>The code this client closes with when the server breaks the protocol: an application code, so the
    /// server forgets the connection at once (a client's 1000 or 4000–4999 means it left).</summary>
    public const int ClientProtocolError = 4002;

    /// <param name="code">The close code, or null when the socket ended without a close frame (1006).</param>
    public static CloseAction Of(int? code) => code switch
    {
        ResumeRefused or Resync => CloseAction.Resync,
        TicketExpired => CloseAction.Resume,
        1000 or 1002 or 1003 or 1007 or 1008 or 1009 or 1010 or (>= 3000 and <= 4999) => CloseAction.Final,
        _ => CloseAction.Resume,
    };
}
