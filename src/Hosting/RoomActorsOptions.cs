namespace RoomActors.Hosting;

/// <summary>
/// Where the cluster is. Configuration section <c>RoomActors</c>; shared by silos and gateways.
/// Command line: <c>--redis</c>, <c>--silo-port</c>, <c>--client-port</c> (formerly <c>--gateway-port</c>, still accepted), <c>--cluster-id</c>, <c>--service-id</c>,
/// <c>--advertised-ip</c>, <c>--samples</c>, <c>--management-urls</c>.
/// </summary>
public sealed class RoomActorsOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "RoomActors";

    /// <summary>Redis <c>host:port</c> for membership, state and reminders. Empty (default): embedded all-in-one mode.</summary>
    public string? Redis { get; set; }

    /// <summary>The silo-to-silo port. Default 11111.</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>
    /// The silo's port for Orleans clients: the standalone WebSocket gateways connect to the cluster through it (Orleans
    /// calls this its "gateway" port). Default 30000. Formerly <c>RoomActors:GatewayPort</c> / <c>--gateway-port</c>;
    /// both are still accepted.
    /// </summary>
    public int ClientPort { get; set; } = 30000;

    /// <summary>
    /// The most connections each of a silo's two Orleans ports (<see cref="SiloPort"/>, <see cref="ClientPort"/>) holds at
    /// once; one more is closed in the accept loop. A cluster needs one per other silo on the silo port and one per
    /// gateway on the client port. 0 (default): derived from the process's file-descriptor limit (an eighth of the
    /// descriptors kept out of the WebSocket budget: 125 at 2,000, at most 1,024), so a flood of idle connects cannot
    /// exhaust the descriptors; no cap when the limit is unknown.
    /// </summary>
    public int MaxClusterConnections { get; set; }

    /// <summary>
    /// The most room addresses a silo keeps in Orleans' grain directory cache (rooms whose directory entry another silo
    /// holds; a room found there needs no directory lookup before a call). Default 100,000; 0: no cache. Orleans' own
    /// default, 1,000,000, allocates its table up front (about 9 MB) and its size gauge walks the whole table each time the
    /// metrics are read: once a second by the Orleans Dashboard's silo side, about 5 ms of a core each time, which showed as
    /// the latency tail of a busy silo (bench/README). Past this many rooms in the cluster the least recently used
    /// addresses are looked up again. Sets <c>GrainDirectoryOptions.CacheSize</c>; a host's own
    /// <c>Configure&lt;GrainDirectoryOptions&gt;</c> after <see cref="RoomActorsSiloExtensions.UseRoomActorsSilo"/> wins.
    /// </summary>
    public int DirectoryCacheSize { get; set; } = 100_000;

    /// <summary>The Orleans cluster id: processes with the same id form one cluster. Default <c>roomactors</c>.</summary>
    public string ClusterId { get; set; } = "roomactors";

    /// <summary>The Orleans service id: keys durable state; keep it across deployments. Default <c>roomactors</c>.</summary>
    public string ServiceId { get; set; } = "roomactors";

    /// <summary>
    /// The IP address a silo advertises to the cluster (silos advertise addresses, not host names). Default: the
    /// loopback address when Redis is on loopback, else this machine's first non-loopback IPv4 address.
    /// </summary>
    public string? AdvertisedIp { get; set; }

    /// <summary>
    /// Whether a silo hosts the sample rooms (<c>chat</c>, <c>echo</c>, <c>counter</c>, <c>broadcast</c>,
    /// <c>countdown</c>: the grain classes of the <c>RoomActors.Samples</c> assembly) when the app references them.
    /// Default true; <c>--samples false</c> keeps them out of the silo, and their room types answer 404.
    /// </summary>
    public bool Samples { get; set; } = true;

    /// <summary>
    /// Where a silo without a web server (Redis mode, no <c>--urls</c>) serves <c>/health/live</c>, <c>/health/ready</c>
    /// and <c>/metrics</c>: Kestrel URLs separated by <c>;</c>, e.g. <c>http://0.0.0.0:9090</c>. Null (default): no
    /// management port. These endpoints are open, as probes and scrapers expect: bind an address of an internal network.
    /// Processes with <c>--urls</c> serve them there and refuse this setting.
    /// </summary>
    public string? ManagementUrls { get; set; }

    /// <summary>The listen URL of the all-in-one mode when none is configured (<c>--urls</c>).</summary>
    public const string DefaultUrls = "http://localhost:8080";

    /// <summary>True when <see cref="Redis"/> is set: distributed mode.</summary>
    public bool IsDistributed => !string.IsNullOrWhiteSpace(Redis);

    /// <summary>The address to advertise: <see cref="AdvertisedIp"/>, or the default described there.</summary>
    public System.Net.IPAddress ResolveAdvertisedIp()
    {
        if (!string.IsNullOrWhiteSpace(AdvertisedIp))
        {
            return System.Net.IPAddress.TryParse(AdvertisedIp, out var configured)
                ? configured
                : throw new InvalidOperationException($"RoomActors:AdvertisedIp '{AdvertisedIp}' is not an IP address; give one like 10.0.0.5 (silos advertise addresses, not host names).");
        }

        var redisHost = (Redis ?? "").Split(',')[0].Split(':')[0];
        if (redisHost is "localhost" || (System.Net.IPAddress.TryParse(redisHost, out var redisIp) && System.Net.IPAddress.IsLoopback(redisIp)))
        {
            return System.Net.IPAddress.Loopback;
        }

        return System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == System.Net.NetworkInformation.OperationalStatus.Up)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && !System.Net.IPAddress.IsLoopback(a))
            ?? System.Net.IPAddress.Loopback;
    }
}
