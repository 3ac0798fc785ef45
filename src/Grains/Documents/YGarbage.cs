namespace RoomActors.Documents;

/// <summary>
/// Yjs's garbage collection on an encoded update: the content of deleted items is dropped (an item whose clocks the
/// delete set covers keeps its place, origins and length, with a "deleted" content instead of its text or values), as a
/// <c>Y.Doc</c> with <c>gc</c> on (the default, and y-websocket's server) keeps its deleted items. An item partly deleted
/// is split where the deleted range starts or ends, as Yjs splits it when it applies the delete set.
/// </summary>
/// <remarks>
/// Deleted types (a nested map or array) keep their content here: Yjs would also collect their children, which needs
/// the children's parents, known only once integrated. Text is what documents delete most.
/// </remarks>
internal static class YGarbage
{
    public static byte[] Collect(ReadOnlyMemory<byte> update)
    {
        var parsed = YParsedUpdate.Parse(update);
        var deleted = new Dictionary<long, List<YDeleteRange>>();
        foreach (var (client, ranges) in parsed.DeleteSet)
        {
            if (!deleted.TryGetValue(client, out var all))
            {
                deleted[client] = all = new List<YDeleteRange>();
            }

            all.AddRange(ranges.Where(r => r.Length > 0));
        }

        if (deleted.Count == 0)
        {
            return update.ToArray();
        }

        foreach (var all in deleted.Values)
        {
            all.Sort((a, b) => a.Clock.CompareTo(b.Clock));
        }

        var writer = new YUpdate.StructWriter();
        YStruct? held = null; // a deleted item the next one may extend
        foreach (var s in parsed.Structs)
        {
            var pieces = s.Kind != YStructKind.Item || s.ContentRef is YStruct.ContentType or YStruct.ContentDoc
                || !deleted.TryGetValue(s.Client, out var ranges)
                ? [s]
                : Pieces(s, ranges);
            foreach (var piece in pieces)
            {
                if (held is not null && Extends(held, piece))
                {
                    held.Length += piece.Length;
                    continue;
                }

                if (held is not null)
                {
                    writer.Write(held, 0);
                }

                held = piece.Kind == YStructKind.Item && piece.ContentRef == YStruct.ContentDeleted ? piece.Copy() : null;
                if (held is null)
                {
                    writer.Write(piece, 0);
                }
            }
        }

        if (held is not null)
        {
            writer.Write(held, 0);
        }

        var output = writer.Finish();
        YUpdate.WriteDeleteSet(output, parsed.DeleteSet);
        return output.ToArray();
    }

    /// <summary>
    /// Whether <paramref name="next"/> is a deleted item that goes on right after <paramref name="held"/> as a split of one
    /// item would (its origin the last unit of <paramref name="held"/>, the same right origin): then they are one item,
    /// as Yjs merges them.
    /// </summary>
    private static bool Extends(YStruct held, YStruct next) =>
        next.Kind == YStructKind.Item && next.ContentRef == YStruct.ContentDeleted && next.Client == held.Client
        && next.Clock == held.End && next.Origin == new YId(held.Client, held.End - 1) && next.RightOrigin == held.RightOrigin;

    /// <summary>The item cut where deleted ranges start and end inside it, its deleted pieces without their content.</summary>
    private static List<YStruct> Pieces(YStruct item, List<YDeleteRange> ranges) => [.. Cut(item, ranges)];

    private static IEnumerable<YStruct> Cut(YStruct item, List<YDeleteRange> ranges)
    {
        var rest = item;
        foreach (var range in ranges)
        {
            var end = range.Clock + range.Length;
            if (end <= rest.Clock)
            {
                continue;
            }

            if (range.Clock >= rest.End)
            {
                break;
            }

            if (range.Clock > rest.Clock)
            {
                var (kept, after) = Split(rest, range.Clock - rest.Clock);
                yield return kept;
                rest = after;
            }

            if (end < rest.End)
            {
                var (gone, after) = Split(rest, end - rest.Clock);
                yield return Emptied(gone);
                rest = after;
            }
            else
            {
                yield return Emptied(rest);
                yield break;
            }
        }

        yield return rest;
    }

    /// <summary>Yjs's <c>splitItem</c> on an encoded item: the left keeps its origins, the right starts after it.</summary>
    private static (YStruct Left, YStruct Right) Split(YStruct item, long diff)
    {
        var right = item.Slice(diff);
        var left = item.Copy();
        left.Length = diff;
        switch (item.ContentRef)
        {
            case YStruct.ContentString:
                var text = item.GetText();
                left.Text = char.IsHighSurrogate(text[(int)diff - 1]) ? text[..((int)diff - 1)] + '\uFFFD' : text[..(int)diff];
                left.Raw = System.Text.Encoding.UTF8.GetBytes(left.Text);
                break;
            case YStruct.ContentJson:
            case YStruct.ContentAny:
                left.Elements = item.Elements![..(int)diff];
                break;
        }

        return (left, right);
    }

    private static YStruct Emptied(YStruct item)
    {
        var gone = item.Copy();
        gone.ContentRef = YStruct.ContentDeleted;
        gone.Raw = default;
        gone.Elements = null;
        gone.Text = null;
        return gone;
    }
}
