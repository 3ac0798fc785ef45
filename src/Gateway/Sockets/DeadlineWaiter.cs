using System.Threading.Tasks.Sources;

namespace RoomActors.Gateway.Sockets;

/// <summary>
/// Waits for one task at a time, up to a deadline, with one timer and one awaitable reused for every wait: a room's pump
/// on a gateway awaits each answer of its room this way, instead of a timer and a promise per call
/// (<see cref="Task.WaitAsync(TimeSpan)"/>'s cost, a sixth of what a gateway allocated per batch).
/// </summary>
/// <remarks>
/// Callers wait one at a time (the pump has one call in flight). A completion or a timer firing left over from an earlier
/// wait is told apart by the current task and deadline, so it never ends the current wait early.
/// </remarks>
internal sealed class DeadlineWaiter : IValueTaskSource<bool>, IDisposable
{
    private readonly Timer _timer;
    private readonly Action _onTaskDone;
    // The waiter's continuation runs where the wait ends, not in a work item of its own: a task's completion runs
    // OnTaskDone off any lock on a thread-pool thread (a co-hosted room's answer and an Orleans response both run their
    // continuations asynchronously), and the timer fires on one. One thread-pool hop per call instead of two.
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = false };
    private Task? _task;
    private long _deadline;
    private int _finished = 1;

    public DeadlineWaiter()
    {
        // The timer must not carry the context of whoever created the waiter into every firing.
        using (ExecutionContext.SuppressFlow())
        {
            _timer = new Timer(static s => ((DeadlineWaiter)s!).OnTimer(), this, Timeout.Infinite, Timeout.Infinite);
        }

        _onTaskDone = OnTaskDone;
    }

    /// <summary>True once <paramref name="task"/> completes (in any state); false when <paramref name="timeout"/> passes first.</summary>
    public ValueTask<bool> WaitAsync(Task task, TimeSpan timeout)
    {
        if (task.IsCompleted)
        {
            return new(true);
        }

        _core.Reset();
        Volatile.Write(ref _task, task);
        Volatile.Write(ref _deadline, Environment.TickCount64 + (long)Math.Ceiling(timeout.TotalMilliseconds));
        Volatile.Write(ref _finished, 0);
        _timer.Change(timeout, Timeout.InfiniteTimeSpan);
        task.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_onTaskDone);
        return new(this, _core.Version);
    }

    private void OnTaskDone()
    {
        // An earlier wait's task completing now is not this wait's.
        if (Volatile.Read(ref _task)?.IsCompleted == true)
        {
            Finish(inTime: true);
        }
    }

    private void OnTimer()
    {
        if (Volatile.Read(ref _finished) != 0)
        {
            return;
        }

        var left = Volatile.Read(ref _deadline) - Environment.TickCount64;
        if (left > 0)
        {
            // Early (the clocks differ by a tick), or an earlier wait's firing: wait out the rest.
            _timer.Change(left, Timeout.Infinite);
            return;
        }

        Finish(inTime: false);
    }

    private void Finish(bool inTime)
    {
        if (Interlocked.Exchange(ref _finished, 1) != 0)
        {
            return;
        }

        if (inTime)
        {
            _timer.Change(Timeout.Infinite, Timeout.Infinite);
        }

        _core.SetResult(inTime);
    }

    public void Dispose() => _timer.Dispose();

    bool IValueTaskSource<bool>.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
