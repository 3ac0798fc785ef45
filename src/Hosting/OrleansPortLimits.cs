using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RoomActors.Gateway.Limits;

namespace RoomActors.Hosting;

/// <summary>
/// Caps the connections each of a silo's Orleans ports holds at once (<see cref="RoomActorsOptions.SiloPort"/> and
/// <see cref="RoomActorsOptions.ClientPort"/>, <see cref="RoomActorsOptions.MaxClusterConnections"/>): a connection past
/// the cap is closed in the accept loop, before TLS or Orleans read a byte of it. Without a cap, idle TCP connects to
/// these ports use up the process's file descriptors, and a process out of descriptors aborts.
/// </summary>
internal sealed partial class OrleansPortLimits
{
    /// <summary>How often, at most, a port logs the connections it refused since its last such line.</summary>
    public static readonly TimeSpan RefusalLogInterval = TimeSpan.FromSeconds(10);

    private readonly ILogger _logger;

    public OrleansPortLimits(int? perPort, long? descriptorLimit, int siloPort, int clientPort, ILoggerFactory loggerFactory)
    {
        _logger = loggerFactory.CreateLogger<OrleansPortLimits>();
        PerPortLimit = perPort;
        SiloPort = new Port("silo", siloPort, perPort, _logger);
        ClientPort = new Port("client", clientPort, perPort, _logger);
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

    /// <summary>
    /// Puts the caps into Orleans' listeners: every listener factory Orleans registered (one for each port) is wrapped so
    /// that a connection past its port's cap is closed inside the accept loop, which then waits for that close before it
    /// accepts again. Refusing later, on the thread pool, let a burst of connects outrun the closes on a loaded machine
    /// (one run in five still ran out of descriptors). Call after Orleans added its services (inside <c>UseOrleans</c>).
    /// </summary>
    public static void Install(IServiceCollection services)
    {
        var wrapped = 0;
        for (var i = 0; i < services.Count; i++)
        {
            if (services[i] is { IsKeyedService: true, KeyedImplementationFactory: { } factory } descriptor
                && descriptor.ServiceType == typeof(IConnectionListenerFactory))
            {
                services[i] = ServiceDescriptor.KeyedSingleton<IConnectionListenerFactory>(descriptor.ServiceKey, (sp, key) =>
                    new CappedListenerFactory((IConnectionListenerFactory)factory(sp, key), sp.GetRequiredService<OrleansPortLimits>()));
                wrapped++;
            }
        }

        if (wrapped == 0)
        {
            throw new InvalidOperationException("Orleans registered no listener factory to cap (RoomActors:MaxClusterConnections): this Orleans "
                + "version wires its ports differently; update OrleansPortLimits.Install.");
        }
    }

    private Port? For(EndPoint endpoint) =>
        endpoint is IPEndPoint ip ? ip.Port == SiloPort.Number ? SiloPort : ip.Port == ClientPort.Number ? ClientPort : null : null;

    /// <summary>One port's count of open connections: admitted at the accept, released when Orleans is done with it.</summary>
    internal sealed class Port(string name, int number, int? limit, ILogger logger)
    {
        private readonly RefusalThrottle _refusals = new(RefusalLogInterval);
        private int _open;

        /// <summary>The port number.</summary>
        public int Number => number;

        /// <summary>Connections this port holds now.</summary>
        public int Open => Volatile.Read(ref _open);

        /// <summary>Connections refused since start.</summary>
        public long Refused => _refusals.Total;

        /// <summary>True (and counted) when the port holds fewer than its cap; false (and the refusal counted) otherwise.</summary>
        public bool TryAdmit()
        {
            if (limit is not { } cap || Interlocked.Increment(ref _open) <= cap)
            {
                return true;
            }

            Interlocked.Decrement(ref _open);
            if (_refusals.Count())
            {
                Log.Refused(logger, name, cap, _refusals.Total);
            }

            return false;
        }

        /// <summary>Releases an admitted connection once Orleans is done with it: the outermost middleware of the port.</summary>
        public void Use(IConnectionBuilder builder)
        {
            if (limit is null)
            {
                return;
            }

            builder.Use(next => async context =>
            {
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
    }

    private sealed class CappedListenerFactory(IConnectionListenerFactory inner, OrleansPortLimits limits) : IConnectionListenerFactory
    {
        public async ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
        {
            var listener = await inner.BindAsync(endpoint, cancellationToken);
            return limits.For(endpoint) is { } port ? new CappedListener(listener, port) : listener;
        }
    }

    private sealed class CappedListener(IConnectionListener inner, Port port) : IConnectionListener
    {
        public EndPoint EndPoint => inner.EndPoint;

        public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            while (true)
            {
                var connection = await inner.AcceptAsync(cancellationToken);
                if (connection is null || port.TryAdmit())
                {
                    return connection;
                }

                // Over the cap: close it here, so the accept loop cannot outrun the closes, and accept the next one.
                connection.Abort();
                await connection.DisposeAsync();
            }
        }

        public ValueTask UnbindAsync(CancellationToken cancellationToken = default) => inner.UnbindAsync(cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
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
