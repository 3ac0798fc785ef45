using System.Diagnostics.Metrics;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RoomActors.Gateway.Diagnostics;

namespace RoomActors.Gateway.Limits;

/// <summary>
/// This gateway's connection caps (see <see cref="ConnectionBudget"/>), fixed at start: a permit per WebSocket, and the
/// Kestrel limits of the configuration's <c>Kestrel</c> section with <c>MaxConcurrentConnections</c> set from the budget
/// unless configured.
/// </summary>
internal sealed partial class ConnectionLimits : IConfigureOptions<KestrelServerOptions>, IDisposable
{
    /// <summary>The configuration section ASP.NET Core reads Kestrel's endpoints from; its limits are bound here.</summary>
    public const string KestrelSection = "Kestrel";

    /// <summary>What <c>Retry-After</c> says to a client refused for the connection cap, in seconds.</summary>
    public const int RetryAfterSeconds = 5;

    /// <summary>The meter and instrument through which Kestrel counts connections closed at <c>MaxConcurrentConnections</c>.</summary>
    public const string KestrelMeter = "Microsoft.AspNetCore.Server.Kestrel", KestrelRejected = "kestrel.rejected_connections";

    /// <summary>
    /// Kestrel's log category whose only warning is one line per connection closed at <c>MaxConcurrentConnections</c>
    /// (event 24; the others are Debug, and one Information line per connection the application aborts). The hosts raise
    /// it to Error unless configured, and <see cref="ConnectionLimits"/> logs the count instead.
    /// </summary>
    public const string KestrelConnectionsCategory = "Microsoft.AspNetCore.Server.Kestrel.Connections";

    /// <summary>How often, at most, the count of TCP connections refused at the cap is logged.</summary>
    public static readonly TimeSpan RefusalLogInterval = TimeSpan.FromSeconds(10);

    private readonly IConfiguration _configuration;
    private readonly ILogger<ConnectionLimits> _logger;
    private readonly ConcurrencyLimiter _webSockets;
    private readonly RefusalThrottle _tcpRefusals = new(RefusalLogInterval);
    private readonly MeterListener _kestrelRejections;

    public ConnectionLimits(IOptions<GatewayOptions> options, IConfiguration configuration, IMeterFactory meters, ILogger<ConnectionLimits> logger)
    {
        _configuration = configuration;
        _logger = logger;
        DescriptorLimit = ConnectionBudget.ReadDescriptorLimit();
        var configuredTcp = configuration.GetSection(KestrelSection).GetSection("Limits").GetValue<long?>(nameof(KestrelServerLimits.MaxConcurrentConnections));
        Budget = ConnectionBudget.For(DescriptorLimit, options.Value.MaxConnections, configuredTcp);
        _webSockets = new ConcurrencyLimiter(new ConcurrencyLimiterOptions { PermitLimit = Budget.WebSockets, QueueLimit = 0 });

        // Kestrel counts what it closes at MaxConcurrentConnections in a metric (also on /metrics); listening to it here
        // turns a flood into one log line every RefusalLogInterval. Only this host's Kestrel: its meter comes from this
        // host's meter factory (several hosts share a process in tests).
        _kestrelRejections = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument is { Name: KestrelRejected, Meter.Name: KestrelMeter } && ReferenceEquals(instrument.Meter.Scope, meters))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        _kestrelRejections.SetMeasurementEventCallback<long>((_, count, _, _) => OnTcpRefused(count));
        _kestrelRejections.Start();
    }

    /// <summary>TCP connections Kestrel closed at <c>MaxConcurrentConnections</c> since start.</summary>
    public long TcpRefused => _tcpRefusals.Total;

    private void OnTcpRefused(long count)
    {
        if (_tcpRefusals.Count(count))
        {
            Log.TcpRefused(_logger, Budget.Tcp ?? 0, _tcpRefusals.Total);
        }
    }

    /// <summary>This process's descriptor limit as read at start; null when unknown.</summary>
    public long? DescriptorLimit { get; }

    /// <summary>The caps in force.</summary>
    public ConnectionBudget Budget { get; }

    /// <summary>A permit for one WebSocket, to dispose when it closes; null when the gateway holds its maximum.</summary>
    public RateLimitLease? TryAcquireWebSocket()
    {
        var lease = _webSockets.AttemptAcquire();
        if (lease.IsAcquired)
        {
            return lease;
        }

        lease.Dispose();
        GatewayMetrics.LimitRefused(LimitRefusal.MaxConnections);
        Log.WebSocketRefused(_logger, Budget.WebSockets);
        return null;
    }

    /// <summary>The answer to an upgrade over the cap: 503 with <c>Retry-After</c>, before the upgrade.</summary>
    public static IResult Refusal(HttpContext http, int limit)
    {
        http.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Too many connections",
            detail: $"This gateway holds its maximum of {limit} WebSocket connections (RoomActors:Gateway:MaxConnections); "
                + $"try again in {RetryAfterSeconds} s or connect to another gateway.");
    }

    /// <summary>
    /// Binds the configuration's <c>Kestrel</c> section onto Kestrel's options (ASP.NET Core itself reads only its
    /// endpoints and certificates, so <c>Kestrel:Limits:*</c> would be ignored), then sets
    /// <c>MaxConcurrentConnections</c> from the budget when the configuration does not.
    /// </summary>
    public void Configure(KestrelServerOptions options)
    {
        _configuration.GetSection(KestrelSection).Bind(options);
        options.Limits.MaxConcurrentConnections = Budget.Tcp;
        Log.Budget(_logger, DescriptorLimit?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unknown", Budget.WebSockets,
            Budget.Tcp?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unlimited");
    }

    public void Dispose()
    {
        _kestrelRejections.Dispose();
        _webSockets.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2030, Level = LogLevel.Information,
            Message = "Connection limits: descriptor limit {DescriptorLimit}, at most {WebSockets} WebSockets (RoomActors:Gateway:MaxConnections) and {Tcp} TCP connections (Kestrel:Limits:MaxConcurrentConnections).")]
        public static partial void Budget(ILogger logger, string descriptorLimit, int webSockets, string tcp);

        [LoggerMessage(EventId = 2031, Level = LogLevel.Debug,
            Message = "WebSocket refused with 503: this gateway holds its maximum of {Limit} connections (RoomActors:Gateway:MaxConnections).")]
        public static partial void WebSocketRefused(ILogger logger, int limit);

        [LoggerMessage(EventId = 2036, Level = LogLevel.Warning,
            Message = "This gateway holds its maximum of {Limit} TCP connections (Kestrel:Limits:MaxConcurrentConnections) and closes new ones right after the accept; {Refused} closed since start (logged at most every 10 s; metric kestrel.rejected_connections). Raise the descriptor limit or RoomActors:Gateway:MaxConnections, or add gateways.")]
        public static partial void TcpRefused(ILogger logger, long limit, long refused);
    }
}
