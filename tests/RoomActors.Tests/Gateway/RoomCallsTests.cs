using Microsoft.Extensions.Logging.Abstractions;
using RoomActors.Gateway;
using RoomActors.Gateway.Sockets;

namespace RoomActors.Tests.Gateway;

/// <summary>The gateway's one retry and timeout policy for calls to rooms.</summary>
public sealed class RoomCallsTests
{
    private static readonly GrainId Room = RoomGrainIds.Of("chat", "policy");

    private static RoomCalls Policy(int callMs = 200, int budgetMs = 1500) => new(new GatewayOptions
    {
        RoomCallTimeout = TimeSpan.FromMilliseconds(callMs),
        RoomUnavailableTimeout = TimeSpan.FromMilliseconds(budgetMs),
    }, NullLogger.Instance);

    [Fact]
    public async Task A_repeatable_call_is_tried_again_after_failures_and_timeouts_until_it_answers()
    {
        var attempts = 0;
        var answer = await Policy().CallAsync(Room, "batch", async () =>
        {
            switch (++attempts)
            {
                case 1: throw new SiloUnavailableException();
                case 2: await Task.Delay(Timeout.Infinite); return 0; // an attempt that never answers times out
                default: return 42;
            }
        });
        Assert.Equal((42, 3), (answer, attempts));
    }

    [Fact]
    public async Task A_call_that_may_have_run_is_attempted_once()
    {
        var attempts = 0;
        var error = await Assert.ThrowsAsync<RoomUnavailableException>(() => Policy().CallAsync<int>(Room, "HTTP request", () =>
        {
            attempts++;
            throw new InvalidOperationException("storage down");
        }, repeatable: false));
        Assert.Equal(1, attempts);
        Assert.False(error.TimedOut);
        Assert.Contains("storage down", error.Message);
    }

    [Fact]
    public async Task A_room_that_stays_away_fails_the_call_once_the_budget_is_spent()
    {
        var attempts = 0;
        var started = DateTime.UtcNow;
        var error = await Assert.ThrowsAsync<RoomUnavailableException>(() => Policy(callMs: 100, budgetMs: 2000).CallAsync<int>(Room, "connect", async () =>
        {
            attempts++;
            await Task.Delay(Timeout.Infinite);
            return 0;
        }));
        Assert.True(error.TimedOut);
        Assert.True(attempts >= 2, $"{attempts} attempts");
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10));
    }
}
