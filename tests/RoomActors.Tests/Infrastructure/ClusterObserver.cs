using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;

namespace RoomActors.Tests.Infrastructure;

/// <summary>An Orleans client of a process cluster, for the management grain's view (activations per silo).</summary>
public sealed class ClusterObserver : IAsyncDisposable
{
    private readonly IHost _host;

    private ClusterObserver(IHost host) => _host = host;

    public IClusterClient Client => _host.Services.GetRequiredService<IClusterClient>();

    public static async Task<ClusterObserver> StartAsync(ProcessCluster cluster)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.UseOrleansClient(client =>
        {
            client.UseRedisClustering(cluster.Redis.Address);
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = cluster.ClusterId;
                o.ServiceId = cluster.ClusterId;
            });
        });
        var host = builder.Build();
        await host.StartAsync();
        return new ClusterObserver(host);
    }

    /// <summary>Room activations per silo (by silo address).</summary>
    public async Task<Dictionary<string, int>> RoomActivationsBySiloAsync()
    {
        var statistics = await Client.GetGrain<IManagementGrain>(0).GetSimpleGrainStatistics();
        return statistics
            .Where(s => s.GrainType.Contains("RoomActors.Samples", StringComparison.Ordinal))
            .GroupBy(s => s.SiloAddress.ToString())
            .ToDictionary(g => g.Key, g => g.Sum(s => s.ActivationCount));
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }
}
