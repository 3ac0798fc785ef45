namespace RoomActors.Gateway.Limits;

/// <summary>
/// Counts refusals (connections closed at a cap) and says when one is worth a log line: the first, then at most one a
/// <see cref="Interval"/>, so a flood of refused connections is a line every few seconds with the running count, not a
/// line per connection.
/// </summary>
internal sealed class RefusalThrottle(TimeSpan interval)
{
    private long _total;
    private long _lastLog = long.MinValue / 2; // "long ago", without overflowing now - _lastLog

    /// <summary>The least time between two log lines.</summary>
    public TimeSpan Interval { get; } = interval;

    /// <summary>Refusals counted since start.</summary>
    public long Total => Interlocked.Read(ref _total);

    /// <summary>Counts <paramref name="count"/> refusals; true when the caller should log now (with <see cref="Total"/>).</summary>
    public bool Count(long count = 1)
    {
        Interlocked.Add(ref _total, count);
        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref _lastLog);
        return now - last >= (long)Interval.TotalMilliseconds && Interlocked.CompareExchange(ref _lastLog, now, last) == last;
    }
}
