using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;

namespace RoomActors.Hosting;

/// <summary>Makes a process an Orleans client of the RoomActors cluster.</summary>
public static class RoomActorsClientExtensions
{
    /// <summary>How often a gateway re-reads the list of silos from Redis (Orleans' default is 1 minute).</summary>
    public static readonly TimeSpan GatewayListRefreshPeriod = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Connects to the cluster as an Orleans client: through Redis membership when <c>RoomActors:Redis</c> is set,
    /// else to the localhost silo at <see cref="RoomActorsOptions.ClientPort"/>. Keeps retrying until the cluster
    /// answers, so gateways may start before silos. With <c>RoomActors:Operator:Dashboard</c> (default true), the Orleans
    /// Dashboard's client side (the silos serve its data). With <c>RoomActors:Tls:Enabled</c> (<see cref="ClusterTlsOptions"/>),
    /// its connections to silos use TLS.
    /// </summary>
    public static IHostApplicationBuilder UseRoomActorsClient(this IHostApplicationBuilder builder)
    {
        var options = builder.Configuration.GetRoomActorsOptions();
        var dashboard = builder.Configuration.GetOperatorOptions().Dashboard;
        var tls = ClusterTls.Read(builder.Configuration, silo: false);
        builder.Services.AddRoomActorsOperator();
        if (options.IsDistributed)
        {
            builder.Services.AddHealthChecks().AddRoomActorsRedis(options.Redis!);
        }

        var tracing = RoomActorsObservabilityExtensions.TracingEnabled(builder.Configuration);
        builder.UseOrleansClient(client =>
        {
            if (tracing)
            {
                client.AddActivityPropagation(); // a room's turn joins the trace of the gateway call that caused it
            }

            if (dashboard)
            {
                Orleans.Dashboard.ServiceCollectionExtensions.AddDashboard(client);
            }

            if (options.IsDistributed)
            {
                client.UseRedisClustering(options.Redis!);
                client.Configure<ClusterOptions>(o =>
                {
                    o.ClusterId = options.ClusterId;
                    o.ServiceId = options.ServiceId;
                });
                client.Configure<Orleans.Configuration.GatewayOptions>(o => o.GatewayListRefreshPeriod = GatewayListRefreshPeriod);
            }
            else
            {
                client.UseLocalhostClustering(options.ClientPort, options.ServiceId, options.ClusterId);
            }

            if (tls is not null)
            {
                client.UseTls(o => tls.Configure(o, silo: false));
            }

            client.Services.AddSingleton<IClientConnectionRetryFilter, RetryForever>();
        });
        return builder;
    }

    /// <summary>A gateway waits for the cluster instead of giving up: retry every second until stopped.</summary>
    private sealed class RetryForever : IClientConnectionRetryFilter
    {
        public async Task<bool> ShouldRetryConnectionAttempt(Exception exception, CancellationToken cancellationToken)
        {
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            return !cancellationToken.IsCancellationRequested;
        }
    }
}
