using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using RoomActors.Diagnostics;

namespace RoomActors.Tests.Infrastructure;

/// <summary>
/// Sums every long counter of the RoomActors meter while it lives, by instrument name and by one tag's value (any
/// process-wide: other tests' servers may add to the same instruments, never subtract; compare before and after).
/// </summary>
public sealed class MeterTally : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<(string Instrument, string? Tag), long> _sums = new();

    public MeterTally()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == RoomActorsDiagnostics.MeterName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            _sums.AddOrUpdate((instrument.Name, null), value, (_, sum) => sum + value);
            foreach (var tag in tags)
            {
                _sums.AddOrUpdate((instrument.Name, $"{tag.Key}={tag.Value}"), value, (_, sum) => sum + value);
            }
        });
        _listener.Start();
    }

    /// <summary>The sum of <paramref name="instrument"/>'s measurements so far, or of those tagged <paramref name="tag"/> (<c>key=value</c>).</summary>
    public long Sum(string instrument, string? tag = null) => _sums.GetValueOrDefault((instrument, tag));

    public void Dispose() => _listener.Dispose();
}
