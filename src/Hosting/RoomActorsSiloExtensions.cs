using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using RoomActors.Gateway.Hosting;

namespace RoomActors.Hosting;

/// <summary>Makes a process a RoomActors silo: it hosts room grains.</summary>
public static class RoomActorsSiloExtensions
{
    private const string SamplesAssembly = "RoomActors.Samples";

    /// <summary>
    /// Hosts room grains. With <c>RoomActors:Redis</c>: Redis membership, room state and reminders in Redis, the
    /// advertised IP address, and membership tuned to declare a dead silo in a few seconds. Without it (all-in-one):
    /// localhost clustering, room state and reminders in memory. With <c>RoomActors:Samples</c> false, the sample rooms'
    /// grain classes stay out of the silo. With <c>RoomActors:Operator:Dashboard</c> (default true), the Orleans Dashboard's silo
    /// side, so that any process of the cluster can serve the dashboard (<see cref="RoomActorsOperatorExtensions.MapRoomActorsOperator"/>).
    /// Its Orleans ports hold at most <see cref="RoomActorsOptions.MaxClusterConnections"/> connections each, and use TLS
    /// with <c>RoomActors:Tls:Enabled</c> (<see cref="ClusterTlsOptions"/>).
    /// </summary>
    public static IHostApplicationBuilder UseRoomActorsSilo(this IHostApplicationBuilder builder)
    {
        var options = builder.Configuration.GetRoomActorsOptions();
        var dashboard = builder.Configuration.GetOperatorOptions().Dashboard;
        var tls = ClusterTls.Read(builder.Configuration, silo: true);
        builder.Services.AddRoomActorsOperator();
        builder.Services.AddOptions<RoomOptions>().BindConfiguration(RoomOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<RoomOptions>, RoomOptionsValidator>();
        builder.Services.AddOptions<Documents.DocumentOptions>().BindConfiguration(Documents.DocumentOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<Documents.DocumentOptions>, Documents.DocumentOptionsValidator>();
        builder.Services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<Gateway.GatewayOptions>, GatewayLeaseValidator>();
        builder.Services.AddSingleton<GatewayLivenessCache>();
        builder.Services.AddSingleton<RoomActors.Contracts.LocalRooms>(); // for a gateway in this process
        builder.Services.AddHostedService(sp => sp.GetRequiredService<GatewayLivenessCache>());
        var health = builder.Services.AddHealthChecks().AddCheck<SiloReadyCheck>("silo", tags: [RoomActorsGatewayExtensions.ReadyTag]);
        if (options.IsDistributed)
        {
            health.AddRoomActorsRedis(options.Redis!);
        }

        if (!options.Samples)
        {
            // Orleans fills GrainTypeOptions.Classes from every referenced assembly with generated code; a class
            // removed here is neither activated nor listed in the cluster manifest (so the gateway answers 404).
            builder.Services.PostConfigure<GrainTypeOptions>(o => o.Classes.RemoveWhere(c => c.Assembly.GetName().Name == SamplesAssembly));
        }

        if (!dashboard)
        {
            // The dashboard off: none of its grains either (a gateway that still asks gets a clear "no such grain type").
            builder.Services.PostConfigure<GrainTypeOptions>(o => o.Classes.RemoveWhere(c => c.Assembly == typeof(Orleans.Dashboard.DashboardOptions).Assembly));
        }

        builder.Services.AddSingleton(sp =>
        {
            var descriptors = Gateway.Limits.ConnectionBudget.ReadDescriptorLimit();
            return new OrleansPortLimits(OrleansPortLimits.PerPort(descriptors, options.MaxClusterConnections), descriptors,
                options.SiloPort, options.ClientPort, sp.GetRequiredService<Microsoft.Extensions.Logging.ILoggerFactory>());
        });
        var tracing = RoomActorsObservabilityExtensions.TracingEnabled(builder.Configuration);
        builder.UseOrleans(silo =>
        {
            // The cap: checked in the accept loop, released by the outermost middleware (first, before TLS), so a
            // connection past it is closed before TLS or Orleans read it.
            OrleansPortLimits.Install(silo.Services);
            // Sized for rooms, not Orleans' million-entry default (see RoomActorsOptions.DirectoryCacheSize); before any
            // of the host's own Configure calls, which run later and win.
            silo.Services.Configure<GrainDirectoryOptions>(o => o.CacheSize = options.DirectoryCacheSize);
            silo.Services.AddOptions<SiloConnectionOptions>().Configure<OrleansPortLimits>((o, limits) =>
            {
                o.ConfigureSiloInboundConnection(limits.SiloPort.Use);
                o.ConfigureGatewayInboundConnection(limits.ClientPort.Use);
            });
            if (tls is not null)
            {
                silo.UseTls(o => tls.Configure(o, silo: true)); // silo to silo, both ways, and gateways to this silo
            }

            if (tracing)
            {
                silo.AddActivityPropagation(); // a room's turn joins the trace of the gateway call that caused it
            }

            if (dashboard)
            {
                // Its grain service and grains answer the dashboard of any process; its call filter profiles only while watched.
                Orleans.Dashboard.ServiceCollectionExtensions.AddDashboard(silo);
            }

            if (options.IsDistributed)
            {
                var redis = options.Redis!;
                silo.UseRedisClustering(redis);
                silo.AddRedisGrainStorage(RoomOptions.StorageName, o => o.Configure<IServiceProvider>((o, services) =>
                {
                    o.ConfigurationOptions = StackExchange.Redis.ConfigurationOptions.Parse(redis);
                    o.DeleteStateOnClear = true; // a closed connection's record, a deleted key: gone from Redis, not kept empty
                    o.GrainStorageSerializer = RoomRecordSerializer.Create(services);
                }));
                silo.UseRedisReminderService(o => o.ConfigurationOptions = StackExchange.Redis.ConfigurationOptions.Parse(redis));
                silo.Configure<ClusterOptions>(o =>
                {
                    o.ClusterId = options.ClusterId;
                    o.ServiceId = options.ServiceId;
                });
                silo.ConfigureEndpoints(options.ResolveAdvertisedIp(), options.SiloPort, options.ClientPort, listenOnAnyHostAddress: true);
                silo.Configure<ClusterMembershipOptions>(TuneMembership);
            }
            else
            {
                silo.UseLocalhostClustering(options.SiloPort, options.ClientPort, serviceId: options.ServiceId, clusterId: options.ClusterId);
                silo.AddMemoryGrainStorage(RoomOptions.StorageName, o => o.Configure<IServiceProvider>((o, services) =>
                    o.GrainStorageSerializer = RoomRecordSerializer.Create(services)));
                silo.UseInMemoryReminderService();
            }
        });
        return builder;
    }

    /// <summary>
    /// Readiness needs Redis (membership, state, reminders): a PING answered within <see cref="RedisCheckTimeout"/>.
    /// </summary>
    internal static IHealthChecksBuilder AddRoomActorsRedis(this IHealthChecksBuilder health, string redis) =>
        health.AddRedis(redis, name: "redis", failureStatus: HealthStatus.Unhealthy, tags: [RoomActorsGatewayExtensions.ReadyTag], timeout: RedisCheckTimeout);

    /// <summary>How long readiness waits for Redis to answer a PING.</summary>
    internal static readonly TimeSpan RedisCheckTimeout = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Failure detection in seconds instead of Orleans' defaults (tens of seconds): probe every silo about every 2
    /// seconds, suspect it after 3 missed probes (a killed silo is declared dead in about 6 seconds), and re-read the
    /// membership table every 2 seconds. Not tighter: on a busy machine a silo that is starting (or a starved one)
    /// answers a probe late, and a silo declared dead while it joins stops itself (seen with 1 s and 2 probes).
    /// </summary>
    public static void TuneMembership(ClusterMembershipOptions o)
    {
        o.ProbeTimeout = TimeSpan.FromSeconds(2);
        o.NumMissedProbesLimit = 3;
        o.TableRefreshTimeout = TimeSpan.FromSeconds(2);
        o.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(10);
        o.NumMissedTableIAmAliveLimit = 2;
    }

    /// <summary>True when this silo also serves WebSockets: always in the all-in-one mode, with <c>--urls</c> otherwise.</summary>
    public static bool CoHostsGateway(this IHostApplicationBuilder builder) =>
        !builder.Configuration.GetRoomActorsOptions().IsDistributed || RoomActorsHost.HasUrls(builder.Configuration);
}
