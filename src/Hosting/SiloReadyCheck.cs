using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace RoomActors.Hosting;

/// <summary>
/// Ready when this silo is <see cref="SiloStatus.Active"/> in the cluster's membership: it has joined and takes rooms;
/// while joining, shutting down or declared dead it is not.
/// </summary>
internal sealed class SiloReadyCheck(IClusterMembershipService membership, ILocalSiloDetails local) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var snapshot = membership.CurrentSnapshot;
        var status = snapshot.GetSiloStatus(local.SiloAddress);
        var data = new Dictionary<string, object>
        {
            ["silo"] = local.SiloAddress.ToString(),
            ["status"] = status.ToString(),
            ["activeSilos"] = snapshot.Members.Count(m => m.Value.Status == SiloStatus.Active),
        };
        return Task.FromResult(status == SiloStatus.Active
            ? HealthCheckResult.Healthy("this silo is active in the cluster", data)
            : HealthCheckResult.Unhealthy($"this silo is {status} in the cluster membership, not Active", data: data));
    }
}
