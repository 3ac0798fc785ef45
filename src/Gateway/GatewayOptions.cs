using System.ComponentModel.DataAnnotations;

namespace RoomActors.Gateway;

/// <summary>
/// How the gateway treats sockets. Configuration section <c>RoomActors:Gateway</c>
/// (environment <c>RoomActors__Gateway__MaxMessageBytes</c>, command line <c>--RoomActors:Gateway:MaxMessageBytes</c>).
/// </summary>
public sealed class GatewayOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "RoomActors:Gateway";

    /// <summary>Largest inbound message in bytes; a larger one closes the socket with 1009. Default 1 MiB.</summary>
    [Range(1, int.MaxValue)]
    public int MaxMessageBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// Most messages waiting to be written to one client; a client that falls further behind is closed with 1008.
    /// Default 1024.
    /// </summary>
    [Range(1, int.MaxValue)]
    public int OutboundQueueMessages { get; set; } = 1024;

    /// <summary>Most bytes waiting to be written to one client; past it the client is closed with 1008. Default 4 MiB.</summary>
    [Range(1, long.MaxValue)]
    public long OutboundQueueBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Most inbound events of one room queued on this gateway before readers wait (back-pressure). Default 4096.</summary>
    [Range(1, int.MaxValue)]
    public int InboundQueueEvents { get; set; } = 4096;

    /// <summary>Most inbound events sent to a room in one call. Only what is already queued is batched. Default 256.</summary>
    [Range(1, int.MaxValue)]
    public int MaxBatchEvents { get; set; } = 256;

    /// <summary>
    /// How long a closing socket may take to finish the close handshake (or a stuck write may take) before the
    /// connection is aborted. Default 5 s.
    /// </summary>
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long the gateway waits for a missing room delivery before it closes the room's local clients with 1012
    /// so that they reconnect and resynchronise. Default 10 s.
    /// </summary>
    public TimeSpan ResyncTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Most recent messages of one room this gateway keeps (with <see cref="ReplayBytes"/> and <see cref="ReplayAge"/>):
    /// a room that comes back after its silo died rebuilds its replay buffer from the gateways' and re-delivers what one
    /// gateway had to the others. Default 1024.
    /// </summary>
    [Range(1, int.MaxValue)]
    public int ReplayMessages { get; set; } = 1024;

    /// <summary>Most payload bytes of one room this gateway keeps for replay. Default 1 MiB.</summary>
    [Range(1, long.MaxValue)]
    public long ReplayBytes { get; set; } = 1024 * 1024;

    /// <summary>How long this gateway keeps a room's message for replay; match the rooms' <c>ResumeWindow</c>. Default 2 minutes.</summary>
    public TimeSpan ReplayAge { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// When the gateway runs in a silo's process: hand each batch of messages to a room active in this process directly,
    /// queued on the room's own scheduler as a turn like any other, instead of as an Orleans request and response.
    /// Default true; false sends every batch through Orleans (for comparison, or to rule it out).
    /// </summary>
    public bool LocalRooms { get; set; } = true;

    /// <summary>
    /// A <c>node_modules</c> folder holding the npm packages yjs, lib0, y-protocols and y-websocket, which the editor page
    /// at <c>/doc</c> loads as ES modules (the repository does not ship them). A relative path starts at the working
    /// directory. Default <c>tests/yjs/node_modules</c>: what <c>./test.sh</c> (or <c>npm ci</c> in <c>tests/yjs</c>)
    /// installs, for a server started from the repository's root. Without them <c>/doc</c> says how to get them.
    /// </summary>
    public string YjsModules { get; set; } = "tests/yjs/node_modules";

    /// <summary>How long shutdown waits for sockets to close and rooms to hear of it. Default 10 s.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Request headers passed to the room's connect hook (case-insensitive). Default: user-agent, origin. The HTTP hook
    /// sees every header but the credentials (<c>authorization</c>, <c>cookie</c>), which it sees only when listed here.
    /// </summary>
    public List<string> ForwardedHeaders { get; set; } = ["user-agent", "origin"];

    /// <summary>
    /// How often the gateway reports itself alive to the cluster's gateway registry (rooms drop the connections of a
    /// gateway silent for <c>RoomActors:Rooms:GatewayLease</c>, 20 s by default). Default 5 s. Keep it at most a third of
    /// the silos' <c>RoomActors:Rooms:GatewayLease</c>, so that a live gateway may miss two reports; a silo co-hosting
    /// the gateway checks this at start, elsewhere the two settings live in different processes.
    /// </summary>
    public TimeSpan RenewInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long the gateway keeps retrying a room that cannot be reached (its silo died; it comes back on another)
    /// before it closes the room's local clients with 1011. Must be above <see cref="RoomCallTimeout"/>. Default 30 s.
    /// </summary>
    public TimeSpan RoomUnavailableTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long the gateway waits for a room to take a batch before it sends the batch again (the room recognises
    /// and skips a batch it already processed). Keeps failover fast when the room's silo died. Default 4 s.
    /// </summary>
    public TimeSpan RoomCallTimeout { get; set; } = TimeSpan.FromSeconds(4);

    /// <summary>
    /// The gateway answers this exact text message itself, without waking the room (e.g. <c>ping</c>); the room sees
    /// when each connection last sent it (<c>Connection.LastPing</c>). Null (default): off.
    /// </summary>
    public string? AutoResponseRequest { get; set; }

    /// <summary>The answer to <see cref="AutoResponseRequest"/> (e.g. <c>pong</c>).</summary>
    public string? AutoResponseResponse { get; set; }

    /// <summary>
    /// Most WebSocket connections this gateway holds at once; a further upgrade is refused with 503 and
    /// <c>Retry-After</c> before it happens. Kestrel's <c>MaxConcurrentConnections</c> (every TCP connection, idle ones
    /// included) is set a tenth above it unless <c>Kestrel:Limits:MaxConcurrentConnections</c> is configured; neither
    /// goes above what the process's descriptor limit allows. 0 (default): derived from the descriptor limit read at
    /// start (<c>RLIMIT_NOFILE</c>) minus a reserve of half of it (512 to 8192) for Redis, the silos, files and refused connections,
    /// nine tenths of the rest for WebSockets.
    /// </summary>
    [Range(0, int.MaxValue)]
    public int MaxConnections { get; set; }

    /// <summary>
    /// Messages one connection may send per second on average (a token bucket refilled at this rate, holding
    /// <see cref="MessageRateBurst"/>); a client over it is closed with 1008 <c>message rate exceeded</c>, and its
    /// messages past the limit never reach the room. 0: no limit. Default 200.
    /// </summary>
    [Range(0, int.MaxValue)]
    public int MessageRatePerSecond { get; set; } = 200;

    /// <summary>Most messages one connection may send at once above <see cref="MessageRatePerSecond"/> (the bucket's size). Default 1000.</summary>
    [Range(1, int.MaxValue)]
    public int MessageRateBurst { get; set; } = 1000;

    /// <summary>
    /// Most open WebSockets from one client address on this gateway; one more is refused before the upgrade with 429
    /// and <c>Retry-After</c>. Behind a proxy every client has the proxy's address: forward the client's (ASP.NET Core's
    /// forwarded headers) or set 0. 0: no limit. Default 1000.
    /// </summary>
    [Range(0, int.MaxValue)]
    public int MaxConnectionsPerAddress { get; set; } = 1000;

    /// <summary>
    /// Distinct rooms one client address may wake per minute through this gateway (a sliding one-minute window): a
    /// WebSocket or HTTP request to a room that has no socket on this gateway counts, as it may bring a room into memory,
    /// unless the address asked for the same room within the window. One more is refused with 429, <c>Retry-After</c> and the reason, before the room is asked. Bounds a
    /// room-name flood. Behind a proxy: as <see cref="MaxConnectionsPerAddress"/>. 0: no limit. Default 600.
    /// </summary>
    [Range(0, int.MaxValue)]
    public int NewRoomsPerMinute { get; set; } = 600;

    /// <summary>WebSocket keep-alive ping interval; zero sends no pings. Default 30 s.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a client may take to answer the gateway's keep-alive ping with a pong; a silent or dead peer is aborted
    /// then (the room hears 1006), at most <see cref="KeepAliveInterval"/> plus this after its last frame. Pongs are
    /// read with the client's messages: a client held back by a full inbound queue for this long is aborted too. Zero:
    /// pings without a timeout (the peer is never checked). Default 30 s.
    /// </summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a client frame may take from its first byte to its last (a header cut short, a payload that never
    /// comes); past it the socket is aborted and the room hears 1002 "frame not completed within N s". Frames, not
    /// messages: the pause between two frames is not limited (the keep-alive checks an idle peer). Default 30 s.
    /// </summary>
    public TimeSpan FrameTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Runs an HTTP/1.1 WebSocket (without TLS at the gateway) on its bare TCP connection once its request upgraded it, not
    /// under that request: ASP.NET Core's objects for the connection and the request are freed, about half of an idle
    /// socket's memory. A connection middleware on Kestrel's endpoint defaults does it (an app that sets its own
    /// <c>ConfigureEndpointDefaults</c> replaces it, and its sockets stay under their requests). The request's middleware
    /// sees the upgrade, not the socket's end, and Kestrel counts the socket as a connection, not an upgraded request.
    /// Such a socket is the gateway's own RFC 6455 implementation on the connection's pipes (no per-socket timer: the
    /// connection's heartbeat, once a second, sends the pings and keeps <see cref="KeepAliveTimeout"/> and
    /// <see cref="FrameTimeout"/>, each to within a second), and a protocol error reaches the room with the close code
    /// the client got (under a request, .NET's socket fails the connection itself and the room hears 1006).
    /// False: every socket stays under its request. Default true.
    /// </summary>
    public bool HandOverSockets { get; set; } = true;
}
