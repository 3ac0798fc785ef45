using System.Text;

namespace RoomActors.Documents;

/// <summary>An id in a Yjs document: the client that made it and its clock (counted in that client's units).</summary>
internal readonly record struct YId(long Client, long Clock);

internal enum YStructKind
{
    Gc,
    Skip,
    Item,
}

/// <summary>
/// One struct of an encoded update (format v1), as Yjs's lazy reader sees it: a GC or Skip range, or an item with its
/// origins, parent (only written when it has no origin), and content kept as the encoded bytes.
/// </summary>
internal sealed class YStruct
{
    public const int ContentDeleted = 1;
    public const int ContentJson = 2;
    public const int ContentBinary = 3;
    public const int ContentString = 4;
    public const int ContentEmbed = 5;
    public const int ContentFormat = 6;
    public const int ContentType = 7;
    public const int ContentAny = 8;
    public const int ContentDoc = 9;

    public YStructKind Kind;
    public long Client;
    public long Clock;
    public long Length;

    public int ContentRef;
    public YId? Origin;
    public YId? RightOrigin;
    public string? ParentKey; // a root type's name
    public YId? ParentId; // a nested type's item
    public string? ParentSub; // a map key

    /// <summary>String: its UTF-8 bytes; Binary, Embed, Format, Type, Doc: the content's encoding (length 1).</summary>
    public ReadOnlyMemory<byte> Raw;

    /// <summary>JSON and Any: each element's encoding; Deleted: none (<see cref="Length"/> says it).</summary>
    public ReadOnlyMemory<byte>[]? Elements;

    /// <summary>String content, decoded on demand.</summary>
    public string? Text;

    public YId Id => new(Client, Clock);

    public long End => Clock + Length;

    public string GetText() => Text ??= Encoding.UTF8.GetString(Raw.Span);

    /// <summary>A copy to change.</summary>
    public YStruct Copy() => (YStruct)MemberwiseClone();

    /// <summary>The part of this struct from <paramref name="diff"/> units on (Yjs's <c>sliceStruct</c>).</summary>
    public YStruct Slice(long diff)
    {
        var right = (YStruct)MemberwiseClone();
        right.Clock = Clock + diff;
        right.Length = Length - diff;
        if (Kind != YStructKind.Item)
        {
            return right;
        }

        right.Origin = new YId(Client, Clock + diff - 1);
        switch (ContentRef)
        {
            case ContentString:
                right.Text = GetText()[(int)diff..];
                right.Raw = Encoding.UTF8.GetBytes(right.Text); // an unpaired surrogate becomes U+FFFD, as in Yjs
                right.Text = Encoding.UTF8.GetString(right.Raw.Span);
                break;
            case ContentJson:
            case ContentAny:
                right.Elements = Elements![(int)diff..];
                break;
            case ContentDeleted:
                break;
            default:
                throw new FormatException($"a struct of content type {ContentRef} (length 1) cannot be split");
        }

        return right;
    }

    /// <summary>Extends a GC by a GC or a Skip by a Skip (Yjs's <c>mergeWith</c>; items never merge without a document).</summary>
    public bool MergeWith(YStruct right)
    {
        if (Kind == YStructKind.Item || Kind != right.Kind)
        {
            return false;
        }

        Length += right.Length;
        return true;
    }

    /// <summary>Writes the struct from <paramref name="offset"/> on (Yjs's <c>write(encoder, offset)</c>).</summary>
    public void Write(Lib0Writer writer, long offset)
    {
        switch (Kind)
        {
            case YStructKind.Gc:
                writer.WriteByte(0);
                writer.WriteUInt(Length - offset);
                return;
            case YStructKind.Skip:
                writer.WriteByte(10);
                writer.WriteUInt(Length - offset);
                return;
        }

        var origin = offset > 0 ? new YId(Client, Clock + offset - 1) : Origin;
        var info = (byte)(ContentRef | (origin is null ? 0 : 0x80) | (RightOrigin is null ? 0 : 0x40) | (ParentSub is null ? 0 : 0x20));
        writer.WriteByte(info);
        if (origin is { } o)
        {
            writer.WriteUInt(o.Client);
            writer.WriteUInt(o.Clock);
        }

        if (RightOrigin is { } r)
        {
            writer.WriteUInt(r.Client);
            writer.WriteUInt(r.Clock);
        }

        if (origin is null && RightOrigin is null)
        {
            if (ParentKey is not null)
            {
                writer.WriteUInt(1);
                writer.WriteString(ParentKey);
            }
            else
            {
                writer.WriteUInt(0);
                writer.WriteUInt(ParentId!.Value.Client);
                writer.WriteUInt(ParentId.Value.Clock);
            }

            if (ParentSub is not null)
            {
                writer.WriteString(ParentSub);
            }
        }

        switch (ContentRef)
        {
            case ContentDeleted:
                writer.WriteUInt(Length - offset);
                break;
            case ContentString:
                if (offset == 0)
                {
                    writer.WriteBytes(Raw.Span);
                }
                else
                {
                    writer.WriteString(GetText()[(int)offset..]);
                }

                break;
            case ContentJson:
            case ContentAny:
                writer.WriteUInt(Elements!.Length - offset);
                for (var i = (int)offset; i < Elements.Length; i++)
                {
                    writer.WriteRaw(Elements[i].Span);
                }

                break;
            default:
                writer.WriteRaw(Raw.Span);
                break;
        }
    }
}

/// <summary>One deleted range of a client's clocks.</summary>
internal record struct YDeleteRange(long Clock, long Length);

/// <summary>A parsed update: its structs in the order they were encoded, and its delete set by client (in read order).</summary>
internal sealed class YParsedUpdate
{
    public List<YStruct> Structs { get; } = new();

    public List<(long Client, List<YDeleteRange> Ranges)> DeleteSet { get; } = new();

    /// <summary>Parses an update strictly: anything truncated, malformed, or left over at the end throws <see cref="FormatException"/>.</summary>
    public static YParsedUpdate Parse(ReadOnlyMemory<byte> update)
    {
        var parsed = new YParsedUpdate();
        var reader = new Lib0Reader(update.Span);
        for (var clients = reader.ReadCount("number of clients"); clients > 0; clients--)
        {
            var count = reader.ReadCount("number of structs");
            var client = reader.ReadUInt("client id");
            var clock = reader.ReadUInt("clock");
            for (; count > 0; count--)
            {
                var item = ReadStruct(ref reader, update, client, clock);
                if (item.Length <= 0)
                {
                    throw new FormatException($"a struct of client {client} at clock {clock} has no length (byte {reader.Position})");
                }

                clock += item.Length;
                if (clock > Lib0Reader.MaxSafeInteger)
                {
                    throw new FormatException($"the clocks of client {client} pass 2^53 - 1 (byte {reader.Position})");
                }

                parsed.Structs.Add(item);
            }
        }

        for (var clients = reader.ReadCount("number of clients in the delete set"); clients > 0; clients--)
        {
            var client = reader.ReadUInt("delete set client id");
            var count = reader.ReadCount("number of deleted ranges");
            if (count == 0)
            {
                continue; // as Yjs reads it: a client without ranges is left out
            }

            var ranges = new List<YDeleteRange>((int)count);
            for (; count > 0; count--)
            {
                var clock = reader.ReadUInt("deleted range clock");
                var length = reader.ReadUInt("deleted range length");
                ranges.Add(new YDeleteRange(clock, length));
            }

            var existing = parsed.DeleteSet.FindIndex(d => d.Client == client);
            if (existing >= 0)
            {
                parsed.DeleteSet[existing].Ranges.AddRange(ranges);
            }
            else
            {
                parsed.DeleteSet.Add((client, ranges));
            }
        }

        if (!reader.AtEnd)
        {
            throw new FormatException($"{reader.Remaining} bytes follow the end of the update at byte {reader.Position}");
        }

        return parsed;
    }

    private static YStruct ReadStruct(ref Lib0Reader reader, ReadOnlyMemory<byte> update, long client, long clock)
    {
        var at = reader.Position;
        var info = reader.ReadByte("struct info");
        var s = new YStruct { Client = client, Clock = clock };
        if (info == 10)
        {
            s.Kind = YStructKind.Skip;
            s.Length = reader.ReadUInt("skip length");
            return s;
        }

        var contentRef = info & 0x1f;
        if (contentRef == 0)
        {
            s.Kind = YStructKind.Gc;
            s.Length = reader.ReadUInt("gc length");
            return s;
        }

        if (contentRef > YStruct.ContentDoc)
        {
            throw new FormatException($"the struct at byte {at} has an unknown content type {contentRef}");
        }

        s.Kind = YStructKind.Item;
        s.ContentRef = contentRef;
        if ((info & 0x80) != 0)
        {
            s.Origin = new YId(reader.ReadUInt("origin client"), reader.ReadUInt("origin clock"));
            RequireEarlier(s, s.Origin.Value, "origin", at);
        }

        if ((info & 0x40) != 0)
        {
            s.RightOrigin = new YId(reader.ReadUInt("right origin client"), reader.ReadUInt("right origin clock"));
            RequireEarlier(s, s.RightOrigin.Value, "right origin", at);
        }

        if ((info & 0xc0) == 0)
        {
            if (reader.ReadUInt("parent info") == 1) // as yjs: 1 names a root type, anything else a parent id
            {
                s.ParentKey = reader.ReadString("parent type name");
            }
            else
            {
                s.ParentId = new YId(reader.ReadUInt("parent client"), reader.ReadUInt("parent clock"));
                RequireEarlier(s, s.ParentId.Value, "parent", at);
            }

            if ((info & 0x20) != 0)
            {
                s.ParentSub = reader.ReadString("parent key");
            }
        }

        var start = reader.Position;
        switch (contentRef)
        {
            case YStruct.ContentDeleted:
                s.Length = reader.ReadUInt("deleted length");
                break;
            case YStruct.ContentJson:
            case YStruct.ContentAny:
                var count = reader.ReadCount("number of values");
                s.Elements = new ReadOnlyMemory<byte>[count];
                for (var i = 0; i < count; i++)
                {
                    var from = reader.Position;
                    if (contentRef == YStruct.ContentJson)
                    {
                        reader.ReadJson("JSON value", allowUndefined: true);
                    }
                    else
                    {
                        reader.SkipAny("value");
                    }

                    s.Elements[i] = update[from..reader.Position];
                }

                s.Length = count;
                break;
            case YStruct.ContentString:
                var text = reader.ReadStringBytes("string");
                s.Raw = update.Slice(reader.Position - text.Length, text.Length);
                s.Length = Encoding.UTF8.GetCharCount(text); // Yjs counts UTF-16 code units
                break;
            case YStruct.ContentBinary:
                reader.ReadBytes("binary content");
                s.Length = 1;
                break;
            case YStruct.ContentEmbed:
                reader.ReadJson("embed");
                s.Length = 1;
                break;
            case YStruct.ContentFormat:
                reader.ReadStringBytes("format key");
                reader.ReadJson("format value");
                s.Length = 1;
                break;
            case YStruct.ContentType:
                var typeRef = reader.ReadUInt("type");
                if (typeRef > 6)
                {
                    throw new FormatException($"the type at byte {start} is {typeRef}, not one of Yjs's (0-6)");
                }

                if (typeRef is 3 or 5)
                {
                    reader.ReadStringBytes("XML name");
                }

                s.Length = 1;
                break;
            case YStruct.ContentDoc:
                reader.ReadStringBytes("subdocument guid");
                reader.SkipAny("subdocument options");
                s.Length = 1;
                break;
        }

        if (contentRef is not (YStruct.ContentString or YStruct.ContentJson or YStruct.ContentAny or YStruct.ContentDeleted))
        {
            s.Raw = update[start..reader.Position];
        }

        return s;
    }

    /// <summary>
    /// An item's origin, right origin and parent exist before it; of its own client, they are at lower clocks. Yjs
    /// throws applying an item that names a later clock of its own client, so such an update would fail every client.
    /// </summary>
    private static void RequireEarlier(YStruct s, YId id, string what, int at)
    {
        if (id.Client == s.Client && id.Clock >= s.Clock)
        {
            throw new FormatException($"the item of client {s.Client} at clock {s.Clock} (byte {at}) names its own client's clock {id.Clock} as its {what}; it can only name an earlier one");
        }
    }
}
