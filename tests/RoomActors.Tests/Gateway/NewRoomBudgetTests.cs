using System.Net;
using RoomActors.Gateway.Limits;

namespace RoomActors.Tests.Gateway;

/// <summary>
/// The new-room budget's window and memory, on a clock the test moves: distinct names per address in a sliding window,
/// entries leaving with their window, idle addresses swept.
/// </summary>
public sealed class NewRoomBudgetTests
{
    private sealed class ManualClock : TimeProvider
    {
        private long _ticks = 1;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }

    private static readonly IPAddress Ada = IPAddress.Parse("192.0.2.1");
    private static readonly IPAddress Bob = IPAddress.Parse("192.0.2.2");

    [Fact]
    public void Distinct_names_count_within_the_window_and_a_name_counts_again_after_it()
    {
        var clock = new ManualClock();
        var budget = new NewRoomBudget(3, TimeSpan.FromMinutes(1), clock);
        Assert.Null(budget.TryAdmit(Ada, "chat", "a"));
        for (var i = 0; i < 10; i++)
        {
            Assert.Null(budget.TryAdmit(Ada, "chat", "a")); // the same room: free
        }

        Assert.Null(budget.TryAdmit(Ada, "chat", "b"));
        clock.Advance(TimeSpan.FromSeconds(20));
        Assert.Null(budget.TryAdmit(Ada, "echo", "a")); // another type, another room
        Assert.Equal(TimeSpan.FromSeconds(40), budget.TryAdmit(Ada, "chat", "d")); // until chat/a and chat/b leave the window
        Assert.Null(budget.TryAdmit(Bob, "chat", "d")); // per address
        Assert.Null(budget.TryAdmit(Ada, "chat", "a")); // admitted before: still free

        clock.Advance(TimeSpan.FromSeconds(40));
        Assert.Null(budget.TryAdmit(Ada, "chat", "d"));
        Assert.Null(budget.TryAdmit(Ada, "chat", "a")); // counts again: its window had passed
        Assert.Equal(TimeSpan.FromSeconds(20), budget.TryAdmit(Ada, "chat", "e")); // echo/a, chat/d, chat/a fill it
    }

    [Fact]
    public void Memory_is_what_the_last_window_admitted_and_idle_addresses_are_swept()
    {
        var clock = new ManualClock();
        var budget = new NewRoomBudget(5, TimeSpan.FromMinutes(1), clock);
        for (var address = 0; address < 1000; address++)
        {
            var ip = new IPAddress([10, 0, (byte)(address / 256), (byte)(address % 256)]);
            for (var room = 0; room < 8; room++)
            {
                budget.TryAdmit(ip, "chat", $"r{room}");
            }
        }

        Assert.Equal(5000, budget.Tracked); // at most the limit per address

        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Null(budget.TryAdmit(Ada, "chat", "x")); // the first call after a window sweeps
        Assert.Equal(1, budget.Tracked);
    }
}
