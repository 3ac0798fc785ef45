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
