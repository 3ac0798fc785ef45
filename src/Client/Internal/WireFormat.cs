using System.Buffers.Text;
using System.Text;
using System.Text.Json;

namespace RoomActors.Client.Internal;

/// <summary>The kinds of server frame the client acts on; any other kind is <see cref="Unknown"/> and ignored.</summary>
internal enum FrameKind
{
    Unknown,
    Welcome,
    Resumed,
    Message,
    Ack,
}

/// <summary>
/// One parsed server frame: its kind, the numbers of its header line, and where the body starts (after the first LF,
/// or at the end of a frame without one).
/// </summary>
internal readonly record struct ServerFrame(FrameKind Kind, long Seq, long Id, int BodyStart);

/// <summary>The body of <c>welcome</c> or <c>resumed</c>: the connection id, and the token and window of a welcome.</summary>
internal sealed record Handshake(string ConnectionId, string? Token, long Replayed);

/// <summary>
/// The <c>roomactors.v1</c> frame grammar, without I/O: every frame starts with an ASCII header line (a kind and
/// space-separated fields, ended by LF or the end of the frame); the body follows unchanged.
/// </summary>
internal static class WireFormat
{
    /// <summary>The WebSocket subprotocol.</summary>
    public const string Subprotocol = "roomactors.v1";

    /// <summary>The largest client id or sequence number: 2^53−1, so that JavaScript peers read it exactly.</summary>
    public const long MaxNumber = (1L << 53) - 1;

    /// <summary>
    /// Parses a server frame. Returns false (with a reason) for a known kind whose fields break the grammar; a frame
    /// of an unknown kind parses as <see cref="FrameKind.Unknown"/>. Fields after the ones a kind needs are ignored,
    /// so that a server may add some later.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> frame, out ServerFrame parsed, out string? error)
    {
        var lf = frame.IndexOf((byte)'\n');
        var header = lf < 0 ? frame : frame[..lf];
        var bodyStart = lf < 0 ? frame.Length : lf + 1;
        Span<Range> fields = stackalloc Range[3];
        var count = SplitFields(header, fields);
        var kind = header[fields[0]] switch
        {
            var k when k.SequenceEqual("m"u8) => FrameKind.Message,
            var k when k.SequenceEqual("ack"u8) => FrameKind.Ack,
            var k when k.SequenceEqual("welcome"u8) => FrameKind.Welcome,
            var k when k.SequenceEqual("resumed"u8) => FrameKind.Resumed,
            _ => FrameKind.Unknown,
        };
        parsed = new ServerFrame(kind, 0, 0, bodyStart);
        error = null;
        switch (kind)
        {
            case FrameKind.Unknown:
                return true; // spec: clients ignore frames of a kind they do not know (e.g. the gateway's auto-response)
            case FrameKind.Ack when count >= 3 && TryNumber(header[fields[1]], out var id) && id > 0 && TryNumber(header[fields[2]], out var seq):
                parsed = parsed with { Id = id, Seq = seq };
                return true;
            case not FrameKind.Ack when count >= 2 && TryNumber(header[fields[1]], out var seq):
                parsed = parsed with { Seq = seq };
                return true;
            default:
                error = $"the server sent a {Describe(kind)} frame whose header \"{Printable(header)}\" does not follow roomactors.v1";
                return false;
        }
    }

    /// <summary>Reads the JSON body of <c>welcome</c> (<c>connection</c>, <c>token</c>) or <c>resumed</c> (<c>connection</c>, <c>replayed</c>).</summary>
    public static bool TryParseHandshake(ReadOnlySpan<byte> body, out Handshake? handshake)
    {
        handshake = null;
        try
        {
            var reader = new Utf8JsonReader(body);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("connection", out var connection))
            {
                return false;
            }

            var id = connection.ValueKind switch
            {
                JsonValueKind.String => connection.GetString(),
                JsonValueKind.Number => connection.GetRawText(),
                _ => null,
            };
            var token = root.TryGetProperty("token", out var t) && t.ValueKind == JsonValueKind.String && t.GetString() is { Length: > 0 } s ? s : null;
            var replayed = root.TryGetProperty("replayed", out var r) && r.TryGetInt64(out var k) && k >= 0 ? k : 0;
            handshake = id is null ? null : new Handshake(id, token, replayed);
            return handshake is not null;
        }
        catch (JsonException)
        {
            // Control flow: a body that is not JSON is reported by the caller as a protocol error.
            return false;
        }
    }

    /// <summary>The client frame <c>m ID\nPAYLOAD</c>: header and payload in one array, written as is (and again on resume).</summary>
    public static byte[] EncodeMessage(long id, ReadOnlySpan<byte> payload)
    {
        Span<byte> header = stackalloc byte[24];
        "m "u8.CopyTo(header);
        Utf8Formatter.TryFormat(id, header[2..], out var digits);
        header[2 + digits] = (byte)'\n';
        var frame = new byte[3 + digits + payload.Length];
        header[..(3 + digits)].CopyTo(frame);
        payload.CopyTo(frame.AsSpan(3 + digits));
        return frame;
    }

    /// <summary>Splits the header at spaces into up to <c>fields.Length</c> fields (further ones are ignored); returns how many.</summary>
    private static int SplitFields(ReadOnlySpan<byte> header, Span<Range> fields)
    {
        var count = 0;
        var start = 0;
        while (count < fields.Length)
        {
            var space = header[start..].IndexOf((byte)' ');
            var end = space < 0 ? header.Length : start + space;
            fields[count++] = start..end;
            if (space < 0)
            {
                break;
            }

            start = end + 1;
        }

        return count;
    }

    /// <summary>A number field: 1–16 decimal digits, at most 2^53−1 (no sign, no spaces).</summary>
    private static bool TryNumber(ReadOnlySpan<byte> field, out long value)
    {
        value = 0;
        if (field.Length is 0 or > 16)
        {
            return false;
        }

        foreach (var b in field)
        {
            if (b is < (byte)'0' or > (byte)'9')
            {
                return false;
            }

            value = value * 10 + (b - '0');
        }

        return value <= MaxNumber;
    }

    private static string Describe(FrameKind kind) => kind switch
    {
        FrameKind.Message => "m",
        FrameKind.Ack => "ack",
        FrameKind.Welcome => "welcome",
        _ => "resumed",
    };

    private static string Printable(ReadOnlySpan<byte> header)
    {
        var text = Encoding.ASCII.GetString(header[..Math.Min(header.Length, 64)]);
        return new string(text.Select(c => char.IsControl(c) ? '?' : c).ToArray()) + (header.Length > 64 ? "…" : "");
    }
}
