using System.Threading.Tasks.Sources;

namespace RoomActors.Gateway.Sockets;

/// <summary>
/// Wakes a parked pump on the thread that gave it work, instead of in a thread-pool work item of its own (a channel's
/// wait-to-read costs one per wake-up): the socket reader that queued a frame for a co-hosted room hands the room its
/// batch itself. One waiter; reused for every wait.
/// </summary>
/// <remarks>
/// The woken pump runs on whatever thread called <see cref="Wake"/> until its first wait; it checks where it is
/// (<see cref="OnThreadPool"/>) and moves to the thread pool when that is not a plain thread-pool context (a wake from
/// within an Orleans call), so that none of its later continuations run on a grain's scheduler.
/// </remarks>
internal sealed class PumpSignal : IValueTaskSource
{
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = false };
    private int _parked;

    /// <summary>
    /// Parks the caller until <see cref="Wake"/>, unless <paramref name="hasWork"/> is true once it is parked (work that
    /// came while it was parking). One caller at a time.
    /// </summary>
    public ValueTask WaitAsync(Func<bool> hasWork)
    {
        _core.Reset();
        Interlocked.Exchange(ref _parked, 1); // a full fence: the check below sees any work queued before a writer's Wake saw 0
        if (hasWork() && Interlocked.Exchange(ref _parked, 0) == 1)
        {
            return default; // un-parked itself; no writer will complete this wait
        }

        return new ValueTask(this, _core.Version);
    }

    /// <summary>Wakes the parked waiter, if any, on this thread. Call after the work is queued.</summary>
    public void Wake()
    {
        // A full fence (not a plain read): the work queued before it is seen by a waiter that parked after it.
        if (Interlocked.CompareExchange(ref _parked, 0, 1) == 1)
        {
            _core.SetResult(true);
        }
    }

    /// <summary>True on a thread-pool thread with no synchronization context and the default task scheduler.</summary>
    public static bool OnThreadPool =>
        Thread.CurrentThread.IsThreadPoolThread && SynchronizationContext.Current is null && TaskScheduler.Current == TaskScheduler.Default;

    /// <summary>Continues in a thread-pool work item, with the default scheduler and no synchronization context.</summary>
    public static ThreadPoolHop ToThreadPool() => default;

    void IValueTaskSource.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    /// <summary>An awaitable that always continues in a new thread-pool work item.</summary>
    public readonly struct ThreadPoolHop : System.Runtime.CompilerServices.ICriticalNotifyCompletion
    {
        public ThreadPoolHop GetAwaiter() => this;

        public bool IsCompleted => false;

        public void GetResult()
        {
        }

        public void OnCompleted(Action continuation) => ThreadPool.QueueUserWorkItem(static c => c(), continuation, preferLocal: false);

        public void UnsafeOnCompleted(Action continuation) => ThreadPool.UnsafeQueueUserWorkItem(static c => c(), continuation, preferLocal: false);
    }
}
