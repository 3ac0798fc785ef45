using System.Text;

namespace RoomActors.Gateway.Sockets;

/// <summary>
/// A frame on its way to clients, with its RFC 6455 encoding. A server's frames are not masked, so the bytes are the
/// same for every recipient: a broadcast is encoded once, however many sockets it goes to, and each socket's writer
/// copies finished frames instead of framing the payload again. A <c>roomactors.v1</c> frame carries a header line
/// before the payload (<c>m SEQ\n</c>); the payload bytes follow it unchanged.
/// </summary>
internal sealed class OutboundFrame
{
    private readonly byte[]? _header;
    private byte[]? _encoded;

    /// <summary>A raw frame: the payload as it is.</summary>
    public OutboundFrame(Payload payload) => Payload = payload;

    /// <summary>A frame whose payload follows an ASCII <paramref name="header"/> line (the frame keeps the payload's type).</summary>
    private OutboundFrame(Payload payload, byte[] header)
    {
        Payload = payload;
        _header = header;
    }

    /// <summary>A room message for a <c>roomactors.v1</c> client: <c>m SEQ\n</c> then the payload.</summary>
    public static OutboundFrame Enveloped(Payload payload, long seq) => new(payload, Encoding.ASCII.GetBytes($"m {seq}\n"));

    /// <summary>A control frame for a <c>roomactors.v1</c> client (text: <c>welcome …</c>, <c>resumed …</c>, <c>ack …</c>).</summary>
    public static OutboundFrame Control(string text) => new(new Payload(true, Encoding.UTF8.GetBytes(text)));

    public Payload Payload { get; }

    /// <summary>Payload bytes, header included (what the outbound queue limit counts).</summary>
    public int Length => (_header?.Length ?? 0) + Payload.Data.Length;

    /// <summary>The frame's payload as sent (header and payload), for a socket written without the finished encoding.</summary>
    public byte[] Body => _header is null ? Payload.Data : [.. _header, .. Payload.Data];

    /// <summary>Header and payload, computed on first use (racing writers compute the same bytes).</summary>
    public byte[] Encoded => _encoded ??= Encode();

    /// <summary>One unmasked, final frame (RFC 6455 §5.2): opcode, 7-, 16- or 64-bit length, payload.</summary>
    private byte[] Encode()
    {
        var prefix = _header ?? [];
        var payload = Payload.Data;
        var length = prefix.Length + payload.Length;
        Span<byte> head = stackalloc byte[FrameCodec.MaxServerHeader];
        var header = FrameCodec.WriteHeader(head, Payload.IsText ? FrameCodec.Text : FrameCodec.Binary, final: true, length);
        var bytes = new byte[header + length];
        head[..header].CopyTo(bytes);
        prefix.CopyTo(bytes.AsSpan(header));
        payload.CopyTo(bytes.AsSpan(header + prefix.Length));
        return bytes;
    }
}
