namespace RoomActors.Client;

/// <summary>
/// Where a <see cref="RoomSocket"/> connects and how it behaves while the network comes and goes. Set
/// <see cref="Server"/>, <see cref="Type"/> and <see cref="Name"/>; every other property has a default. The socket reads
/// the options once, when it is constructed (<see cref="RoomSocket(RoomSocketOptions)"/> checks them).
/// </summary>
public sealed class RoomSocketOptions
{
    /// <summary>
    /// The gateway: <c>ws://host:port</c> or <c>wss://host</c> (<c>http</c>/<c>https</c> are taken as <c>ws</c>/<c>wss</c>), with
    /// an optional path prefix in front of <c>/rooms</c>. Required.
    /// </summary>
    public Uri? Server { get; set; }

    /// <summary>
    /// Other gateways of the same cluster, for a setup without a load balancer in front of them: after a connection ends
    /// or an attempt fails, the next attempt goes to the next address of <see cref="Server"/> followed by these, in turn
    /// (a resume works on any gateway). Empty by default: every attempt goes to <see cref="Server"/>.
    /// </summary>
    public IList<Uri> FallbackServers { get; } = new List<Uri>();

    /// <summary>The room type (the name in the room's <c>[Room("…")]</c> attribute), e.g. <c>chat</c>. Required.</summary>
    public string Type { get; set; } = "";

    /// <summary>The room name: 1–128 characters of <c>A-Z a-z 0-9 . _ ~ -</c>. Required.</summary>
    public string Name { get; set; } = "";

    /// <summary>
    /// Query parameters the room's hooks see (<c>context.Query</c>), sent on every connect and resume. Empty by default.
    /// <c>ticket</c>, <c>resume</c> and <c>seq</c> are the protocol's own: use <see cref="Ticket"/> for the first.
    /// </summary>
    public IDictionary<string, string> Query { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>
    /// The ticket (a JWT from your backend) when the server requires one, sent as <c>?ticket=</c> on every connect and
    /// resume. Default none. A ticket expires: for a socket that outlives it, set <see cref="TicketProvider"/> instead.
    /// </summary>
    public string? Ticket { get; set; }

    /// <summary>
    /// Asked for a ticket before every connect and resume attempt (instead of <see cref="Ticket"/>; set one or the other),
    /// so that a socket the server closed with 4401 (ticket expired) resumes with a fresh ticket. Return the ticket, or
    /// null for none. It is given <see cref="ConnectTimeout"/> (its token is cancelled then, and when the socket closes);
    /// a provider that throws or times out counts as a failed attempt: the socket waits its backoff and asks again.
    /// Default none.
    /// </summary>
    public Func<CancellationToken, ValueTask<string?>>? TicketProvider { get; set; }

    /// <summary>
    /// Most messages held at once: sent but not yet acknowledged by the room, plus waiting for a connection (before
    /// <see cref="RoomSocket.ConnectAsync"/> and while reconnecting). A send past it throws
    /// <see cref="RoomBufferFullException"/>. Default 1000.
    /// </summary>
    public int MaxBufferedMessages { get; set; } = 1000;

    /// <summary>The first wait before a reconnect; each failed attempt doubles it, up to <see cref="MaxReconnectDelay"/>,
    /// and every wait is jittered between half and all of it. Default 250 ms.</summary>
    public TimeSpan MinReconnectDelay { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The longest wait between reconnect attempts. Default 10 s.</summary>
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long one connect attempt may take, from opening the TCP connection to the server's first frame
    /// (<c>welcome</c> or <c>resumed</c>); a slower attempt is dropped and retried. Default 10 s.
    /// </summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How often the socket pings the server; no answer within the same time drops the socket, which then resumes.
    /// <see cref="TimeSpan.Zero"/> sends no pings (a silently dead network is then noticed only when a write fails).
    /// Default 15 s.
    /// </summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long <see cref="RoomSocket.CloseAsync"/> waits for the server's close frame before aborting. Default 5 s.</summary>
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Largest message accepted from the server, in bytes (header included); a larger one closes the socket for good
    /// with 1009, since a resume would replay the same message. Default 16 MiB.
    /// </summary>
    public int MaxMessageBytes { get; set; } = 16 * 1024 * 1024;
}
