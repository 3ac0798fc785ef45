using System.Diagnostics;

namespace RoomActors.Bench;

/// <summary>
/// The measured window of a load scenario: after the warm-up, the server's and the generator's CPU and the server's RSS
/// around <c>duration</c>; then the senders are told to stop and waited for (at most 10 s). <see cref="Contains"/> says
/// whether a timestamp falls inside it (nothing does before it opens).
/// </summary>
internal sealed class MeasuredWindow
{
    private long _start = long.MaxValue;
    private long _end = long.MaxValue;

    public long Start => _start;

    public long End => _end;

    public bool Contains(long timestamp) => timestamp >= _start && timestamp < _end;

    /// <summary>Server CPU ticks at the start and end (null when unreadable), generator CPU at both, server RSS at the end.</summary>
    public sealed record Figures(long? ServerCpuStart, long? ServerCpuEnd, TimeSpan GeneratorCpuStart, TimeSpan GeneratorCpuEnd, long? ServerRssKiB);

    public async Task<Figures> RunAsync(int? serverPid, TimeSpan warmup, TimeSpan duration, CancellationTokenSource stopSending,
        IEnumerable<Task> senders, string who)
    {
        await Task.Delay(warmup);
        var cpuStart = ServerProcess.CpuTicks(serverPid);
        var generatorStart = Process.GetCurrentProcess().TotalProcessorTime;
        var start = Stopwatch.GetTimestamp();
        _end = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        _start = start;
        await Task.Delay(duration);
        var cpuEnd = ServerProcess.CpuTicks(serverPid);
        var generatorEnd = Process.GetCurrentProcess().TotalProcessorTime;
        var rss = ServerProcess.RssKiB(serverPid);
        stopSending.Cancel();
        try
        {
            await Task.WhenAll(senders).WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
            // A send stuck on a server that stopped reading: the counts the caller reports show what arrived.
            Console.Error.WriteLine($"bench: some {who} did not stop sending within 10 s");
        }

        return new Figures(cpuStart, cpuEnd, generatorStart, generatorEnd, rss);
    }
}
