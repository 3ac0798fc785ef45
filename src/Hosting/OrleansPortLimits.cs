using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using RoomActors.Gateway.Limits;

namespace RoomActors.Hosting;

/// <summary>
/// Caps the connections each of a silo's Orleans ports holds at once (<see cref="RoomActorsOptions.SiloPort"/> and
/// <see cref="RoomActorsOptions.ClientPort"/>, <see cref="RoomActorsOptions.MaxClusterConnections"/>): a connection past
/// the cap is closed right after the accept, before TLS or Orleans read a byte of it. Without a cap, idle TCP connects to
/// these ports use up the process's file descriptors, and a process out of descriptors aborts.
/// </summary>
internal sealed partial class OrleansPortLimits
{
    /// <summary>How often, at most, a port logs the connections it refused since its last such line.</summary>
    public static readonly TimeSpan RefusalLogInterval = TimeSpan.FromSeconds(10);

    private readonly ILogger _logger;

    public OrleansPortLimits(int? perPort, long? descriptorLimit, ILoggerFactory loggerFactory)
    {
        _logger = loggerFactory.CreateLogger<OrleansPortLimits>();
        PerPortLimit = perPort;
        SiloPort = new Port("silo", perPort, _logger);
        ClientPort = new Port("client", perPort, _logger);
        Log.Limits(_logger, descriptorLimit?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unknown",
            perPort?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unlimited");
    }

    /// <summary>The cap of each port; null: none.</summary>
    public int? PerPortLimit { get; }

    /// <summary>The silo-to-silo port's counter.</summary>
    public Port SiloPort { get; }

    /// <summary>The client (Orleans gateway) port's counter.</summary>
    public Port ClientPort { get; }

    /// <summary>
    /// The cap of each port: <paramref name="configured"/> when above 0; else an eighth of the descriptors
    /// <see cref="ConnectionBudget.Reserve"/> keeps out of the HTTP side's budget (125 at 2,000 descriptors, 1,024 at
    /// most), so both ports together stay within a quarter of that reserve; null (no cap) when the limit is unknown.
    /// A cluster needs one connection per other silo on the silo port and one per gateway on the client port.
    /// </summary>
    public static int? PerPort(long? descriptorLimit, int configured) =>
        configured > 0 ? configured
        : descriptorLimit is { } limit ? (int)(ConnectionBudget.Reserve(limit) / 8)
        : null;

    /// <summary>One port's count of open connections, and the middleware that refuses one past the cap.</summary>
    internal sealed class Port(string name, int? limit, ILogger logger)
    {
        private int _open;
        private long _refused;
        private long _lastLog = long.MinValue;

        /// <summary>Connections this port holds now.</summary>
        public int Open => Volatile.Read(ref _open);

        /// <summary>Connections refused since start.</summary>
        public long Refused => Interlocked.Read(ref _refused);

        /// <summary>Adds the cap in front of everything else on this port's connections (TLS, Orleans' handshake).</summary>
        public void Use(IConnectionBuilder builder)
        {
            if (limit is not { } cap)
            {
                return;
            }

            builder.Use(next => async context =>
            {
                if (Interlocked.Increment(ref _open) > cap)
                {
                    Interlocked.Decrement(ref _open);
                    Refuse(cap);
                    context.Abort(); // Orleans then disposes the connection: its descriptor is released at once
                    return;
                }

                try
                {
                    await next(context);
                }
                finally
                {
                    Interlocked.Decrement(ref _open);
                }
            });
        }

        /// <summary>Counts a refusal; logs the count at most once a <see cref="RefusalLogInterval"/>, so a flood is one line.</summary>
        private void Refuse(int cap)
        {
            var refused = Interlocked.Increment(ref _refused);
            var now = Environment.TickCount64;
            var last = Interlocked.Read(ref _lastLog);
            if (now - last >= (long)RefusalLogInterval.TotalMilliseconds && Interlocked.CompareExchange(ref _lastLog, now, last) == last)
            {
                Log.Refused(logger, name, cap, refused);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4201, Level = LogLevel.Information,
            Message = "Orleans port limits: descriptor limit {DescriptorLimit}, at most {PerPort} connections on each of the silo and client ports (RoomActors:MaxClusterConnections).")]
        public static partial void Limits(ILogger logger, string descriptorLimit, string perPort);

        [LoggerMessage(EventId = 4202, Level = LogLevel.Warning,
            Message = "The Orleans {Port} port holds its maximum of {Limit} connections (RoomActors:MaxClusterConnections) and closes new ones; {Refused} refused since start (logged at most every 10 s). Keep the port on a private network, or raise the limit.")]
        public static partial void Refused(ILogger logger, string port, int limit, long refused);
    }
}
