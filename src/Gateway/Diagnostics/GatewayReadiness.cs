using Microsoft.Extensions.Diagnostics.HealthChecks;
using RoomActors.Gateway.Sockets;

namespace RoomActors.Gateway.Diagnostics;

/// <summary>
/// Counts this process's open connections to silos, as the Orleans client reports them (each silo it connects to through
/// the silo's client port). In a silo that co-hosts the gateway nobody reports: <see cref="Connections"/> stays null.
/// </summary>
internal sealed class SiloConnections : IClusterConnectionStatusObserver
{
    private int _count = -1;

    /// <summary>Silos this Orleans client is connected to now; null when no client reported (a co-hosted gateway).</summary>
    public int? Connections => Volatile.Read(ref _count) is var count and >= 0 ? count : null;

    public void NotifyGatewayCountChanged(int currentNumberOfGateways, int previousNumberOfGateways, bool connectionRecovered) =>
        Volatile.Write(ref _count, currentNumberOfGateways);

    public void NotifyClusterConnectionLost() => Volatile.Write(ref _count, 0);
}

/// <summary>
/// Ready when the gateway can serve rooms: it is not shutting down, its last report to the gateway registry (a grain
/// call, every <see cref="GatewayOptions.RenewInterval"/>) succeeded within two intervals plus the call timeout, and, in
/// a standalone gateway, the Orleans client holds a connection to at least one silo (which fails at once when the last
/// silo goes, rather than after the next reports time out).
/// </summary>
internal sealed class GatewayReadyCheck(GatewayService gateway, SiloConnections silos) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var options = gateway.Options;
        var window = options.RenewInterval * 2 + options.RoomCallTimeout;
        var since = gateway.SinceLastReport;
        var data = new Dictionary<string, object>
        {
            ["lastReportSecondsAgo"] = since is { } s ? Math.Round(s.TotalSeconds, 1) : -1,
            ["connections"] = gateway.ConnectionCount,
        };
        if (silos.Connections is { } connected)
        {
            data["siloConnections"] = connected;
        }

        var result = gateway.IsStopping ? HealthCheckResult.Unhealthy("shutting down: clients should connect to another gateway", data: data)
            : silos.Connections == 0 ? HealthCheckResult.Unhealthy("no connection to any silo", data: data)
            : since is null ? HealthCheckResult.Unhealthy("not yet reported to the cluster's gateway registry", data: data)
            : since > window ? HealthCheckResult.Unhealthy($"no report to the gateway registry for {since.Value.TotalSeconds:0.0} s (limit {window.TotalSeconds:0.0} s)", data: data)
            : HealthCheckResult.Healthy($"reported to the gateway registry {since.Value.TotalSeconds:0.0} s ago", data);
        return Task.FromResult(result);
    }
}
