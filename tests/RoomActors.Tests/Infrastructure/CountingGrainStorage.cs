using System.Collections.Concurrent;
using Orleans.Serialization;
using Orleans.Storage;

namespace RoomActors.Tests.Infrastructure;

/// <summary>
/// Grain storage that counts, per room name, the writes and clears made and the bytes each write carries (the record's
/// state in Orleans' own serialization, as a storage provider would store it), then hands everything to the real
/// storage underneath.
/// </summary>
public sealed class CountingGrainStorage(IGrainStorage inner, Serializer serializer) : IGrainStorage
{
    /// <summary>What one room has written so far.</summary>
    public sealed class Tally
    {
        public int Writes;
        public int Clears;
        public long Bytes;
    }

    public static readonly ConcurrentDictionary<string, Tally> ByRoom = new();

    /// <summary>The room's counts so far (zero when it wrote nothing).</summary>
    public static (int Writes, int Clears, long Bytes) Of(string room) =>
        ByRoom.TryGetValue(room, out var tally) ? (Volatile.Read(ref tally.Writes), Volatile.Read(ref tally.Clears), Interlocked.Read(ref tally.Bytes)) : (0, 0, 0);

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        inner.ReadStateAsync(stateName, grainId, grainState);

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var tally = ByRoom.GetOrAdd(grainId.Key.ToString()!, _ => new Tally());
        Interlocked.Increment(ref tally.Writes);
        Interlocked.Add(ref tally.Bytes, serializer.SerializeToArray(grainState.State).Length);
        return inner.WriteStateAsync(stateName, grainId, grainState);
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        Interlocked.Increment(ref ByRoom.GetOrAdd(grainId.Key.ToString()!, _ => new Tally()).Clears);
        return inner.ClearStateAsync(stateName, grainId, grainState);
    }
}
