namespace RoomActors;

/// <summary>
/// Room runtime settings. Configuration section <c>RoomActors:Rooms</c> (bound by the silo host).
/// </summary>
public sealed class RoomOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "RoomActors:Rooms";

    /// <summary>The largest per-connection state, serialized as JSON: 16 KiB.</summary>
    public const int MaxConnectionStateBytes = 16 * 1024;

    /// <summary>The name of the grain storage provider rooms persist their state in.</summary>
    public const string StorageName = "roomactors";

    /// <summary>
    /// How long a gateway may go without reporting to the gateway registry before it counts as dead (gateways report
    /// every <c>RoomActors:Gateway:RenewInterval</c>, 5 s by default). Rooms then close its connections in their eyes
    /// with 1006 and run their close hooks. Keep it at least three times the gateways' <c>RenewInterval</c> (a silo
    /// co-hosting the gateway checks this at start; standalone gateways cannot be checked from here). Default 20 s.
    /// </summary>
    public TimeSpan GatewayLease { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// A room with connections but no traffic leaves memory after this long (hibernation); its connections — ids,
    /// gateways, tags, per-connection state — are durable and the next message, connect, close, HTTP request or alarm
    /// brings it back with all of them. Sockets never notice. <see cref="TimeSpan.Zero"/> turns it off. Default 30 s.
    /// </summary>
    public TimeSpan HibernateAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A room without connections and without an alarm leaves memory after this long without a turn (its state is
    /// durable: the next request brings it back). Bounds what a room-name flood can hold in memory; without it an
    /// empty room stays for Orleans' collection age (15 minutes). <see cref="TimeSpan.Zero"/>: Orleans' age. Default 2 minutes.
    /// </summary>
    public TimeSpan IdleCollectAfter { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>The first retry delay of a throwing alarm hook; each retry doubles it. Default 2 s.</summary>
    public TimeSpan AlarmRetryBase { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How often an awake room with connections checks its gateways' liveness. Default 5 s.</summary>
    public TimeSpan LeaseCheckInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a <c>roomactors.v1</c> client whose socket ended (network drop, gateway gone) can resume its connection:
    /// it stays a member meanwhile, and its close hook runs when the window passes (checked every
    /// <see cref="LeaseCheckInterval"/>). Also the longest a message is kept for replay. Default 2 minutes.
    /// </summary>
    public TimeSpan ResumeWindow { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Most recent messages a room keeps for resumes (with <see cref="ReplayBytes"/> and <see cref="ResumeWindow"/>). Default 1024.</summary>
    public int ReplayMessages { get; set; } = 1024;

    /// <summary>
    /// Admission control: while the event first in line for the room's turn has waited this long, the room refuses new
    /// connections with 1013 (try again later) at once, instead of queueing them behind everyone (a gateway would give up
    /// on a connect after <c>RoomActors:Gateway:RoomCallTimeout</c>, 4 s, and ask again into the same queue). Members'
    /// messages are never refused. Keep it below that timeout. <see cref="TimeSpan.Zero"/> turns it off. Default 2 s.
    /// </summary>
    public TimeSpan BusyAfter { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Most payload bytes a room keeps for resumes. Default 1 MiB.</summary>
    public long ReplayBytes { get; set; } = 1024 * 1024;
}
