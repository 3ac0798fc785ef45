using System.Runtime.CompilerServices;

namespace RoomActors;

/// <summary>
/// What a room reports to the silo's <see cref="RoomMetrics"/> beyond its turns: being in memory (by type), leaving it
/// with connections and coming back with them, and how long its storage writes take.
/// </summary>
public abstract partial class Room
{
    private StrongBox<long>? _activeCount; // this room type's count of activations in the silo; set while counted

    /// <summary>The activation succeeded (Orleans calls <see cref="OnDeactivateAsync"/> only for these).</summary>
    private void Activated(bool woke)
    {
        _activeCount = RoomMetrics.ActiveCounter(RoomType);
        Interlocked.Increment(ref _activeCount.Value);
        if (woke)
        {
            RoomMetrics.Woke(RoomType);
        }
    }

    /// <summary>The room leaves memory: with connections, that is a hibernation (or a move; the next activation wakes it).</summary>
    private void Deactivated()
    {
        if (_activeCount is not { } count)
        {
            return;
        }

        _activeCount = null;
        Interlocked.Decrement(ref count.Value);
        if (_connections.Count > 0)
        {
            RoomMetrics.Hibernated(RoomType);
        }
    }

    /// <summary>Runs a storage write, timing it (and counting it when it fails).</summary>
    private protected static Task TimedWriteAsync(Func<Task> write) => RoomMetrics.WriteAsync(write);
}
