using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Unicode;

namespace RoomActors.Gateway.Sockets;

/// <summary>
/// The byte-level pieces of RFC 6455 the gateway's own framing shares: a frame header, the client mask, and the close
/// codes a peer may send. Pure functions: bytes in, bytes out, no I/O.
/// </summary>
internal static class FrameCodec
{
    /// <summary>The longest frame header a server writes (no mask): 2 bytes, plus 8 for a 64-bit length.</summary>
    public const int MaxServerHeader = 10;

    /// <summary>Opcodes (RFC 6455 §5.2).</summary>
    public const int Continuation = 0x0, Text = 0x1, Binary = 0x2, Close = 0x8, Ping = 0x9, Pong = 0xA;

    /// <summary>Writes an unmasked frame header for a payload of <paramref name="length"/> bytes; returns its length.</summary>
    public static int WriteHeader(Span<byte> destination, int opcode, bool final, long length)
    {
        destination[0] = (byte)((final ? 0x80 : 0) | opcode);
        if (length < 126)
        {
            destination[1] = (byte)length;
            return 2;
        }

        if (length <= ushort.MaxValue)
        {
            destination[1] = 126;
            BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)length);
            return 4;
        }

        destination[1] = 127;
        BinaryPrimitives.WriteUInt64BigEndian(destination[2..], (ulong)length);
        return 10;
    }

    /// <summary>
    /// Unmasks (or masks) <paramref name="data"/> in place with the 4-byte <paramref name="mask"/> (as read little-endian
    /// from the frame), starting at mask byte <paramref name="offset"/>; returns the offset for the frame's next bytes.
    /// </summary>
    public static int ApplyMask(Span<byte> data, uint mask, int offset)
    {
        var rotated = BitOperations.RotateRight(mask, offset * 8); // byte 0 of the data takes mask byte `offset`
        var i = 0;
        if (BitConverter.IsLittleEndian && data.Length >= 8)
        {
            var mask64 = rotated | ((ulong)rotated << 32);
            if (Vector.IsHardwareAccelerated && data.Length >= Vector<byte>.Count)
            {
                var vectorMask = Vector.AsVectorByte(new Vector<ulong>(mask64));
                var vectors = MemoryMarshal.Cast<byte, Vector<byte>>(data);
                for (var v = 0; v < vectors.Length; v++)
                {
                    vectors[v] ^= vectorMask;
                }

                i = vectors.Length * Vector<byte>.Count; // a multiple of 4: the mask stays aligned
            }

            var words = MemoryMarshal.Cast<byte, ulong>(data[i..]);
            for (var w = 0; w < words.Length; w++)
            {
                words[w] ^= mask64;
            }

            i += words.Length * 8;
        }

        for (; i < data.Length; i++)
        {
            data[i] ^= (byte)(rotated >> (8 * (i & 3)));
        }

        return (offset + data.Length) & 3;
    }

    /// <summary>
    /// True for a close code a peer may send (RFC 6455 §7.4): 1000–1003, 1007–1014, and 3000–4999 for libraries and
    /// applications. 1004–1006 and 1015 are reserved, and the rest below 3000 is unassigned.
    /// </summary>
    public static bool IsValidCloseCode(int code) => code is (>= 1000 and <= 1003) or (>= 1007 and <= 1014) or (>= 3000 and <= 4999);

    /// <summary>A close frame's payload: the code (big-endian) and the reason in UTF-8, cut to 123 bytes; empty for 1005.</summary>
    public static byte[] ClosePayload(int code, string? reason)
    {
        if (code == (int)System.Net.WebSockets.WebSocketCloseStatus.Empty)
        {
            return [];
        }

        var text = CloseState.Truncate(reason ?? "");
        var payload = new byte[2 + Encoding.UTF8.GetByteCount(text)];
        BinaryPrimitives.WriteUInt16BigEndian(payload, (ushort)code);
        Encoding.UTF8.GetBytes(text, payload.AsSpan(2));
        return payload;
    }
}

/// <summary>
/// Checks a text message's UTF-8 as its pieces arrive (RFC 6455 §8.1: a text message must be valid UTF-8 as a whole,
/// and a character may be split across frames or reads). Keeps at most 3 bytes of a character cut at a piece's end.
/// </summary>
internal struct Utf8Validation
{
    private uint _carry;     // the bytes of a character begun in an earlier piece, first byte lowest
    private int _carryLength;

    /// <summary>Takes the next piece; false once the text is not valid UTF-8 (or, with <paramref name="final"/>, ends inside a character).</summary>
    public bool Append(ReadOnlySpan<byte> data, bool final)
    {
        if (_carryLength > 0)
        {
            // Finish the character begun before with the first bytes of this piece.
            Span<byte> character = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(character, _carry);
            var take = Math.Min(4 - _carryLength, data.Length);
            data[..take].CopyTo(character[_carryLength..]);
            switch (System.Text.Rune.DecodeFromUtf8(character[..(_carryLength + take)], out _, out var consumed))
            {
                case System.Buffers.OperationStatus.Done:
                    data = data[(consumed - _carryLength)..];
                    _carry = 0;
                    _carryLength = 0;
                    break;
                case System.Buffers.OperationStatus.NeedMoreData:
                    _carry = BinaryPrimitives.ReadUInt32LittleEndian(character);
                    _carryLength += take; // take was all of the piece: a character has at most 4 bytes
                    return !final;
                default:
                    return false;
            }
        }

        var tail = IncompleteTail(data);
        if (!Utf8.IsValid(data[..^tail]))
        {
            return false;
        }

        if (tail == 0)
        {
            return true;
        }

        if (final || System.Text.Rune.DecodeFromUtf8(data[^tail..], out _, out _) != System.Buffers.OperationStatus.NeedMoreData)
        {
            return false; // ends inside a character, or the cut character is already wrong
        }

        Span<byte> carried = stackalloc byte[4];
        carried.Clear();
        data[^tail..].CopyTo(carried);
        _carry = BinaryPrimitives.ReadUInt32LittleEndian(carried);
        _carryLength = tail;
        return true;
    }

    /// <summary>How many bytes at the end of <paramref name="data"/> begin a character that needs more bytes (0–3).</summary>
    private static int IncompleteTail(ReadOnlySpan<byte> data)
    {
        for (var back = 1; back <= Math.Min(3, data.Length); back++)
        {
            var b = data[^back];
            if ((b & 0xC0) == 0x80)
            {
                continue; // a continuation byte: look further back for its lead
            }

            if (b < 0x80)
            {
                return 0; // ASCII: nothing is cut
            }

            var needed = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
            return needed > back ? back : 0;
        }

        return 0; // three continuation bytes: whole, or invalid, which the full check finds
    }
}
