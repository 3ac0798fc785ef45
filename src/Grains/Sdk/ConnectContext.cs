using System.Collections.Specialized;
using System.Web;

namespace RoomActors;

/// <summary>What a room knows about a client that asks to connect: its query string, headers and verified identity.</summary>
public abstract class ClientContext
{
    private NameValueCollection? _query;

    private protected ClientContext(ConnectRequest request) => Request = request;

    internal ConnectRequest Request { get; }

    /// <summary>The raw query string of the upgrade request (with the leading <c>?</c>), or empty.</summary>
    public string QueryString => Request.QueryString;

    /// <summary>The parsed query string: <c>context.Query["name"]</c>.</summary>
    public NameValueCollection Query => _query ??= HttpUtility.ParseQueryString(Request.QueryString);

    /// <summary>The request headers the gateway forwards (see the gateway options), keyed by lower-case name.</summary>
    public IReadOnlyDictionary<string, string> Headers => Request.Headers;

    /// <summary>The verified user id from the client's ticket, or null when auth is off.</summary>
    public string? UserId => Request.UserId;

    /// <summary>The verified ticket's claims (type → value), or empty when auth is off.</summary>
    public IReadOnlyDictionary<string, string> Claims => Request.Claims;
}

/// <summary>
/// The before-connect hook's view of a client, before the WebSocket upgrade: refuse it with an HTTP status through
/// <see cref="Deny"/>. No socket exists yet.
/// </summary>
public sealed class BeforeConnectContext : ClientContext
{
    internal BeforeConnectContext(ConnectRequest request)
        : base(request)
    {
    }

    /// <summary>True once <see cref="Deny"/> was called.</summary>
    public bool IsDenied { get; private set; }

    internal int DenyStatus { get; private set; }

    internal string DenyReason { get; private set; } = "";

    /// <summary>Refuses the client with an HTTP status (401 or 403 usually) and a reason, before any socket opens.</summary>
    /// <param name="status">A 4xx status.</param>
    /// <param name="reason">Why, for the client (in the problem+json body).</param>
    public void Deny(int status = 403, string reason = "forbidden")
    {
        if (status is < 400 or > 499)
        {
            throw new ArgumentOutOfRangeException(nameof(status), status, "Deny with a 4xx status, usually 401 or 403.");
        }

        IsDenied = true;
        DenyStatus = status;
        DenyReason = reason ?? "";
    }
}

/// <summary>The connect hook's view of a new connection, and how it rejects it (<see cref="Reject"/>).</summary>
public sealed class ConnectContext : ClientContext
{
    internal ConnectContext(ConnectRequest request)
        : base(request)
    {
    }

    /// <summary>True once <see cref="Reject"/> was called.</summary>
    public bool IsRejected { get; private set; }

    internal int RejectCode { get; private set; }

    internal string RejectReason { get; private set; } = "";

    /// <summary>
    /// Refuses the connection: the client's socket is closed with <paramref name="code"/> and <paramref name="reason"/>
    /// right after the upgrade, and the room's close hook does not run for it.
    /// </summary>
    /// <param name="code">An application close code (4000–4999) or a policy code such as 1008.</param>
    /// <param name="reason">A short reason (at most 123 UTF-8 bytes reach the client).</param>
    public void Reject(int code = 1008, string reason = "rejected")
    {
        CloseCodes.ThrowIfNotSendable(code);
        IsRejected = true;
        RejectCode = code;
        RejectReason = reason ?? "";
    }
}
