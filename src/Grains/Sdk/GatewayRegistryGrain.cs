using Microsoft.Extensions.Options;

namespace RoomActors;

/// <summary>Tracks gateway heartbeats in memory (see <see cref="IGatewayRegistry"/>).</summary>
internal sealed class GatewayRegistryGrain(IOptions<RoomOptions> options, TimeProvider? clock = null) : Grain, IGatewayRegistry
{
    private readonly TimeProvider time = clock ?? TimeProvider.System;
    private readonly Dictionary<GrainId, long> _lastHeard = new();
    private long _started;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _started = time.GetTimestamp();
        return Task.CompletedTask;
    }

    public Task Heartbeat(IGatewayObserver gateway)
    {
        _lastHeard[gateway.GetGrainId()] = time.GetTimestamp();
        DelayDeactivation(TimeSpan.FromMinutes(10));
        return Task.CompletedTask;
    }

    public Task<GatewayLiveness> GetLiveness()
    {
        var lease = options.Value.GatewayLease;
        foreach (var (id, heard) in _lastHeard.ToList())
        {
            if (time.GetElapsedTime(heard) > lease)
            {
                _lastHeard.Remove(id);
            }
        }

        return Task.FromResult(new GatewayLiveness([.. _lastHeard.Keys], time.GetElapsedTime(_started) > lease));
    }
}
