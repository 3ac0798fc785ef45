namespace RoomActors.Gateway.Hosting;

/// <summary>
/// Where the cluster is. Configuration section <c>RoomActors</c>; shared by silos and gateways.
/// Command line: <c>--redis</c>, <c>--silo-port</c>, <c>--gateway-port</c>, <c>--cluster-id</c>, <c>--service-id</c>.
/// </summary>
public sealed class RoomActorsOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "RoomActors";

    /// <summary>Redis <c>host:port</c> for membership, state and reminders. Empty (default): embedded all-in-one mode.</summary>
    public string? Redis { get; set; }

    /// <summary>The silo-to-silo port. Default 11111.</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>The port Orleans clients (standalone gateways) connect to. Default 30000.</summary>
    public int GatewayPort { get; set; } = 30000;

    /// <summary>The Orleans cluster id: processes with the same id form one cluster. Default <c>roomactors</c>.</summary>
    public string ClusterId { get; set; } = "roomactors";

    /// <summary>The Orleans service id: keys durable state; keep it across deployments. Default <c>roomactors</c>.</summary>
    public string ServiceId { get; set; } = "roomactors";

    /// <summary>The listen URL when none is configured (<c>--urls</c>).</summary>
    public const string DefaultUrls = "http://localhost:8080";
}
