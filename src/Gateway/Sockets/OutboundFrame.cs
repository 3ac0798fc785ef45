using System.Buffers.Binary;

namespace RoomActors.Gateway.Sockets;

/// <summary>
/// A frame on its way to clients, with its RFC 6455 encoding. A server's frames are not masked, so the bytes are the
/// same for every recipient: a broadcast is encoded once, however many sockets it goes to, and each socket's writer
/// copies finished frames instead of framing the payload again.
/// </summary>
internal sealed class OutboundFrame(Payload frame)
{
    private byte[]? _encoded;

    public Payload Payload { get; } = frame;

    /// <summary>Payload bytes (what the outbound queue limit counts).</summary>
    public int Length => Payload.Data.Length;

    /// <summary>Header and payload, computed on first use (racing writers compute the same bytes).</summary>
    public byte[] Encoded => _encoded ??= Encode(Payload);

    /// <summary>One unmasked, final frame (RFC 6455 §5.2): opcode, 7-, 16- or 64-bit length, payload.</summary>
    private static byte[] Encode(Payload frame)
    {
        var payload = frame.Data;
        var header = payload.Length < 126 ? 2 : payload.Length <= ushort.MaxValue ? 4 : 10;
        var bytes = new byte[header + payload.Length];
        bytes[0] = (byte)(0x80 | (frame.IsText ? 0x1 : 0x2)); // FIN + text or binary
        switch (header)
        {
            case 2:
                bytes[1] = (byte)payload.Length;
                break;
            case 4:
                bytes[1] = 126;
                BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(2), (ushort)payload.Length);
                break;
            default:
                bytes[1] = 127;
                BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(2), (ulong)payload.Length);
                break;
        }

        payload.CopyTo(bytes.AsSpan(header));
        return bytes;
    }
}
