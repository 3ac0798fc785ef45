using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace RoomActors.Documents;

/// <summary>
/// Reads lib0's binary encoding (the encoding of Yjs and y-protocols) strictly: every read checks what is left, and a
/// truncated or malformed input throws <see cref="FormatException"/> naming what was read and at which byte.
/// </summary>
internal ref struct Lib0Reader(ReadOnlySpan<byte> data)
{
    /// <summary>The largest number lib0 encodes (JavaScript's <c>Number.MAX_SAFE_INTEGER</c>).</summary>
    public const long MaxSafeInteger = (1L << 53) - 1;

    /// <summary>
    /// How deeply <see cref="SkipAny"/> follows nested arrays and objects, and JSON values may nest. Yjs has no limit of
    /// its own (a map value 100 levels deep is a valid document), so this is far above what documents hold and only
    /// stops input that would exhaust the stack.
    /// </summary>
    private const int MaxAnyDepth = 1000;

    private static readonly JsonReaderOptions JsonOptions = new() { MaxDepth = MaxAnyDepth, CommentHandling = JsonCommentHandling.Disallow };

    private readonly ReadOnlySpan<byte> _data = data;

    public int Position { get; private set; }

    public readonly int Remaining => _data.Length - Position;

    public readonly bool AtEnd => Position == _data.Length;

    public byte ReadByte(string what)
    {
        if (Position >= _data.Length)
        {
            throw new FormatException($"the data ends where its {what} should be (byte {Position})");
        }

        return _data[Position++];
    }

    public long ReadUInt(string what)
    {
        var at = Position;
        long value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = ReadByte(what);
            if (shift > 49)
            {
                throw new FormatException($"the {what} at byte {at} is larger than 2^53 - 1");
            }

            value |= (long)(b & 0x7f) << shift;
            if (value > MaxSafeInteger)
            {
                throw new FormatException($"the {what} at byte {at} is larger than 2^53 - 1");
            }

            if ((b & 0x80) == 0)
            {
                return value;
            }
        }
    }

    /// <summary>A count of things that each take at least one byte: never more than the bytes left.</summary>
    public long ReadCount(string what)
    {
        var at = Position;
        var count = ReadUInt(what);
        if (count > Remaining)
        {
            throw new FormatException($"the {what} at byte {at} is {count}, more than the {Remaining} bytes left");
        }

        return count;
    }

    public ReadOnlySpan<byte> ReadBytes(string what)
    {
        var at = Position;
        var length = ReadUInt(what + " length");
        if (length > Remaining)
        {
            throw new FormatException($"the {what} at byte {at} is {length} bytes long, but only {Remaining} are left: the data is truncated");
        }

        var bytes = _data.Slice(Position, (int)length);
        Position += (int)length;
        return bytes;
    }

    /// <summary>
    /// A string's UTF-8 bytes (lib0's varString), not decoded but checked: lib0 decodes with a fatal TextDecoder, so
    /// Yjs throws on invalid UTF-8 (an update holding some would fail every client that applies it).
    /// </summary>
    public ReadOnlySpan<byte> ReadStringBytes(string what)
    {
        var at = Position;
        var bytes = ReadBytes(what);
        if (!Utf8.IsValid(bytes))
        {
            throw new FormatException($"the {what} at byte {at} is not valid UTF-8 (Yjs's decoder would throw on it)");
        }

        return bytes;
    }

    public string ReadString(string what) => Encoding.UTF8.GetString(ReadStringBytes(what));

    /// <summary>
    /// A varString holding JSON, checked as Yjs's <c>JSON.parse</c> would (an update whose JSON doesn't parse throws in
    /// every client that applies it). <paramref name="allowUndefined"/>: ContentJSON writes <c>undefined</c> as the word.
    /// </summary>
    public void ReadJson(string what, bool allowUndefined = false)
    {
        var at = Position;
        var json = ReadStringBytes(what);
        if (allowUndefined && json.SequenceEqual("undefined"u8))
        {
            return;
        }

        try
        {
            var reader = new Utf8JsonReader(json, JsonOptions);
            var tokens = 0;
            while (reader.Read())
            {
                tokens++;
            }

            if (tokens == 0)
            {
                throw new FormatException($"the {what} at byte {at} is empty where JSON is expected");
            }
        }
        catch (JsonException e)
        {
            // Control flow: the JSON reader's error becomes this reader's one error type, with where it is.
            throw new FormatException($"the {what} at byte {at} is not valid JSON: {e.Message}", e);
        }
    }

    /// <summary>Reads past one value of lib0's <c>writeAny</c> encoding.</summary>
    public void SkipAny(string what, int depth = 0)
    {
        if (depth > MaxAnyDepth || !RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            throw new FormatException($"the {what} nests deeper than {MaxAnyDepth} levels (byte {Position})");
        }

        var at = Position;
        var type = ReadByte(what);
        switch (type)
        {
            case 127: // undefined
            case 126: // null
            case 121: // false
            case 120: // true
                return;
            case 125: // integer (varInt)
                SkipVarInt(what);
                return;
            case 124: // float32
                Skip(4, what);
                return;
            case 123: // float64
            case 122: // bigint64
                Skip(8, what);
                return;
            case 119: // string
                ReadStringBytes(what);
                return;
            case 116: // Uint8Array
                ReadBytes(what);
                return;
            case 118: // object
                for (var n = ReadCount(what + " key count"); n > 0; n--)
                {
                    ReadStringBytes(what + " key");
                    SkipAny(what, depth + 1);
                }

                return;
            case 117: // array
                for (var n = ReadCount(what + " length"); n > 0; n--)
                {
                    SkipAny(what, depth + 1);
                }

                return;
            default:
                throw new FormatException($"the {what} at byte {at} has an unknown type {type}");
        }
    }

    private void SkipVarInt(string what)
    {
        for (var i = 0; ; i++)
        {
            var b = ReadByte(what);
            if ((b & 0x80) == 0)
            {
                return;
            }

            if (i >= 9)
            {
                throw new FormatException($"the {what} at byte {Position} is an integer longer than 10 bytes");
            }
        }
    }

    private void Skip(int count, string what)
    {
        if (Remaining < count)
        {
            throw new FormatException($"the data ends inside its {what} (byte {Position})");
        }

        Position += count;
    }
}

/// <summary>Writes lib0's binary encoding.</summary>
internal sealed class Lib0Writer(int capacity = 256)
{
    private readonly ArrayBufferWriter<byte> _buffer = new(Math.Max(16, capacity));

    public int Length => _buffer.WrittenCount;

    public ReadOnlySpan<byte> Written => _buffer.WrittenSpan;

    public void WriteByte(byte value)
    {
        _buffer.GetSpan(1)[0] = value;
        _buffer.Advance(1);
    }

    public void WriteUInt(long value)
    {
        var span = _buffer.GetSpan(10);
        var n = 0;
        var v = (ulong)value;
        while (v >= 0x80)
        {
            span[n++] = (byte)(v | 0x80);
            v >>= 7;
        }

        span[n++] = (byte)v;
        _buffer.Advance(n);
    }

    /// <summary>Raw bytes, no length.</summary>
    public void WriteRaw(ReadOnlySpan<byte> bytes) => _buffer.Write(bytes);

    /// <summary>A length, then the bytes (lib0's varUint8Array and varString).</summary>
    public void WriteBytes(ReadOnlySpan<byte> bytes)
    {
        WriteUInt(bytes.Length);
        _buffer.Write(bytes);
    }

    /// <summary>A string as UTF-8 with its length; an unpaired surrogate becomes U+FFFD, as JavaScript's TextEncoder does.</summary>
    public void WriteString(string text) => WriteBytes(Encoding.UTF8.GetBytes(text));

    public byte[] ToArray() => _buffer.WrittenSpan.ToArray();
}
