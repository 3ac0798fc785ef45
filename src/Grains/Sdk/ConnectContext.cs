using System.Collections.Specialized;
using System.Web;

namespace RoomActors;

/// <summary>What a room's connect hook knows about the new connection, and how it rejects it.</summary>
public class ConnectContext
{
    private NameValueCollection? _query;

    internal ConnectContext(ConnectRequest request) => Request = request;

    /// <summary>True once <see cref="Deny"/> was called (before-connect hook only).</summary>
    public bool IsDenied { get; private set; }

    internal int DenyStatus { get; private set; }

    /// <summary>
    /// In the before-connect hook: refuse the client with an HTTP status (401 or 403) and a reason before any socket
    /// is opened.
    /// </summary>
    public void Deny(int status = 403, string reason = "forbidden")
    {
        if (status is < 400 or > 499)
        {
            throw new ArgumentOutOfRangeException(nameof(status), status, "Deny with a 4xx status, usually 401 or 403.");
        }

        IsDenied = true;
        DenyStatus = status;
        RejectReason = reason ?? "";
    }

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
