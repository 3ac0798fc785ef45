using System.Text;

namespace RoomActors.Bench;

/// <summary>
/// The y-websocket protocol as far as the documents scenarios need it: lib0 varUints, the sync messages (outer type
/// 0 = sync with sub-type 0 = step 1, 1 = step 2, 2 = update; 1 = awareness), and two readings of a Yjs update (v1
/// encoding): the key of its first change (to recognise a relayed update) and the state vector it covers (to check a
/// synced document is complete). No I/O.
/// </summary>
internal static class YjsWire
{
    public const int MessageSync = 0, MessageAwareness = 1;
    public const int SyncStep1 = 0, SyncStep2 = 1, SyncUpdate = 2;

    /// <summary>An update that changes nothing: no struct groups, an empty delete set.</summary>
    public static readonly byte[] EmptyUpdate = [0, 0];

    /// <summary>The state vector of an empty document (no clients).</summary>
    public static readonly byte[] EmptyStateVector = [0];

    /// <summary>A sync message: type 0, <paramref name="subType"/>, then <paramref name="body"/> as a varUint8Array.</summary>
    public static byte[] Sync(int subType, ReadOnlySpan<byte> body)
    {
        var buffer = new byte[2 + 10 + body.Length];
        var at = 0;
        WriteVarUint(buffer, ref at, MessageSync);
        WriteVarUint(buffer, ref at, (ulong)subType);
        WriteVarUint(buffer, ref at, (ulong)body.Length);
        body.CopyTo(buffer.AsSpan(at));
        return buffer[..(at + body.Length)];
    }

    /// <summary>Encodes a state vector: a varUint count, then client and clock of each.</summary>
    public static byte[] StateVector(IReadOnlyDictionary<ulong, ulong> clocks)
    {
        var buffer = new byte[10 + clocks.Count * 20];
        var at = 0;
        WriteVarUint(buffer, ref at, (ulong)clocks.Count);
        foreach (var (client, clock) in clocks)
        {
            WriteVarUint(buffer, ref at, client);
            WriteVarUint(buffer, ref at, clock);
        }

        return buffer[..at];
    }

    /// <summary>
    /// Reads the outer message: false when it is not a sync message (awareness, query awareness, anything else);
    /// otherwise its sub-type and body (the state vector of step 1, the update of step 2 and of an update).
    /// </summary>
    public static bool TryReadSync(ReadOnlySpan<byte> message, out int subType, out ReadOnlySpan<byte> body)
    {
        subType = -1;
        body = default;
        var reader = new Reader(message);
        if (!reader.TryVarUint(out var type) || type != MessageSync || !reader.TryVarUint(out var sub) || !reader.TryVarUint(out var length)
            || (ulong)reader.Remaining < length)
        {
            return false;
        }

        subType = (int)sub;
        body = reader.Take((int)length);
        return true;
    }

    /// <summary>Decodes a state vector (client → clock).</summary>
    public static Dictionary<ulong, ulong> ReadStateVector(ReadOnlySpan<byte> encoded)
    {
        var reader = new Reader(encoded);
        var clocks = new Dictionary<ulong, ulong>();
        var count = reader.VarUint();
        for (ulong i = 0; i < count; i++)
        {
            var client = reader.VarUint();
            clocks[client] = reader.VarUint();
        }

        return clocks;
    }

    /// <summary>
    /// The key of an update's first change: the client and clock of its first struct group (an insert), or, for an
    /// update without structs, of its delete set's first range (a delete). False for an empty update. A server that
    /// relays an update (re-encoded or not) keeps its first client and clock; one that merged several into one message
    /// would show as updates not recognised.
    /// </summary>
    public static bool TryReadKey(ReadOnlySpan<byte> update, out ulong client, out ulong clock, out bool delete)
    {
        client = clock = 0;
        delete = false;
        var reader = new Reader(update);
        if (!reader.TryVarUint(out var groups))
        {
            return false;
        }

        if (groups > 0)
        {
            return reader.TryVarUint(out _) && reader.TryVarUint(out client) && reader.TryVarUint(out clock);
        }

        delete = true;
        return reader.TryVarUint(out var deleteClients) && deleteClients > 0
            && reader.TryVarUint(out client) && reader.TryVarUint(out _) && reader.TryVarUint(out clock);
    }

    /// <summary>
    /// The state vector an update covers (client → the clock after its last struct that is not a Skip), found by reading
    /// every struct. Reads the content types a text document holds (GC, Skip, Deleted, JSON, Binary, String, Embed,
    /// Format, Type); throws <see cref="NotSupportedException"/> for the others (Any, Doc).
    /// </summary>
    public static Dictionary<ulong, ulong> CoveredStateVector(ReadOnlySpan<byte> update)
    {
        var reader = new Reader(update);
        var covered = new Dictionary<ulong, ulong>();
        var groups = reader.VarUint();
        for (ulong g = 0; g < groups; g++)
        {
            var structs = reader.VarUint();
            var client = reader.VarUint();
            var clock = reader.VarUint();
            for (ulong s = 0; s < structs; s++)
            {
                var info = reader.Byte();
                var length = StructLength(ref reader, info, out var skip);
                clock += length;
                if (!skip)
                {
                    covered[client] = clock;
                }
            }
        }

        return covered;
    }

    private static ulong StructLength(ref Reader reader, byte info, out bool skip)
    {
        skip = false;
        switch (info & 0x1F)
        {
            case 0: // GC
                return reader.VarUint();
            case 10: // Skip
                skip = true;
                return reader.VarUint();
        }

        // An item: origin (0x80), right origin (0x40); without either, its parent (a root type's name or an item's ID)
        // and, with 0x20, its key in a map.
        if ((info & 0x80) != 0)
        {
            reader.VarUint();
            reader.VarUint();
        }

        if ((info & 0x40) != 0)
        {
            reader.VarUint();
            reader.VarUint();
        }

        if ((info & 0xC0) == 0)
        {
            if (reader.VarUint() == 1)
            {
                reader.VarString();
            }
            else
            {
                reader.VarUint();
                reader.VarUint();
            }

            if ((info & 0x20) != 0)
            {
                reader.VarString();
            }
        }

        switch (info & 0x1F)
        {
            case 1: // Deleted
                return reader.VarUint();
            case 2: // JSON: a count of strings
                var count = reader.VarUint();
                for (ulong i = 0; i < count; i++)
                {
                    reader.VarString();
                }

                return count;
            case 3: // Binary
                reader.Take((int)reader.VarUint());
                return 1;
            case 4: // String: its length in UTF-16 code units, as JavaScript counts
                return (ulong)Encoding.UTF8.GetCharCount(reader.VarString());
            case 5: // Embed
                reader.VarString();
                return 1;
            case 6: // Format: key and JSON value
                reader.VarString();
                reader.VarString();
                return 1;
            case 7: // Type: its type ref; XmlElement (3) and XmlHook (5) carry a name
                var typeRef = reader.VarUint();
                if (typeRef is 3 or 5)
                {
                    reader.VarString();
                }

                return 1;
            default:
                throw new NotSupportedException($"Yjs content type {info & 0x1F} is not read by this generator");
        }
    }

    public static void WriteVarUint(Span<byte> buffer, ref int at, ulong value)
    {
        while (value > 0x7F)
        {
            buffer[at++] = (byte)(0x80 | (value & 0x7F));
            value >>= 7;
        }

        buffer[at++] = (byte)value;
    }

    /// <summary>A cursor over lib0-encoded bytes.</summary>
    private ref struct Reader(ReadOnlySpan<byte> bytes)
    {
        private readonly ReadOnlySpan<byte> _bytes = bytes;
        private int _at;

        public readonly int Remaining => _bytes.Length - _at;

        public bool TryVarUint(out ulong value)
        {
            value = 0;
            for (var shift = 0; shift < 64 && _at < _bytes.Length; shift += 7)
            {
                var b = _bytes[_at++];
                value |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    return true;
                }
            }

            return false;
        }

        public ulong VarUint() => TryVarUint(out var value) ? value : throw new FormatException("a Yjs message ended inside a varUint");

        public byte Byte() => _at < _bytes.Length ? _bytes[_at++] : throw new FormatException("a Yjs update ended inside a struct");

        public ReadOnlySpan<byte> Take(int length)
        {
            if (length < 0 || length > Remaining)
            {
                throw new FormatException("a Yjs message ended inside a byte array");
            }

            var taken = _bytes.Slice(_at, length);
            _at += length;
            return taken;
        }

        public ReadOnlySpan<byte> VarString() => Take((int)VarUint());
    }
}
