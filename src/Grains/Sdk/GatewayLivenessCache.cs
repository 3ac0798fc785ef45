using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace RoomActors;

/// <summary>
/// A silo-local copy of the gateway registry, refreshed every 2 s, so that rooms check their gateways without a
/// grain call each.
/// </summary>
internal sealed partial class GatewayLivenessCache(IGrainFactory grains, ILogger<GatewayLivenessCache> logger, IHostApplicationLifetime? lifetime = null)
    : BackgroundService
{
    private volatile GatewayLiveness _current = new([], Settled: false);
    private volatile HashSet<GrainId> _alive = [];

    /// <summary>True when the registry is sure <paramref name="gateway"/> stopped reporting.</summary>
    public bool IsDead(GrainId gateway) => _current.Settled && !_alive.Contains(gateway);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Only while the silo is up. This service starts before the silo and stops after it (the host stops services in
        // reverse order): a call before the silo joined its cluster fails in placement ("No active nodes are compatible
        // with grain gatewayregistry"), and one while it shuts down fails too, each logged by Orleans with a stack trace.
        if (!await StartedAsync(stoppingToken))
        {
            return;
        }

        using var running = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, lifetime?.ApplicationStopping ?? default);
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(2));
        try
        {
            do
            {
                try
                {
                    var liveness = await grains.GetGrain<IGatewayRegistry>(0).GetLiveness();
                    _alive = [.. liveness.Alive];
                    _current = liveness;
                }
                catch (Exception ex) when (!running.IsCancellationRequested)
                {
                    // Keep the last view and try again: declaring gateways dead on a failed refresh would close live connections.
                    _current = _current with { Settled = false };
                    LogRefreshFailed(logger, ex);
                }
            }
            while (await timer.WaitForNextTickAsync(running.Token).ConfigureAwait(false));
        }
        catch (Exception) when (running.IsCancellationRequested)
        {
            // Stopping: the timer's cancellation, or a refresh the silo's shutdown cut off; nothing to report.
        }
    }

    /// <summary>Waits until the host started (true) or is stopped first (false); without a host lifetime, at once.</summary>
    private async Task<bool> StartedAsync(CancellationToken stoppingToken)
    {
        if (lifetime is null)
        {
            return true;
        }

        using var startedOrStopping = CancellationTokenSource.CreateLinkedTokenSource(lifetime.ApplicationStarted, stoppingToken);
        try
        {
            await Task.Delay(Timeout.Infinite, startedOrStopping.Token);
        }
        catch (OperationCanceledException)
        {
            // Control flow: one of the two happened.
        }

        return !stoppingToken.IsCancellationRequested && !lifetime.ApplicationStopping.IsCancellationRequested;
    }

    [LoggerMessage(EventId = 1030, Level = LogLevel.Warning, Message = "Could not refresh gateway liveness; no gateway is declared dead until it works again.")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception);
}
