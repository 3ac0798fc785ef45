namespace RoomActors.Contracts;

/// <summary>
/// The recent messages of one room (send ops with their room sequence numbers), bounded by count, payload bytes and age:
/// the room keeps every message it emitted, a gateway what it applied. Pure: the caller passes the time and holds its
/// own lock. The payloads are the ops' own (no copy).
/// </summary>
/// <remarks>
/// The room's buffer also knows which numbers it can answer for: every number from <see cref="Complete"/> to
/// <see cref="Last"/> is either held or known not to matter. After a crash it is rebuilt from the gateways' buffers
/// (<see cref="Restore"/>); numbers that no surviving gateway held may have reached clients through a gateway that died
/// too, so a client that saw one of them cannot resume (<see cref="CanResumeAfter"/>).
/// </remarks>
internal sealed class ReplayBuffer(int maxMessages, long maxBytes, TimeSpan maxAge)
{
    private readonly Queue<(RoomOp Op, long At)> _entries = new();
    private readonly long _maxAgeMs = (long)maxAge.TotalMilliseconds;
    private long _bytes;
    private long _voidFrom = 1;
    private long _voidTo; // numbers in [_voidFrom, _voidTo] may have been seen by clients whose gateway died: no resume from there

    /// <summary>The latest number (held or accounted for); 0 before the first message.</summary>
    public long Last { get; private set; }

    /// <summary>The lowest number from which every number up to <see cref="Last"/> is held or known not to matter.</summary>
    public long Complete { get; private set; } = 1;

    /// <summary>Messages held.</summary>
    public int Count => _entries.Count;

    /// <summary>Payload bytes held.</summary>
    public long Bytes => _bytes;

    /// <summary>The held messages, oldest first.</summary>
    public RoomOp[] Snapshot() => [.. _entries.Select(e => e.Op)];

    /// <summary>
    /// True when <paramref name="op"/> is a re-delivered message numbered at or below <see cref="Last"/>: a gateway's
    /// buffer holds what it applied, so it applied that one already (room numbers only grow across activations), or it
    /// was not addressed to its clients then.
    /// </summary>
    public bool AppliedAlready(RoomOp op) => op.Redelivered && op.Seq <= Last;

    /// <summary>Holds <paramref name="op"/> (numbered above <see cref="Last"/>; an older or repeated number is ignored) and trims.</summary>
    public void Append(RoomOp op, long nowMs)
    {
        if (op.Seq <= Last)
        {
            return;
        }

        _entries.Enqueue((op, nowMs));
        _bytes += op.Payload?.Data.Length ?? 0;
        Last = op.Seq;
        Trim(nowMs);
    }

    /// <summary>Drops the oldest messages past the count, bytes or age bound.</summary>
    public void Trim(long nowMs)
    {
        while (_entries.TryPeek(out var oldest)
            && (_entries.Count > maxMessages || _bytes > maxBytes || nowMs - oldest.At > _maxAgeMs))
        {
            _entries.Dequeue();
            _bytes -= oldest.Op.Payload?.Data.Length ?? 0;
            Complete = Math.Max(Complete, oldest.Op.Seq + 1);
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
        _entries.Clear();
        _bytes = 0;
        var sorted = held.Where(o => o.Seq > 0 && o.Seq < next).DistinctBy(o => o.Seq).OrderBy(o => o.Seq).ToList();
        var heldMax = sorted.Count > 0 ? sorted[^1].Seq : 0;

        // Answerable: the unbroken run of held numbers that ends at the latest held one.
        var complete = heldMax + 1;
        for (var i = sorted.Count - 1; i >= 0 && sorted[i].Seq == complete - 1; i--)
        {
            complete--;
        }

        foreach (var op in sorted.Where(o => o.Seq >= complete))
        {
            _entries.Enqueue((op, nowMs));
            _bytes += op.Payload?.Data.Length ?? 0;
        }

        Last = next <= 1 ? 0 : next;
        Complete = sorted.Count > 0 ? complete : Last + 1;
        _voidFrom = heldMax + 1;
        _voidTo = next - 1;
        Trim(nowMs);
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

        foreach (var (op, _) in _entries)
        {
            if (op.Seq > lastSeq && wanted(op))
            {
                missed.Add(op);
            }
        }

        return true;
    }
}
