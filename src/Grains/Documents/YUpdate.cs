namespace RoomActors.Documents;

/// <summary>
/// What Yjs does on encoded updates (format v1) without a <c>Y.Doc</c>: merge them, diff one against a state vector,
/// read its state vector, validate it, and read its root-level texts. The results are what the npm <c>yjs</c> package
/// gives for the same bytes (<c>Y.mergeUpdates</c>, <c>Y.diffUpdate</c>, <c>Y.encodeStateVectorFromUpdate</c>): the
/// tests compare them with it.
/// </summary>
/// <remarks>
/// Every method reads its input strictly: a truncated or malformed update or state vector throws
/// <see cref="FormatException"/> saying what is wrong and at which byte, and nothing else.
/// </remarks>
public static class YUpdate
{
    private static readonly byte[] EmptyUpdate = [0, 0];

    /// <summary>The encoded empty update (no structs, empty delete set): <c>[0, 0]</c>.</summary>
    public static ReadOnlyMemory<byte> Empty => EmptyUpdate;

    /// <summary>
    /// Like <c>Y.mergeUpdates</c>: one update with everything the given ones hold, in any order, overlaps allowed
    /// (gaps are kept as Skip structs, as Yjs keeps them).
    /// </summary>
    /// <param name="updates">The updates.</param>
    public static byte[] Merge(IReadOnlyList<ReadOnlyMemory<byte>> updates)
    {
        ArgumentNullException.ThrowIfNull(updates);
        var parsed = updates.Select(YParsedUpdate.Parse).ToList();
        if (updates.Count == 1)
        {
            return updates[0].ToArray(); // as Yjs: one update is its own merge (it was checked above)
        }

        // Yjs sorts its readers before each step: higher clients first, then lower clocks (a stable sort). Only the
        // reader a step takes from moves, so a sorted set gives the same order in log time: a reader put back sorts
        // before its equals, where a stable sort keeps the first reader.
        var readers = new SortedSet<StructReader>(ReaderOrder.Instance);
        var rank = 0L;
        foreach (var reader in parsed.Select(p => new StructReader(p.Structs, filterSkips: true)).Where(r => r.Current is not null))
        {
            reader.Rank = rank++;
            readers.Add(reader);
        }

        var writer = new StructWriter();
        (YStruct Struct, long Offset)? current = null;
        StructReader? taken = null;
        var firstRank = 0L;
        while (true)
        {
            if (taken is { Current: not null })
            {
                taken.Rank = --firstRank;
                readers.Add(taken);
            }

            if (readers.Count == 0)
            {
                break;
            }

            var reader = taken = readers.Min!;
            readers.Remove(reader);
            var firstClient = reader.Current!.Client;
            if (current is { } write)
            {
                var curr = reader.Current;
                var iterated = false;
                // Skip what was written already (higher clients were written first).
                while (curr is not null && curr.End <= write.Struct.End && curr.Client >= write.Struct.Client)
                {
                    curr = reader.Next();
                    iterated = true;
                }

                if (curr is null || curr.Client != firstClient || (iterated && curr.Clock > write.Struct.End))
                {
                    continue;
                }

                if (firstClient != write.Struct.Client)
                {
                    writer.Write(write.Struct, write.Offset);
                    current = (curr, 0);
                    reader.Next();
                }
                else if (write.Struct.End < curr.Clock)
                {
                    if (write.Struct.Kind == YStructKind.Skip)
                    {
                        write.Struct.Length = curr.End - write.Struct.Clock; // extend the skip
                    }
                    else
                    {
                        writer.Write(write.Struct, write.Offset);
                        var gap = curr.Clock - write.Struct.End;
                        current = (new YStruct { Kind = YStructKind.Skip, Client = firstClient, Clock = write.Struct.End, Length = gap }, 0);
                    }
                }
                else
                {
                    var overlap = write.Struct.End - curr.Clock;
                    if (overlap > 0)
                    {
                        if (write.Struct.Kind == YStructKind.Skip)
                        {
                            write.Struct.Length -= overlap; // the other struct may hold more
                        }
                        else
                        {
                            curr = curr.Slice(overlap);
                        }
                    }

                    if (!write.Struct.MergeWith(curr))
                    {
                        writer.Write(write.Struct, write.Offset);
                        current = (curr, 0);
                        reader.Next();
                    }
                }
            }
            else
            {
                current = (reader.Current!, 0);
                reader.Next();
            }

            for (var next = reader.Current;
                 next is not null && next.Client == firstClient && next.Clock == current!.Value.Struct.End && next.Kind != YStructKind.Skip;
                 next = reader.Next())
            {
                writer.Write(current.Value.Struct, current.Value.Offset);
                current = (next, 0);
            }
        }

        if (current is { } last)
        {
            writer.Write(last.Struct, last.Offset);
        }

        var output = writer.Finish();
        WriteDeleteSet(output, MergeDeleteSets(parsed));
        return output.ToArray();
    }

    /// <summary>
    /// Like <c>Y.diffUpdate</c>: what <paramref name="update"/> holds that a peer with <paramref name="stateVector"/>
    /// (an encoded state vector, as sync step 1 carries it) lacks. The whole delete set is included, as Yjs does. An
    /// empty state vector (<c>[0]</c>) gives everything.
    /// </summary>
    /// <param name="update">The update (e.g. a whole document).</param>
    /// <param name="stateVector">The peer's encoded state vector.</param>
    public static byte[] Diff(ReadOnlySpan<byte> update, ReadOnlySpan<byte> stateVector)
    {
        var state = ReadStateVector(stateVector);
        var parsed = YParsedUpdate.Parse(update.ToArray());
        var writer = new StructWriter();
        var reader = new StructReader(parsed.Structs, filterSkips: false);
        while (reader.Current is { } curr)
        {
            var client = curr.Client;
            var known = state.GetValueOrDefault(client);
            if (curr.Kind == YStructKind.Skip)
            {
                reader.Next(); // the first written struct is never a skip
                continue;
            }

            if (curr.End > known)
            {
                writer.Write(curr, Math.Max(known - curr.Clock, 0));
                reader.Next();
                while (reader.Current is { } same && same.Client == client)
                {
                    writer.Write(same, 0);
                    reader.Next();
                }
            }
            else
            {
                while (reader.Current is { } same && same.Client == client && same.End <= known)
                {
                    reader.Next();
                }
            }
        }

        var output = writer.Finish();
        WriteDeleteSet(output, parsed.DeleteSet);
        return output.ToArray();
    }

    /// <summary>Like <c>Y.encodeStateVectorFromUpdate</c>: for each client, the clock up to which the update has everything from clock 0.</summary>
    /// <param name="update">The update.</param>
    public static byte[] StateVector(ReadOnlySpan<byte> update)
    {
        var parsed = YParsedUpdate.Parse(update.ToArray());
        var entries = new List<(long Client, long Clock)>();
        if (parsed.Structs.Count > 0)
        {
            var first = parsed.Structs[0];
            var client = first.Client;
            var stop = first.Clock != 0;
            var clock = stop ? 0 : first.End;
            foreach (var s in parsed.Structs) // the first again, as Yjs: a skip there stops the count
            {
                if (client != s.Client)
                {
                    if (clock != 0)
                    {
                        entries.Add((client, clock));
                    }

                    client = s.Client;
                    clock = 0;
                    stop = s.Clock != 0;
                }

                if (s.Kind == YStructKind.Skip)
                {
                    stop = true;
                }

                if (!stop)
                {
                    clock = s.End;
                }
            }

            if (clock != 0)
            {
                entries.Add((client, clock));
            }
        }

        var writer = new Lib0Writer(2 + entries.Count * 8);
        writer.WriteUInt(entries.Count);
        foreach (var (client, clock) in entries)
        {
            writer.WriteUInt(client);
            writer.WriteUInt(clock);
        }

        return writer.ToArray();
    }

    /// <summary>Parses the whole update; throws <see cref="FormatException"/> saying what is wrong if it is truncated or malformed.</summary>
    /// <param name="update">The update.</param>
    /// <returns>How many structs, clients and deleted ranges it has.</returns>
    public static YUpdateInfo Validate(ReadOnlySpan<byte> update)
    {
        var parsed = YParsedUpdate.Parse(update.ToArray());
        return new YUpdateInfo(parsed.Structs.Count, parsed.Structs.Select(s => s.Client).Distinct().Count(),
            parsed.DeleteSet.Sum(d => d.Ranges.Count));
    }

    /// <summary>Validates an encoded state vector (<see cref="FormatException"/> if it is truncated or malformed).</summary>
    /// <param name="stateVector">The state vector.</param>
    public static void ValidateStateVector(ReadOnlySpan<byte> stateVector) => ReadStateVector(stateVector);

    /// <summary>
    /// The text of every root-level <c>Y.Text</c> in the update, by name, as <c>Y.Text.toString()</c> gives it: the
    /// strings of its items in document order (integrated as Yjs does), without deleted ones; formats and embeds add
    /// nothing. Roots that are not text (maps, arrays, XML) are left out.
    /// </summary>
    /// <param name="update">The update, usually a whole document.</param>
    public static IReadOnlyDictionary<string, string> ReadTexts(ReadOnlySpan<byte> update) =>
        YTextReader.Read(YParsedUpdate.Parse(update.ToArray()));

    private static Dictionary<long, long> ReadStateVector(ReadOnlySpan<byte> stateVector)
    {
        var reader = new Lib0Reader(stateVector);
        var state = new Dictionary<long, long>();
        for (var n = reader.ReadCount("number of clients in the state vector"); n > 0; n--)
        {
            state[reader.ReadUInt("state vector client")] = reader.ReadUInt("state vector clock");
        }

        if (!reader.AtEnd)
        {
            throw new FormatException($"{reader.Remaining} bytes follow the end of the state vector at byte {reader.Position}");
        }

        return state;
    }

    /// <summary>Yjs's <c>mergeDeleteSets</c>: every client's ranges, sorted by clock, overlapping and adjacent ones joined.</summary>
    private static List<(long Client, List<YDeleteRange> Ranges)> MergeDeleteSets(List<YParsedUpdate> parsed)
    {
        var merged = new Dictionary<long, List<YDeleteRange>>();
        foreach (var update in parsed)
        {
            foreach (var (client, ranges) in update.DeleteSet)
            {
                if (!merged.TryGetValue(client, out var all))
                {
                    merged[client] = all = new List<YDeleteRange>();
                }

                all.AddRange(ranges);
            }
        }

        var result = new List<(long, List<YDeleteRange>)>();
        foreach (var (client, all) in merged)
        {
            var sorted = all.OrderBy(r => r.Clock).ToList(); // stable, as JavaScript's sort
            var joined = new List<YDeleteRange>(sorted.Count);
            foreach (var range in sorted)
            {
                if (joined.Count > 0 && joined[^1] is var left && left.Clock + left.Length >= range.Clock)
                {
                    joined[^1] = new YDeleteRange(left.Clock, Math.Max(left.Length, range.Clock + range.Length - left.Clock));
                }
                else
                {
                    joined.Add(range);
                }
            }

            result.Add((client, joined));
        }

        return result;
    }

    /// <summary>Yjs's <c>writeDeleteSet</c>: clients from the highest id down, each client's ranges as they are.</summary>
    internal static void WriteDeleteSet(Lib0Writer writer, List<(long Client, List<YDeleteRange> Ranges)> deleteSet)
    {
        writer.WriteUInt(deleteSet.Count);
        foreach (var (client, ranges) in deleteSet.OrderByDescending(d => d.Client))
        {
            writer.WriteUInt(client);
            writer.WriteUInt(ranges.Count);
            foreach (var range in ranges)
            {
                writer.WriteUInt(range.Clock);
                writer.WriteUInt(range.Length);
            }
        }
    }

    /// <summary>Yjs's lazy struct reader over a parsed update.</summary>
    private sealed class StructReader
    {
        private readonly List<YStruct> _structs;
        private readonly bool _filterSkips;
        private int _next;

        public StructReader(List<YStruct> structs, bool filterSkips)
        {
            _structs = structs;
            _filterSkips = filterSkips;
            Next();
        }

        public YStruct? Current { get; private set; }

        /// <summary>Among readers at the same struct, the lower goes first (see <see cref="Merge"/>).</summary>
        public long Rank { get; set; }

        public YStruct? Next()
        {
            do
            {
                Current = _next < _structs.Count ? _structs[_next++] : null;
            }
            while (_filterSkips && Current is { Kind: YStructKind.Skip });

            return Current;
        }
    }

    /// <summary>Yjs's lazy struct writer: structs grouped in runs of one client, each run with its count and first clock.</summary>
    internal sealed class StructWriter
    {
        private readonly List<(int Count, byte[] Bytes)> _runs = new();
        private Lib0Writer _run = new();
        private long _client;
        private int _written;

        public void Write(YStruct s, long offset)
        {
            if (_written > 0 && _client != s.Client)
            {
                Flush();
            }

            if (_written == 0)
            {
                _client = s.Client;
                _run.WriteUInt(s.Client);
                _run.WriteUInt(s.Clock + offset);
            }

            s.Write(_run, offset);
            _written++;
        }

        /// <summary>The structs part of the update (the delete set follows).</summary>
        public Lib0Writer Finish()
        {
            Flush();
            var output = new Lib0Writer(_runs.Sum(r => r.Bytes.Length) + 16);
            output.WriteUInt(_runs.Count);
            foreach (var (count, bytes) in _runs)
            {
                output.WriteUInt(count);
                output.WriteRaw(bytes);
            }

            return output;
        }

        private void Flush()
        {
            if (_written > 0)
            {
                _runs.Add((_written, _run.ToArray()));
                _run = new Lib0Writer();
                _written = 0;
            }
        }
    }

    /// <summary>The order Yjs's merge takes its readers in: higher client first, then lower clock, a struct before a skip.</summary>
    private sealed class ReaderOrder : IComparer<StructReader>
    {
        public static readonly ReaderOrder Instance = new();

        public int Compare(StructReader? x, StructReader? y)
        {
            var a = x!.Current!;
            var b = y!.Current!;
            if (a.Client != b.Client)
            {
                return b.Client.CompareTo(a.Client);
            }

            if (a.Clock != b.Clock)
            {
                return a.Clock.CompareTo(b.Clock);
            }

            if (a.Kind != b.Kind)
            {
                return a.Kind == YStructKind.Skip ? 1 : -1;
            }

            return x.Rank.CompareTo(y.Rank);
        }
    }
}

/// <summary>What <see cref="YUpdate.Validate"/> found in an update.</summary>
/// <param name="Structs">How many structs (items, GC and skip ranges) it has.</param>
/// <param name="Clients">How many clients made them.</param>
/// <param name="DeletedRanges">How many ranges its delete set has.</param>
public readonly record struct YUpdateInfo(int Structs, int Clients, int DeletedRanges);
