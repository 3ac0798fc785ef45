namespace RoomActors.Contracts;

/// <summary>
/// The recent messages of one room (send ops with their room sequence numbers), bounded by count, payload bytes and age:
/// the room keeps every message it emitted, a gateway what it applied. Pure: the caller passes the time and holds its
/// own lock.
/// </summary>
/// <remarks>
/// The room's buffer also knows which numbers it can answer for: every number from <see cref="Complete"/> to
/// <see cref="Last"/> is either held or known not to matter. After a crash it is rebuilt from the gateways' buffers
/// (<see cref="Restore"/>); numbers that no surviving gateway held may have reached clients through a gateway that died
/// too, so a client that saw one of them cannot resume (<see cref="CanResumeAfter"/>).
/// <para>
/// It holds copies, not the ops: payload bytes and small records in chunks of up to 64 messages and 4 KiB, taken from
/// and given back to a pool shared by the process. A message then leaves no object behind that lives for minutes: under
/// load every such object survived the GC's youngest generation and was copied again by the next (collections of
/// generations 1 and 2, and their pauses), while a pooled chunk is promoted once and reused. A chunk's two arrays (the
/// records hold no references: a targeted message's ids are kept apart) live on the pinned object heap, so that a filling
/// chunk is not copied from generation to generation either: every room's buffer fills while it is young, and those
/// copies were a third of the collections' pauses with many rooms. The ops it gives out (<see cref="Snapshot"/>,
/// <see cref="TryCollect"/>) are made anew.
/// </para>
/// </remarks>
internal sealed class ReplayBuffer(int maxMessages, long maxBytes, TimeSpan maxAge)
{
    private readonly long _maxAgeMs = (long)maxAge.TotalMilliseconds;
    private Chunk? _head; // the oldest chunk; its entries before _headIndex are gone
    private Chunk? _tail; // the newest chunk
    private int _headIndex;
    private int _headOffset; // where the payload of _head's entry _headIndex begins
    private int _count;
    private long _bytes;
    private long _voidFrom = 1;
    private long _voidTo; // numbers in [_voidFrom, _voidTo] may have been seen by clients whose gateway died: no resume from there

    /// <summary>The latest number (held or accounted for); 0 before the first message.</summary>
    public long Last { get; private set; }

    /// <summary>The lowest number from which every number up to <see cref="Last"/> is held or known not to matter.</summary>
    public long Complete { get; private set; } = 1;

    /// <summary>Messages held.</summary>
    public int Count => _count;

    /// <summary>Payload bytes held.</summary>
    public long Bytes => _bytes;

    /// <summary>The held messages, oldest first (new ops with copies of the payloads).</summary>
    public RoomOp[] Snapshot() => [.. OpsAfter(long.MinValue)];

    /// <summary>
    /// True when <paramref name="op"/> is a re-delivered message numbered at or below <see cref="Last"/>: a gateway's
    /// buffer holds what it applied, so it applied that one already (room numbers only grow across activations), or it
    /// was not addressed to its clients then.
    /// </summary>
    public bool AppliedAlready(RoomOp op) => op.Redelivered && op.Seq <= Last;

    /// <summary>Holds a copy of <paramref name="op"/> (numbered above <see cref="Last"/>; an older or repeated number is ignored) and trims.</summary>
    public void Append(RoomOp op, long nowMs)
    {
        if (op.Seq <= Last)
        {
            return;
        }

        Last = op.Seq;
        Hold(op, nowMs);
    }

    /// <summary>Drops the oldest messages past the count, bytes or age bound; an emptied buffer gives its chunks back.</summary>
    public void Trim(long nowMs)
    {
        TrimFor(0, 0, nowMs);
        if (_count == 0)
        {
            Clear();
        }
    }

    /// <summary>
    /// A new activation's buffer, from what the gateways held (<paramref name="held"/>, any order, repeats allowed).
    /// <paramref name="next"/> is above every number an earlier activation used; it becomes <see cref="Last"/> (a number
    /// no message carries), so that a client that joins before the next message holds a number it can resume from. The
    /// numbers after the latest held one, below <paramref name="next"/>, may have reached clients of gateways that died:
    /// a client that saw one cannot resume. Everything held counts as received now. A room that never numbered a
    /// message (<paramref name="next"/> 1) starts at 0.
    /// </summary>
    public void Restore(IEnumerable<RoomOp> held, long next, long nowMs)
    {
        Clear();
        var sorted = held.Where(o => o.Seq > 0 && o.Seq < next).DistinctBy(o => o.Seq).OrderBy(o => o.Seq).ToList();
        var heldMax = sorted.Count > 0 ? sorted[^1].Seq : 0;

        // Answerable: the unbroken run of held numbers that ends at the latest held one.
        var complete = heldMax + 1;
        for (var i = sorted.Count - 1; i >= 0 && sorted[i].Seq == complete - 1; i--)
        {
            complete--;
        }

        Last = next <= 1 ? 0 : next;
        Complete = sorted.Count > 0 ? complete : Last + 1;
        _voidFrom = heldMax + 1;
        _voidTo = next - 1;
        foreach (var op in sorted.Where(o => o.Seq >= complete))
        {
            Hold(op, nowMs);
        }
    }

    /// <summary>True when a client that saw everything up to <paramref name="lastSeq"/> can be given all it missed.</summary>
    public bool CanResumeAfter(long lastSeq) =>
        lastSeq >= 0 && lastSeq <= Last && lastSeq >= Complete - 1 && !(lastSeq >= _voidFrom && lastSeq <= _voidTo);

    /// <summary>
    /// Adds to <paramref name="missed"/> the held messages after <paramref name="lastSeq"/> that <paramref name="wanted"/>
    /// selects, oldest first; false (nothing added) when <see cref="CanResumeAfter"/> is false.
    /// </summary>
    public bool TryCollect(long lastSeq, Func<RoomOp, bool> wanted, List<RoomOp> missed)
    {
        if (!CanResumeAfter(lastSeq))
        {
            return false;
        }

        missed.AddRange(OpsAfter(lastSeq).Where(wanted));
        return true;
    }

    /// <summary>The held messages numbered above <paramref name="seq"/>, oldest first, as new ops.</summary>
    private IEnumerable<RoomOp> OpsAfter(long seq)
    {
        for (var chunk = _head; chunk is not null; chunk = chunk.Next)
        {
            var offset = chunk == _head ? _headOffset : 0;
            for (var i = chunk == _head ? _headIndex : 0; i < chunk.Count; i++)
            {
                var entry = chunk.Entries[i];
                if (entry.Seq > seq)
                {
                    yield return entry.ToOp(chunk.Data.AsSpan(offset, entry.Length), chunk.Ids?[i]);
                }

                offset += entry.Length;
            }
        }
    }

    /// <summary>Copies <paramref name="op"/> in after making room for it; a message larger than the byte bound is not held.</summary>
    private void Hold(RoomOp op, long nowMs)
    {
        var payload = op.Payload?.Data ?? [];
        TrimFor(1, payload.Length, nowMs);
        if (_count >= maxMessages || payload.Length > maxBytes)
        {
            Complete = Math.Max(Complete, op.Seq + 1); // held for no time: dropped as the oldest at once
            return;
        }

        var chunk = _tail;
        if (chunk is null || chunk.Count == chunk.Entries.Length || chunk.Used + payload.Length > chunk.Data.Length)
        {
            if (_count == 0)
            {
                Clear(); // an emptied chunk that is too small: no chunk without a held message stays in the row
            }

            chunk = Chunk.After(chunk, payload.Length); // sized after the last chunk (only its lengths are read)
            if (_tail is null)
            {
                _head = chunk;
            }
            else
            {
                _tail.Next = chunk;
            }

            _tail = chunk;
        }

        payload.CopyTo(chunk.Data, chunk.Used);
        if (op.Ids is not null)
        {
            (chunk.Ids ??= new string[]?[chunk.Entries.Length])[chunk.Count] = op.Ids;
        }

        chunk.Entries[chunk.Count++] = Entry.Of(op, nowMs);
        chunk.Used += payload.Length;
        _count++;
        _bytes += payload.Length;
    }

    /// <summary>Drops the oldest messages until <paramref name="messages"/> more of <paramref name="bytes"/> fit and none is too old.</summary>
    private void TrimFor(int messages, int bytes, long nowMs)
    {
        while (_count > 0)
        {
            var head = _head!;
            ref var oldest = ref head.Entries[_headIndex];
            if (_count + messages <= maxMessages && _bytes + bytes <= maxBytes && nowMs - oldest.At <= _maxAgeMs)
            {
                return;
            }

            Complete = Math.Max(Complete, oldest.Seq + 1);
            _count--;
            _bytes -= oldest.Length;
            _headOffset += oldest.Length;
            if (head.Ids is { } ids)
            {
                ids[_headIndex] = null; // no reference kept to its ids
            }

            if (++_headIndex < head.Count)
            {
                continue;
            }

            // The head chunk is used up: the next one is the head, or this one starts over when it was the last.
            _headIndex = 0;
            _headOffset = 0;
            if (head == _tail)
            {
                head.Count = 0;
                head.Used = 0;
            }
            else
            {
                _head = head.Next;
                Chunk.Release(head);
            }
        }
    }

    /// <summary>Holds nothing; the chunks go back to the pool.</summary>
    private void Clear()
    {
        for (var chunk = _head; chunk is not null;)
        {
            var next = chunk.Next;
            if (chunk.Ids is { } ids)
            {
                Array.Clear(ids, 0, chunk.Count);
            }

            Chunk.Release(chunk);
            chunk = next;
        }

        _head = _tail = null;
        _headIndex = _headOffset = _count = 0;
        _bytes = 0;
    }

    /// <summary>
    /// One held message, its payload in its chunk's bytes after the payloads of the entries before it, its ids (if any) in
    /// the chunk's <see cref="Chunk.Ids"/>. No references: the chunk's array of them is on the pinned object heap.
    /// </summary>
    private struct Entry
    {
        public long Seq;
        public long At;
        public int Length;
        public byte Target; // a TargetKind (an int): the entry stays at 24 bytes
        public EntryFlags Flags;

        public static Entry Of(RoomOp op, long nowMs) => new()
        {
            Seq = op.Seq,
            At = nowMs,
            Length = op.Payload?.Data.Length ?? 0,
            Target = (byte)op.Target,
            Flags = (op.Payload is null ? EntryFlags.NoPayload : 0)
                | (op.Payload?.IsText == true ? EntryFlags.Text : 0)
                | (op.Redelivered ? EntryFlags.Redelivered : 0),
        };

        public readonly RoomOp ToOp(ReadOnlySpan<byte> payload, string[]? ids) => new(
            RoomOpKind.Send,
            (Flags & EntryFlags.NoPayload) != 0 ? null : new Payload((Flags & EntryFlags.Text) != 0, payload.ToArray()),
            (TargetKind)Target,
            ids,
            Seq: Seq,
            Redelivered: (Flags & EntryFlags.Redelivered) != 0);
    }

    [Flags]
    private enum EntryFlags : byte
    {
        Text = 1,
        Redelivered = 2,
        NoPayload = 4,
    }

    /// <summary>
    /// Messages in a row: a buffer's first chunks are small (8 messages, 512 bytes, doubling), so that a quiet room holds
    /// little; the full size (64 messages, 4 KiB) comes from a pool and goes back to it. A payload larger than a chunk gets
    /// a chunk of its size.
    /// </summary>
    private sealed class Chunk(int entries, int bytes)
    {
        private const int SmallEntries = 8;
        private const int SmallBytes = 512;
        private const int FullEntries = 64;
        private const int FullBytes = 4096;
        private const int PoolSize = 256;
        private static readonly Stack<Chunk> Pool = new(); // locked

        public readonly Entry[] Entries = GC.AllocateUninitializedArray<Entry>(entries, pinned: true);
        public readonly byte[] Data = GC.AllocateUninitializedArray<byte>(bytes, pinned: true);
        public string[]?[]? Ids; // the targeted messages' connection ids, by entry; made for the first one
        public int Count;
        public int Used;
        public Chunk? Next;

        private bool Full => Entries.Length == FullEntries && Data.Length == FullBytes;

        /// <summary>The chunk after <paramref name="last"/> (twice its size up to the full one) that holds <paramref name="length"/> bytes.</summary>
        public static Chunk After(Chunk? last, int length)
        {
            var entries = last is null ? SmallEntries : Math.Min(last.Entries.Length * 2, FullEntries);
            var bytes = last is null ? SmallBytes : Math.Min(Math.Max(last.Data.Length, SmallBytes) * 2, FullBytes);
            if (length > bytes)
            {
                return new Chunk(entries, length);
            }

            if (entries == FullEntries && bytes == FullBytes)
            {
                lock (Pool)
                {
                    if (Pool.TryPop(out var pooled))
                    {
                        return pooled;
                    }
                }
            }

            return new Chunk(entries, bytes);
        }

        /// <summary>Gives a used-up chunk (its entries cleared) back to the pool when it is a full one and the pool has room.</summary>
        public static void Release(Chunk chunk)
        {
            chunk.Count = 0;
            chunk.Used = 0;
            chunk.Next = null;
            if (chunk.Full)
            {
                lock (Pool)
                {
                    if (Pool.Count < PoolSize)
                    {
                        Pool.Push(chunk);
                    }
                }
            }
        }
    }
}
