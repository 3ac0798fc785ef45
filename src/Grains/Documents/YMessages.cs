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
    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// Reads a frame's message type, and for a sync message its sync type and payload (state vector or update). Throws
    /// <see cref="FormatException"/> for a malformed frame, <see cref="NotSupportedException"/> for a message type a
    /// client may not send.
    /// </summary>
    public static (YMessageType Type, YSyncType Sync, ReadOnlyMemory<byte> Payload) Read(ReadOnlyMemory<byte> frame)
    {
        var reader = new Lib0Reader(frame.Span);
        var type = reader.ReadUInt("message type");
        switch (type)
        {
            case (long)YMessageType.Sync:
                var sync = reader.ReadUInt("sync message type");
                if (sync > (long)YSyncType.Update)
                {
                    throw new FormatException($"unknown sync message type {sync} at byte 1 (0 = step 1, 1 = step 2, 2 = update)");
                }

                var payload = Payload(ref reader, frame, sync == (long)YSyncType.Step1 ? "state vector" : "update");
                return (YMessageType.Sync, (YSyncType)sync, payload);
            case (long)YMessageType.Awareness:
                return (YMessageType.Awareness, default, Payload(ref reader, frame, "awareness update"));
            case (long)YMessageType.QueryAwareness:
                End(ref reader, "message");
                return (YMessageType.QueryAwareness, default, default);
            case (long)YMessageType.Auth:
                throw new NotSupportedException("auth messages (type 2) are the server's to send, not a client's");
            default:
                throw new NotSupportedException($"unknown message type {type} (0 = sync, 1 = awareness, 3 = query awareness)");
        }
    }

    /// <summary>Reads an awareness update (count, then client id, clock and state JSON per entry).</summary>
    public static List<AwarenessEntry> ReadAwareness(ReadOnlySpan<byte> update)
    {
        var reader = new Lib0Reader(update);
        var count = reader.ReadCount("awareness entry count");
        var entries = new List<AwarenessEntry>((int)count);
        for (; count > 0; count--)
        {
            var client = reader.ReadUInt("awareness client id");
            var clock = reader.ReadUInt("awareness clock");
            var at = reader.Position;
            var state = reader.ReadStringBytes("awareness state");
            try
            {
                entries.Add(new AwarenessEntry((ulong)client, (ulong)clock, Strict.GetString(state)));
            }
            catch (DecoderFallbackException ex)
            {
                // Policy: bad UTF-8 is bad input, reported like any other.
                throw new FormatException($"the awareness state at byte {at} is not UTF-8: {ex.Message}");
            }
        }

        End(ref reader, "awareness update");
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
        var inner = new Lib0Writer();
        inner.WriteUInt(entries.Count);
        foreach (var entry in entries)
        {
            inner.WriteUInt((long)entry.ClientId);
            inner.WriteUInt((long)entry.Clock);
            inner.WriteString(entry.State);
        }

        var frame = new Lib0Writer(inner.Length + 8);
        frame.WriteUInt((long)YMessageType.Awareness);
        frame.WriteBytes(inner.Written);
        return frame.ToArray();
    }

    private static byte[] Sync(YSyncType type, ReadOnlySpan<byte> payload)
    {
        var frame = new Lib0Writer(payload.Length + 12);
        frame.WriteUInt((long)YMessageType.Sync);
        frame.WriteUInt((long)type);
        frame.WriteBytes(payload);
        return frame.ToArray();
    }

    /// <summary>The varUint8Array that ends the frame, as a slice of it.</summary>
    private static ReadOnlyMemory<byte> Payload(ref Lib0Reader reader, ReadOnlyMemory<byte> frame, string what)
    {
        var bytes = reader.ReadBytes(what);
        var payload = frame.Slice(reader.Position - bytes.Length, bytes.Length);
        End(ref reader, "message");
        return payload;
    }

    private static void End(ref Lib0Reader reader, string what)
    {
        if (!reader.AtEnd)
        {
            throw new FormatException($"{reader.Remaining} bytes follow the end of the {what} at byte {reader.Position}");
        }
    }
}
