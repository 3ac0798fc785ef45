using System.Buffers.Text;
using System.Security.Cryptography;

namespace RoomActors.Gateway.Sockets;

/// <summary>
/// The <c>roomactors.v1</c> subprotocol (see the README's wire spec): every frame starts with an ASCII header line, a
/// kind and space-separated fields, ended by LF or the end of the frame; a message's payload follows unchanged.
/// </summary>
internal static class WireV1
{
    /// <summary>The subprotocol name a client offers in <c>Sec-WebSocket-Protocol</c>.</summary>
    public const string Subprotocol = "roomactors.v1";

    /// <summary>The most digits a client id may have (2^53 − 1 has 16).</summary>
    private const int MaxIdDigits = 16;

    /// <summary>
    /// Reads a client frame: <c>m\nPAYLOAD</c>, or <c>m ID\nPAYLOAD</c> with a positive id (at most 2^53 − 1). The
    /// payload is copied out; 0 means no id. False for anything else.
    /// </summary>
    public static bool TryParseClientFrame(Payload frame, out Payload payload, out long clientId)
    {
        payload = frame;
        clientId = 0;
        var data = frame.Data.AsSpan();
        var end = data.IndexOf((byte)'\n');
        var header = end < 0 ? data : data[..end];
        if (header.Length == 0 || header[0] != (byte)'m')
        {
            return false;
        }

        if (header.Length > 1)
        {
            var id = header[1..];
            if (id.Length < 2 || id[0] != (byte)' ' || id.Length - 1 > MaxIdDigits
                || !Utf8Parser.TryParse(id[1..], out clientId, out var used) || used != id.Length - 1
                || clientId <= 0 || clientId > (1L << 53) - 1)
            {
                clientId = 0;
                return false;
            }
        }

        payload = new Payload(frame.IsText, end < 0 ? [] : data[(end + 1)..].ToArray());
        return true;
    }

    public static OutboundFrame Welcome(string connectionId, string secret, long seq, int resumeWindowSeconds) =>
        OutboundFrame.Control($"welcome {seq}\n{{\"connection\":\"{connectionId}\",\"token\":\"{connectionId}.{secret}\",\"resumeWindowSeconds\":{resumeWindowSeconds}}}");

    public static OutboundFrame Resumed(string connectionId, long seq, int replayed) =>
        OutboundFrame.Control($"resumed {seq}\n{{\"connection\":\"{connectionId}\",\"replayed\":{replayed}}}");

    public static OutboundFrame Ack(long clientId, long seq) => OutboundFrame.Control($"ack {clientId} {seq}");

    /// <summary>A new resume secret: 16 random bytes, base64url.</summary>
    public static string NewSecret() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16));

    /// <summary>A new socket's number (see <c>ConnectRequest.Attachment</c>): random, never 0.</summary>
    public static long NewAttachment() => Random.Shared.NextInt64(1, long.MaxValue);

    /// <summary>
    /// Reads <c>resume=TOKEN&amp;seq=N</c> from the upgrade's query. Null when there is no <c>resume</c>; otherwise the
    /// token's connection id and secret and the seq, or an error saying what is wrong.
    /// </summary>
    public static ResumeTicket? ReadResume(Microsoft.AspNetCore.Http.IQueryCollection query)
    {
        if (!query.TryGetValue("resume", out var tokens))
        {
            return null;
        }

        var token = tokens.ToString();
        var dot = token.IndexOf('.');
        if (dot <= 0 || dot > 64 || token.Length - dot - 1 is < 1 or > 64 || !IsTokenText(token))
        {
            return new ResumeTicket("", "", 0, "resume refused: malformed token (expected the token from the welcome frame)");
        }

        if (!long.TryParse(query["seq"].ToString(), System.Globalization.NumberStyles.None, null, out var seq))
        {
            return new ResumeTicket("", "", 0, "resume refused: seq must be the last room sequence number the client saw (a number >= 0)");
        }

        return new ResumeTicket(token[..dot], token[(dot + 1)..], seq, null);
    }

    /// <summary>
    /// True when a <c>roomactors.v1</c> client whose socket ended this way may still resume its connection: not when it
    /// left (it closed with 1000 or 4000–4999) or the gateway closed it for a policy (1002, 1008, 1009).
    /// </summary>
    public static bool MayResume(int code, bool closedByServer) => closedByServer
        ? code is CloseCodes.GoingAway or CloseCodes.ServiceRestart or CloseCodes.InternalError or CloseCodes.TicketExpired
        : code is not (CloseCodes.Normal or >= 4000 and <= 4999);

    private static bool IsTokenText(string token)
    {
        foreach (var c in token)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>A resume request read from the query: the token's parts and the client's last seen number, or an error.</summary>
internal sealed record ResumeTicket(string ConnectionId, string Secret, long Seq, string? Error);
