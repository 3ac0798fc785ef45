using Microsoft.Extensions.Logging.Abstractions;
using RoomActors.Gateway;
using RoomActors.Gateway.Sockets;

namespace RoomActors.Tests.Gateway;

/// <summary>The reused deadline a room's pump waits for each answer with.</summary>
public sealed class DeadlineWaiterTests
{
    [Fact]
    public async Task A_task_that_completes_in_time_ends_the_wait_with_true_and_one_that_does_not_with_false()
    {
        using var waiter = new DeadlineWaiter();
        Assert.True(await waiter.WaitAsync(Task.CompletedTask, TimeSpan.FromSeconds(5)));

        var answer = new TaskCompletionSource<int>();
        var wait = waiter.WaitAsync(answer.Task, TimeSpan.FromSeconds(30)).AsTask();
        Assert.False(wait.IsCompleted);
        answer.SetResult(1);
        Assert.True(await wait.WaitAsync(TimeSpan.FromSeconds(5)));

        var never = new TaskCompletionSource<int>();
        var started = Environment.TickCount64;
        Assert.False(await waiter.WaitAsync(never.Task, TimeSpan.FromMilliseconds(150)).AsTask().WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.InRange(Environment.TickCount64 - started, 140, 5000);

        // A failed task is a completed one: the caller reads its failure.
        var failed = new TaskCompletionSource<int>();
        var failing = waiter.WaitAsync(failed.Task, TimeSpan.FromSeconds(30)).AsTask();
        failed.SetException(new InvalidOperationException("boom"));
        Assert.True(await failing.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task The_wait_goes_on_where_its_task_completed_with_no_work_item_between()
    {
        // A pump's call costs one thread-pool hop (the room's answer runs its continuations asynchronously), not two.
        using var waiter = new DeadlineWaiter();
        var answer = new TaskCompletionSource<int>();
        var completer = new TaskCompletionSource<int>();
        var wait = waiter.WaitAsync(answer.Task, TimeSpan.FromSeconds(30));
        var thread = new Thread(() =>
        {
            completer.SetResult(Environment.CurrentManagedThreadId);
            answer.SetResult(1);
        });

        var after = ThreadAfter(wait);
        thread.Start();
        Assert.Equal(await completer.Task, await after);
        thread.Join();

        // The thread the caller goes on on, when it takes no context with it (as the pump does).
        static async Task<int> ThreadAfter(ValueTask<bool> wait)
        {
            Assert.True(await wait.ConfigureAwait(false));
            return Environment.CurrentManagedThreadId;
        }
    }

    [Fact]
    public async Task What_an_earlier_wait_left_behind_never_ends_a_later_wait()
    {
        using var waiter = new DeadlineWaiter();

        // The first wait times out; its task completes later, while the second wait is under way.
        var late = new TaskCompletionSource<int>();
        Assert.False(await waiter.WaitAsync(late.Task, TimeSpan.FromMilliseconds(50)));
        var current = new TaskCompletionSource<int>();
        var second = waiter.WaitAsync(current.Task, TimeSpan.FromMilliseconds(400)).AsTask();
        late.SetResult(1);
        await Task.Delay(100);
        Assert.False(second.IsCompleted, "the earlier task's completion ended the later wait");
        Assert.False(await second.WaitAsync(TimeSpan.FromSeconds(5)), "the later wait ends at its own deadline");

        // Many short waits in a row, each ended by its own task, then a timeout still works.
        for (var i = 0; i < 1000; i++)
        {
            var each = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
            var wait = waiter.WaitAsync(each.Task, TimeSpan.FromSeconds(30));
            each.SetResult(i);
            Assert.True(await wait);
        }

        Assert.False(await waiter.WaitAsync(new TaskCompletionSource().Task, TimeSpan.FromMilliseconds(50)));
    }

    [Fact]
    public async Task The_room_call_policy_retries_through_the_waiter_as_through_its_own_timers()
    {
        var policy = new RoomCalls(new GatewayOptions
        {
            RoomCallTimeout = TimeSpan.FromMilliseconds(200),
            RoomUnavailableTimeout = TimeSpan.FromMilliseconds(1500),
        }, NullLogger.Instance);
        using var waiter = new DeadlineWaiter();
        var attempts = new int[1];
        var answer = await policy.CallAsync(RoomGrainIds.Of("chat", "policy"), "batch", static async attempts =>
        {
            switch (++attempts[0])
            {
                case 1: throw new SiloUnavailableException();
                case 2: await Task.Delay(Timeout.Infinite); return 0; // never answers: times out through the waiter
                default: return 42;
            }
        }, attempts, deadline: waiter);
        Assert.Equal((42, 3), (answer, attempts[0]));
    }
}
