using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;

namespace RoomActors.Gateway.Sockets;

/// <summary>
/// The one retry and timeout policy for every call a gateway makes to a room (connect, before-connect check, batches
/// of messages and closes, HTTP requests).
/// <list type="bullet">
/// <item>Each attempt waits at most <see cref="GatewayOptions.RoomCallTimeout"/>: an Orleans call to a silo that died
/// would otherwise wait the whole response timeout (30 s), while the room can come back on another silo in seconds.</item>
/// <item>A call the room may see twice without harm is tried again on any failure (a silo that died, a room moving, a
/// turn whose state write failed), with backoff from 100 ms doubling to 2 s, until
/// <see cref="GatewayOptions.RoomUnavailableTimeout"/> has passed since the first attempt. Batches are numbered (the
/// room answers a repeated one from memory), a connect is idempotent per connection id, and the before-connect check and
/// HTTP GET, HEAD and OPTIONS only read.</item>
/// <item>Any other HTTP request may have run when an attempt fails, so it is attempted once, waiting up to
/// <see cref="GatewayOptions.RoomUnavailableTimeout"/>.</item>
/// </list>
/// When the budget is spent the call throws <see cref="RoomUnavailableException"/>; the caller answers 503 or closes its
/// clients with 1011.
/// </summary>
internal sealed partial class RoomCalls(GatewayOptions options, ILogger logger)
{
    public Task<T> CallAsync<T>(GrainId room, string call, Func<Task<T>> attempt, bool repeatable = true) =>
        CallAsync(room, call, static attempt => attempt(), attempt, repeatable).AsTask();

    /// <summary>
    /// The same, for the hot path: <paramref name="attempt"/> takes <paramref name="state"/> (a static lambda allocates
    /// nothing), and with <paramref name="deadline"/> each attempt waits through that reused waiter instead of a timer of
    /// its own. One wait at a time per waiter.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<T> CallAsync<TState, T>(GrainId room, string call, Func<TState, Task<T>> attempt, TState state, bool repeatable = true, DeadlineWaiter? deadline = null)
    {
        var started = Environment.TickCount64;
        var budget = options.RoomUnavailableTimeout;
        for (var n = 0; ; n++)
        {
            try
            {
                var timeout = repeatable ? options.RoomCallTimeout : budget;
                var task = attempt(state);
                if (deadline is null)
                {
                    return await task.WaitAsync(timeout);
                }

                if (!await deadline.WaitAsync(task, timeout))
                {
                    throw new TimeoutException($"The operation has timed out: no answer within {timeout}.");
                }

                return await task;
            }
            catch (Exception ex) when (repeatable && TimeSpan.FromMilliseconds(Environment.TickCount64 - started) < budget)
            {
                // Retry with backoff: the room is coming back (on another silo, or once its storage answers again).
                Log.Retrying(logger, ex, room, call, n + 1);
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(2000, 100 << Math.Min(n, 5))));
            }
            catch (Exception ex)
            {
                // Give up and let the caller answer: the room stayed unreachable for the whole budget.
                throw new RoomUnavailableException(room, call, ex);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2003, Level = LogLevel.Warning, Message = "Room {Room}: {Call} failed (attempt {Attempt}); retrying.")]
        public static partial void Retrying(ILogger logger, Exception exception, GrainId room, string call, int attempt);
    }
}

/// <summary>A room could not be reached within <see cref="GatewayOptions.RoomUnavailableTimeout"/>.</summary>
internal sealed class RoomUnavailableException(GrainId room, string call, Exception inner)
    : Exception($"Room {room}: {call} failed: {inner.Message}", inner)
{
    /// <summary>True when the last attempt timed out (rather than failed).</summary>
    public bool TimedOut => InnerException is TimeoutException;
}
