using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace RoomActors;

/// <summary>
/// A silo-local copy of the gateway registry, refreshed every 2 s, so that rooms check their gateways without a
/// grain call each.
/// </summary>
internal sealed partial class GatewayLivenessCache(IGrainFactory grains, ILogger<GatewayLivenessCache> logger) : BackgroundService
{
    private volatile GatewayLiveness _current = new([], Settled: false);
    private volatile HashSet<GrainId> _alive = [];

    /// <summary>True when the registry is sure <paramref name="gateway"/> stopped reporting.</summary>
    public bool IsDead(GrainId gateway) => _current.Settled && !_alive.Contains(gateway);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(2));
        do
        {
            try
            {
                var liveness = await grains.GetGrain<IGatewayRegistry>(0).GetLiveness();
                _alive = [.. liveness.Alive];
                _current = liveness;
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // Keep the last view and try again: declaring gateways dead on a failed refresh would close live connections.
                _current = _current with { Settled = false };
                LogRefreshFailed(logger, ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    [LoggerMessage(EventId = 1010, Level = LogLevel.Warning, Message = "Could not refresh gateway liveness; no gateway is declared dead until it works again.")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception);
}
