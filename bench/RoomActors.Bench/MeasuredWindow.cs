using System.Diagnostics;

namespace RoomActors.Bench;

/// <summary>
/// The measured window of a load scenario: after the warm-up, the server processes' and the generator's CPU and the
/// server processes' RSS around <c>duration</c>; then the senders are told to stop and waited for (at most 10 s). <see cref="Contains"/> says
/// whether a timestamp falls inside it (nothing does before it opens).
/// </summary>
internal sealed class MeasuredWindow
{
    private long _start = long.MaxValue;
    private long _end = long.MaxValue;

    public long Start => _start;

    public long End => _end;

    public bool Contains(long timestamp) => timestamp >= _start && timestamp < _end;

    /// <summary>Each server process's CPU share over the window and RSS at its end; the generator's CPU share.</summary>
    public sealed record Figures(List<ServerFigure> Servers, double GeneratorCpuPercent)
    {
        /// <summary>The server processes' CPU, summed, in % of a core; null without a server pid.</summary>
        public double? ServerCpuPercent => ServerProcesses.CpuPercent(Servers);

        /// <summary>The server processes' RSS at the end of the window, summed; null without a server pid.</summary>
        public long? ServerRssKiB => ServerProcesses.RssKiB(Servers);
    }

    public async Task<Figures> RunAsync(ServerProcesses servers, TimeSpan warmup, TimeSpan duration, CancellationTokenSource stopSending,
        IEnumerable<Task> senders, string who)
    {
        await Task.Delay(warmup);
        var cpuStart = servers.CpuTicks();
        var generatorStart = Process.GetCurrentProcess().TotalProcessorTime;
        var start = Stopwatch.GetTimestamp();
        _end = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        _start = start;
        await Task.Delay(duration);
        var cpuEnd = servers.CpuTicks();
        var generatorEnd = Process.GetCurrentProcess().TotalProcessorTime;
        var rss = servers.RssKiB();
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

        return new Figures(servers.Figures(cpuStart, cpuEnd, rss, duration.TotalSeconds), (generatorEnd - generatorStart).TotalSeconds / duration.TotalSeconds * 100);
    }
}
