using System.Collections.Concurrent;
using Orleans.Storage;

namespace RoomActors.Tests.Infrastructure;

/// <summary>
/// Grain storage that fails on demand: writes of the rooms whose names are in <see cref="FailWrites"/> throw, as
/// Redis would when it is unreachable. Everything else goes to the real storage underneath.
/// </summary>
public sealed class FailingGrainStorage(IGrainStorage inner) : IGrainStorage
{
    public static readonly ConcurrentDictionary<string, bool> FailWrites = new();

    /// <summary>
    /// One failure each: the next write of room <c>Room</c>'s record whose name starts with <c>Record</c> throws, once
    /// (a crash between two writes of one turn, as far as what is durable goes).
    /// </summary>
    public static readonly ConcurrentDictionary<(string Room, string Record), bool> FailOnce = new();

    public static int FailedWrites;

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        inner.ReadStateAsync(stateName, grainId, grainState);

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var room = grainId.Key.ToString()!;
        if (FailWrites.ContainsKey(room) || FailOnce.Keys.FirstOrDefault(k => k.Room == room && stateName.StartsWith(k.Record, StringComparison.Ordinal)) is { Room: not null } once && FailOnce.TryRemove(once, out _))
        {
            Interlocked.Increment(ref FailedWrites);
            throw new IOException($"Storage write of {grainId} failed on demand (test).");
        }

        return inner.WriteStateAsync(stateName, grainId, grainState);
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        inner.ClearStateAsync(stateName, grainId, grainState);
}
