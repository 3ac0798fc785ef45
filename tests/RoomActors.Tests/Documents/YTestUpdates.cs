using RoomActors.Documents;

namespace RoomActors.Tests.Documents;

/// <summary>Hand-built Yjs updates (format v1) for the document tests, as <c>Y.encodeStateAsUpdate</c> writes them.</summary>
internal static class YTestUpdates
{
    /// <summary>
    /// <paramref name="client"/> appends <paramref name="text"/> at <paramref name="clock"/> to the root <c>Y.Text</c>
    /// "text": at clock 0 naming the root, later after its own previous character.
    /// </summary>
    public static byte[] Insert(long client, long clock, string text)
    {
        var writer = new Lib0Writer(text.Length + 32);
        foreach (var n in new[] { 1, 1, client, clock })
        {
            writer.WriteUInt(n);
        }

        if (clock == 0)
        {
            writer.WriteByte(4);
            writer.WriteUInt(1);
            writer.WriteString("text");
        }
        else
        {
            writer.WriteByte(4 | 0x80);
            writer.WriteUInt(client);
            writer.WriteUInt(clock - 1);
        }

        writer.WriteString(text);
        writer.WriteUInt(0);
        return writer.ToArray();
    }

    /// <summary>An update with no structs whose delete set deletes <paramref name="length"/> clocks of <paramref name="client"/>.</summary>
    public static byte[] Delete(long client, long clock, long length)
    {
        var writer = new Lib0Writer();
        foreach (var n in new[] { 0, 1, client, 1, clock, length })
        {
            writer.WriteUInt(n);
        }

        return writer.ToArray();
    }

    /// <summary>The y-websocket frame relaying <paramref name="update"/>: <c>[sync, update, update]</c>.</summary>
    public static byte[] SyncUpdate(byte[] update)
    {
        var writer = new Lib0Writer(update.Length + 8);
        writer.WriteUInt(0);
        writer.WriteUInt(2);
        writer.WriteBytes(update);
        return writer.ToArray();
    }
}
