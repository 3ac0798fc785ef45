namespace RoomActors.Client.Internal;

/// <summary>
/// The wait before reconnect attempt <c>attempt</c> (0 for the first after a drop): exponential from the minimum,
/// capped at the maximum, with "equal jitter" (between half and all of it) so that clients dropped together do not
/// come back together. The same rule as the JavaScript client's <c>reconnectDelay</c>.
/// </summary>
internal static class Backoff
{
    /// <param name="attempt">0 for the first attempt after a drop, 1 for the next…</param>
    /// <param name="min">The first wait's ceiling.</param>
    /// <param name="max">The largest ceiling.</param>
    /// <param name="random">A value in [0, 1): <see cref="Random.NextDouble"/>, or a fixed one in tests.</param>
    public static TimeSpan Delay(int attempt, TimeSpan min, TimeSpan max, double random)
    {
        var ceiling = Math.Min(max.Ticks, min.Ticks * Math.Pow(2, Math.Min(attempt, 30)));
        return TimeSpan.FromTicks((long)(ceiling / 2 + random * (ceiling / 2)));
    }
}
