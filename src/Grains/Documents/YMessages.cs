using System.Buffers;
using System.Text;

namespace RoomActors.Documents;

/// <summary>The kinds of y-websocket message (the first varUint of a frame).</summary>
internal enum YMessageType
{
    Sync = 0,
    Awareness = 1,
    Auth = 2,
    QueryAwareness = 3,
}

/// <summary>The kinds of sync message (y-protocols' sync.js): the second varUint of a <see cref="YMessageType.Sync"/> frame.</summary>
internal enum YSyncType
{
    Step1 = 0,
    Step2 = 1,
    Update = 2,
}

/// <summary>One awareness entry: a Yjs client's clock and state (JSON text; <c>null</c> when the client is gone).</summary>
internal readonly record struct AwarenessEntry(ulong ClientId, ulong Clock, string State)
{
    public bool Removed => State == "null";
}

/// <summary>
/// The y-websocket wire format (lib0 encoding): reads a client's frame strictly (a truncated or malformed one throws
/// <see cref="FormatException"/> saying what is wrong) and writes the server's frames.
/// </summary>
internal static class YMessages
{
    /// <summary>The largest number lib0 encodes (JavaScript's <c>Number.MAX_SAFE_INTEGER</c>).</summary>
    private const ulong MaxSafeInteger = (1UL << 53) - 1;

    /// <summary>
    /// Reads a frame's message type, and for a sync message its sync type and payload (state vector or update). Throws
    /// <see cref="FormatException"/> for a malformed frame, <see cref="NotSupportedException"/> for a message type a
    /// client may not send.
    /// </summary>
    public static (YMessageType Type, YSyncType Sync, ReadOnlyMemory<byte> Payload) Read(ReadOnlyMemory<byte> frame)
    {
        var at = 0;
        var span = frame.Span;
        var type = ReadUInt(span, ref at, "message type");
        switch (type)
        {
            case (ulong)YMessageType.Sync:
                var sync = ReadUInt(span, ref at, "sync message type");
                if (sync > (ulong)YSyncType.Update)
                {
                    throw new FormatException($"unknown sync message type {sync} at byte 1 (0 = step 1, 1 = step 2, 2 = update)");
                }

                var payload = ReadBytes(frame, ref at, sync == (ulong)YSyncType.Step1 ? "state vector" : "update");
                End(span, at);
                return (YMessageType.Sync, (YSyncType)sync, payload);
            case (ulong)YMessageType.Awareness:
                var update = ReadBytes(frame, ref at, "awareness update");
                End(span, at);
                return (YMessageType.Awareness, default, update);
            case (ulong)YMessageType.QueryAwareness:
                End(span, at);
                return (YMessageType.QueryAwareness, default, default);
            case (ulong)YMessageType.Auth:
                throw new NotSupportedException("auth messages (type 2) are the server's to send, not a client's");
            default:
                throw new NotSupportedException($"unknown message type {type} (0 = sync, 1 = awareness, 3 = query awareness)");
        }
    }

    /// <summary>Reads an awareness update (count, then client id, clock and state JSON per entry).</summary>
    public static List<AwarenessEntry> ReadAwareness(ReadOnlySpan<byte> update)
    {
        var at = 0;
        var count = ReadUInt(update, ref at, "awareness entry count");
        if (count > (ulong)update.Length)
        {
            throw new FormatException($"awareness update claims {count} entries in {update.Length} bytes");
        }

        var entries = new List<AwarenessEntry>((int)count);
        for (var i = 0UL; i < count; i++)
        {
            var client = ReadUInt(update, ref at, "awareness client id");
            var clock = ReadUInt(update, ref at, "awareness clock");
            var length = ReadUInt(update, ref at, "awareness state length");
            if (length > (ulong)(update.Length - at))
            {
                throw new FormatException($"awareness state of {length} bytes at byte {at}, but only {update.Length - at} are left");
            }

            string state;
            try
            {
                state = Strict.GetString(update.Slice(at, (int)length));
            }
            catch (DecoderFallbackException ex)
            {
                // Policy: bad UTF-8 is bad input, reported like any other.
                throw new FormatException($"awareness state at byte {at} is not UTF-8: {ex.Message}");
            }

            at += (int)length;
            entries.Add(new AwarenessEntry(client, clock, state));
        }

        End(update, at);
        return entries;
    }

    /// <summary><c>[sync, step 1, state vector]</c>.</summary>
    public static byte[] SyncStep1(ReadOnlySpan<byte> stateVector) => Sync(YSyncType.Step1, stateVector);

    /// <summary><c>[sync, step 2, update]</c>.</summary>
    public static byte[] SyncStep2(ReadOnlySpan<byte> update) => Sync(YSyncType.Step2, update);

    /// <summary><c>[sync, update, update]</c>.</summary>
    public static byte[] SyncUpdate(ReadOnlySpan<byte> update) => Sync(YSyncType.Update, update);

    /// <summary><c>[awareness, update]</c> of the given entries.</summary>
    public static byte[] Awareness(IReadOnlyCollection<AwarenessEntry> entries)
    {
        var inner = new ArrayBufferWriter<byte>();
        WriteUInt(inner, (ulong)entries.Count);
        foreach (var entry in entries)
        {
            WriteUInt(inner, entry.ClientId);
            WriteUInt(inner, entry.Clock);
            var state = Encoding.UTF8.GetBytes(entry.State);
            WriteUInt(inner, (ulong)state.Length);
            inner.Write(state);
        }

        var frame = new ArrayBufferWriter<byte>(inner.WrittenCount + 8);
        WriteUInt(frame, (ulong)YMessageType.Awareness);
        WriteUInt(frame, (ulong)inner.WrittenCount);
        frame.Write(inner.WrittenSpan);
        return frame.WrittenSpan.ToArray();
    }

    private static byte[] Sync(YSyncType type, ReadOnlySpan<byte> payload)
    {
        var frame = new ArrayBufferWriter<byte>(payload.Length + 12);
        WriteUInt(frame, (ulong)YMessageType.Sync);
        WriteUInt(frame, (ulong)type);
        WriteUInt(frame, (ulong)payload.Length);
        frame.Write(payload);
        return frame.WrittenSpan.ToArray();
    }

    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static ulong ReadUInt(ReadOnlySpan<byte> data, ref int at, string what)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            if (at >= data.Length)
            {
                throw new FormatException($"the message ends inside its {what} (byte {at})");
            }

            var b = data[at++];
            value |= (ulong)(b & 0x7f) << shift;
            if (value > MaxSafeInteger || shift > 49 && (b & 0x80) != 0)
            {
                throw new FormatException($"the {what} at byte {at - 1} is larger than 2^53 - 1");
            }

            if ((b & 0x80) == 0)
            {
                return value;
            }
        }
    }

    private static ReadOnlyMemory<byte> ReadBytes(ReadOnlyMemory<byte> data, ref int at, string what)
    {
        var length = ReadUInt(data.Span, ref at, what + " length");
        if (length > (ulong)(data.Length - at))
        {
            throw new FormatException($"the {what} is {length} bytes long at byte {at}, but only {data.Length - at} are left: the message is truncated");
        }

        var bytes = data.Slice(at, (int)length);
        at += (int)length;
        return bytes;
    }

    private static void End(ReadOnlySpan<byte> data, int at)
    {
        if (at != data.Length)
        {
            throw new FormatException($"{data.Length - at} bytes follow the end of the message at byte {at}");
        }
    }

    private static void WriteUInt(IBufferWriter<byte> writer, ulong value)
    {
        var span = writer.GetSpan(10);
        var n = 0;
        while (value >= 0x80)
        {
            span[n++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[n++] = (byte)value;
        writer.Advance(n);
    }
}
