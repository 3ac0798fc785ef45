namespace RoomActors.Client.Internal;

/// <summary>
/// The spec's last seen number: <c>welcome SEQ</c> sets it to SEQ; each <c>m</c> and <c>ack</c> frame to its SEQ;
/// <c>resumed SEQ</c> to SEQ once its K replayed frames have arrived (each of them sets it on the way). Having seen
/// <see cref="LastSeq"/> means having seen every earlier message addressed to this client. Not thread-safe: the
/// socket's reader is its only writer.
/// </summary>
internal sealed class SeqTracker
{
    private long _replayLeft;
    private long _replayEnd;

    /// <summary>The last seen number; null before the first welcome.</summary>
    public long? LastSeq { get; private set; }

    /// <summary>True while replayed frames of a <c>resumed</c> are still to come.</summary>
    public bool Replaying => _replayLeft > 0;

    public void OnWelcome(long seq)
    {
        _replayLeft = 0;
        LastSeq = seq;
    }

    public void OnResumed(long seq, long replayed)
    {
        _replayEnd = seq;
        _replayLeft = replayed;
        if (replayed == 0)
        {
            LastSeq = seq;
        }
    }

    /// <summary>An <c>m</c> frame; the last replayed one moves the number on to the <c>resumed</c> SEQ.</summary>
    public void OnMessage(long seq)
    {
        LastSeq = seq;
        if (_replayLeft > 0 && --_replayLeft == 0)
        {
            LastSeq = Math.Max(seq, _replayEnd);
        }
    }

    public void OnAck(long seq) => LastSeq = seq;

    /// <summary>The socket ended: a replay cut short leaves the number at the last frame that arrived.</summary>
    public void OnDisconnected() => _replayLeft = 0;
}
