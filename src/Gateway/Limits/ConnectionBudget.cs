using System.Globalization;

namespace RoomActors.Gateway.Limits;

/// <summary>
/// How many connections this process can hold without running out of file descriptors: every socket is one, and a
/// process out of descriptors fails where it cannot recover (the accept loop spins, a thread cannot start, the runtime
/// aborts). A pure calculation from the descriptor limit and the configuration; <see cref="ReadDescriptorLimit"/> reads
/// the limit.
/// </summary>
/// <param name="WebSockets">Most WebSocket connections at once; a further upgrade is refused with 503 and <c>Retry-After</c>.</param>
/// <param name="Tcp">
/// Kestrel's <c>MaxConcurrentConnections</c> (every TCP connection, upgraded or not, idle or not): a further one is
/// closed right after the accept. Null for no limit (the descriptor limit is unknown and none was configured).
/// </param>
internal readonly record struct ConnectionBudget(int WebSockets, long? Tcp)
{
    /// <summary>The fewest descriptors kept for everything that is not a client connection.</summary>
    public const int MinReserve = 512;

    /// <summary>The most descriptors kept for everything that is not a client connection.</summary>
    public const int MaxReserve = 8192;

    /// <summary>
    /// Descriptors kept for what is not a held client connection: Redis, the silos, Orleans' own ports, files, the
    /// runtime's own handles (an idle all-in-one process holds about 280), and the connections Kestrel accepted past its
    /// limit and has not closed yet (a burst of connects is accepted faster than it is closed: with 512 of 2,000
    /// kept, a burst of 2,500 still exhausted the descriptors in one run of four). Half of the limit, at least
    /// <see cref="MinReserve"/>, at most <see cref="MaxReserve"/>.
    /// </summary>
    public static long Reserve(long descriptorLimit) => Math.Clamp(descriptorLimit / 2, MinReserve, MaxReserve);

    /// <summary>
    /// The budget for a process allowed <paramref name="descriptorLimit"/> descriptors (null: unknown or unlimited) with
    /// <paramref name="configuredWebSockets"/> (0: derive it) and <paramref name="configuredTcp"/> (Kestrel's own
    /// setting, null when not configured). Derived: TCP connections get the limit minus <see cref="Reserve"/>, WebSockets
    /// nine tenths of that (the rest answers HTTP and the 503s). Configured WebSockets get a tenth more TCP connections
    /// (at least 16), never more than the descriptors allow. A configured Kestrel limit is kept as it is.
    /// </summary>
    public static ConnectionBudget For(long? descriptorLimit, int configuredWebSockets, long? configuredTcp)
    {
        long? available = descriptorLimit is { } limit ? Math.Max(1, limit - Reserve(limit)) : null;
        long webSockets = configuredWebSockets > 0
            ? configuredWebSockets
            : available is { } a ? Math.Max(1, a - a / 10) : int.MaxValue;
        long? tcp = configuredTcp
            ?? (configuredWebSockets > 0
                ? Math.Min(webSockets + Math.Max(16, webSockets / 10), available ?? long.MaxValue)
                : available);
        return new ConnectionBudget((int)Math.Min(webSockets, int.MaxValue), tcp == long.MaxValue ? null : tcp);
    }

    /// <summary>
    /// This process's soft limit of open files (<c>RLIMIT_NOFILE</c>, "Max open files" in <c>/proc/self/limits</c>);
    /// null where that file does not exist (not Linux) or says unlimited. .NET raises the soft limit to the hard one at
    /// start, so this is the number the process can really use.
    /// </summary>
    public static long? ReadDescriptorLimit(string path = "/proc/self/limits")
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Fall back to no derived limit: without the file (not Linux, or a sandbox hiding /proc) the limit is unknown;
            // RoomActors:Gateway:MaxConnections still caps connections.
            return null;
        }

        return ParseDescriptorLimit(lines);
    }

    /// <summary>The soft "Max open files" limit in the lines of a <c>/proc/[pid]/limits</c> file.</summary>
    public static long? ParseDescriptorLimit(IEnumerable<string> lines)
    {
        foreach (var line in lines)
        {
            if (!line.StartsWith("Max open files", StringComparison.Ordinal))
            {
                continue;
            }

            // "Max open files            2000                 2000                 files"
            var fields = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return fields.Length > 0 && long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var soft) ? soft : null;
        }

        return null;
    }
}
