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
    /// grain classes stay out of the silo.
    /// </summary>
    public static IHostApplicationBuilder UseRoomActorsSilo(this IHostApplicationBuilder builder)
    {
        var options = builder.Configuration.GetRoomActorsOptions();
        builder.Services.AddOptions<RoomOptions>().BindConfiguration(RoomOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<RoomOptions>, RoomOptionsValidator>();
        builder.Services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<Gateway.GatewayOptions>, GatewayLeaseValidator>();
        builder.Services.AddSingleton<GatewayLivenessCache>();
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

        var tracing = RoomActorsObservabilityExtensions.TracingEnabled(builder.Configuration);
        builder.UseOrleans(silo =>
        {
            if (tracing)
            {
                silo.AddActivityPropagation(); // a room's turn joins the trace of the gateway call that caused it
            }

            if (options.IsDistributed)
            {
                var redis = options.Redis!;
                silo.UseRedisClustering(redis);
                silo.AddRedisGrainStorage(RoomOptions.StorageName, o => o.ConfigurationOptions = StackExchange.Redis.ConfigurationOptions.Parse(redis));
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
                silo.AddMemoryGrainStorage(RoomOptions.StorageName);
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
    /// Failure detection in seconds instead of Orleans' defaults (tens of seconds): probe every silo each second,
    /// declare it dead after 2 missed probes, and re-read the membership table every 2 seconds.
    /// </summary>
    public static void TuneMembership(ClusterMembershipOptions o)
    {
        o.ProbeTimeout = TimeSpan.FromSeconds(1);
        o.NumMissedProbesLimit = 2;
        o.TableRefreshTimeout = TimeSpan.FromSeconds(2);
        o.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(10);
        o.NumMissedTableIAmAliveLimit = 2;
    }

    /// <summary>True when this silo also serves WebSockets: always in the all-in-one mode, with <c>--urls</c> otherwise.</summary>
    public static bool CoHostsGateway(this IHostApplicationBuilder builder) =>
        !builder.Configuration.GetRoomActorsOptions().IsDistributed || RoomActorsHost.HasUrls(builder.Configuration);
}
