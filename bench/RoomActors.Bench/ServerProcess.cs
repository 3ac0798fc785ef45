namespace RoomActors.Bench;

/// <summary>What /proc says about the server under test: CPU time and resident memory.</summary>
internal static class ServerProcess
{
    /// <summary>Clock ticks per second of /proc/PID/stat (getconf CLK_TCK on Linux).</summary>
    public const int ClockTicksPerSecond = 100;

    /// <summary>User plus system CPU time of <paramref name="pid"/>, in clock ticks; null without a pid.</summary>
    public static long? CpuTicks(int? pid)
    {
        if (pid is not { } id)
        {
            return null;
        }

        // Fields 14 and 15 of /proc/PID/stat (after the parenthesised command name): utime and stime, in ticks.
        var stat = File.ReadAllText($"/proc/{id}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[11]) + long.Parse(fields[12]);
    }

    /// <summary>True when <paramref name="pid"/> is gone (or a zombie: exited, not yet reaped).</summary>
    public static bool HasExited(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)] is 'Z' or 'X';
        }
        catch (IOException)
        {
            return true;
        }
    }

    /// <summary>Resident memory of <paramref name="pid"/> in KiB; null without a pid.</summary>
    public static long? RssKiB(int? pid)
    {
        if (pid is not { } id)
        {
            return null;
        }

        var line = File.ReadLines($"/proc/{id}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return line is null ? null : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
    }
}

/// <summary>One server process over the measured window; <paramref name="Exited"/> when it was gone by the end of the run.</summary>
internal sealed record ServerFigure(string Name, int Pid, double CpuPercent, long RssKiB, bool Exited = false);

/// <summary>
/// The processes of the server under test, named: one, or a cluster's silos, gateways and redis-server
/// (<c>--server-pids P,P,…</c> or <c>--server-pid P</c>; <c>--server-names N,N,…</c>, the pids unless given). They are
/// read together and summed; a process that exited (a silo the cluster declared dead stops itself) reads as null from
/// then on.
/// </summary>
internal sealed record ServerProcesses(int[] Pids, string[] Names)
{
    public static ServerProcesses Parse(ArgMap map)
    {
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        const StringSplitOptions Split = StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries;
        var pids = (map.GetValueOrDefault("server-pids") ?? map.GetValueOrDefault("server-pid") ?? "").Split(',', Split)
            .Select(p => int.Parse(p, inv)).ToArray();
        var names = map.Get("server-names", "").Split(',', Split);
        return new ServerProcesses(pids, names.Length == pids.Length ? names : pids.Select(p => p.ToString(inv)).ToArray());
    }

    /// <summary>CPU ticks of each process now (null for one that is gone).</summary>
    public long?[] CpuTicks() => Pids.Select(p => Read(() => ServerProcess.CpuTicks(p))).ToArray();

    /// <summary>Resident memory of each process now, in KiB (null for one that is gone).</summary>
    public long?[] RssKiB() => Pids.Select(p => Read(() => ServerProcess.RssKiB(p))).ToArray();

    /// <summary>The names of the processes that are gone.</summary>
    public IEnumerable<string> Exited() => Pids.Select((p, i) => (p, i)).Where(x => ServerProcess.HasExited(x.p)).Select(x => Names[x.i]);

    /// <summary>Each process's CPU share over <paramref name="seconds"/> (NaN when unreadable at either end) and RSS.</summary>
    public List<ServerFigure> Figures(long?[] cpuStart, long?[] cpuEnd, long?[] rss, double seconds) =>
        Pids.Select((p, i) => new ServerFigure(Names[i], p,
            cpuEnd[i] - cpuStart[i] is { } ticks ? ticks / (double)ServerProcess.ClockTicksPerSecond / seconds * 100 : double.NaN,
            rss[i] ?? 0, ServerProcess.HasExited(p))).ToList();

    /// <summary>The summed CPU share of <paramref name="figures"/> (those readable); null without processes.</summary>
    public static double? CpuPercent(IReadOnlyCollection<ServerFigure> figures) =>
        figures.Count == 0 ? null : figures.Where(s => !double.IsNaN(s.CpuPercent)).Sum(s => s.CpuPercent);

    /// <summary>The summed RSS of <paramref name="figures"/>; null without processes.</summary>
    public static long? RssKiB(IReadOnlyCollection<ServerFigure> figures) => figures.Count == 0 ? null : figures.Sum(s => s.RssKiB);

    private static long? Read(Func<long?> read)
    {
        try
        {
            return read();
        }
        catch (IOException)
        {
            return null;
        }
    }
}

/// <summary>Command-line arguments as <c>--name value</c> pairs.</summary>
internal sealed class ArgMap(Dictionary<string, string> values)
{
    public static ArgMap Parse(string[] args)
    {
        var map = new Dictionary<string, string>();
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            map[args[i].TrimStart('-')] = args[i + 1];
        }

        return new ArgMap(map);
    }

    public string Get(string key, string fallback) => values.GetValueOrDefault(key, fallback);

    public string? GetValueOrDefault(string key) => values.GetValueOrDefault(key);

    public bool TryGetValue(string key, out string value) => values.TryGetValue(key, out value!);

    public int Int(string key, int fallback) => int.Parse(Get(key, fallback.ToString(System.Globalization.CultureInfo.InvariantCulture)), System.Globalization.CultureInfo.InvariantCulture);

    public double Seconds(string key, double fallback) => double.Parse(Get(key, fallback.ToString(System.Globalization.CultureInfo.InvariantCulture)), System.Globalization.CultureInfo.InvariantCulture);

    public int? Pid => TryGetValue("server-pid", out var pid) ? int.Parse(pid, System.Globalization.CultureInfo.InvariantCulture) : null;
}
