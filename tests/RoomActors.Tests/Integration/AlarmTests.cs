using RoomActors.Tests.Infrastructure;

namespace RoomActors.Tests.Integration;

/// <summary>Alarms in the all-in-one mode (memory) and in Redis mode (Redis storage and reminders).</summary>
[Collection(Distributed.DistributedCollection.Name)]
public sealed class AlarmTests
{
    private static string NewName() => "r-" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>Runs <paramref name="test"/> against an all-in-one host in memory mode or on a real redis-server.</summary>
    private static async Task WithServerAsync(string mode, Func<AllInOneServer, Task> test)
    {
        await using var redis = mode == "redis" ? await RedisServer.StartAsync() : null;
        string[] settings = ["--RoomActors:Rooms:AlarmRetryBase=00:00:00.200"];
        if (redis is not null)
        {
            var id = "alarms-" + Guid.NewGuid().ToString("N")[..8];
            settings = [.. settings, "--redis", redis.Address, "--cluster-id", id, "--service-id", id];
        }

        await using var server = await AllInOneServer.StartAsync(settings);
        await test(server);
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("redis")]
    public async Task An_alarm_fires_once_and_can_be_read_and_deleted(string mode)
    {
        await WithServerAsync(mode, async server =>
        {
            await using var client = await TestClient.ConnectAsync(server.Room("it-alarm", NewName()));
            await client.SendAsync("set 2000"); // far enough ahead that "get" is answered first on a busy machine
            Assert.Equal("set", await client.ReceiveTextAsync());
            await client.SendAsync("get");
            Assert.StartsWith("at ", await client.ReceiveTextAsync());
            Assert.Equal("alarm retry=0", await client.ReceiveTextAsync());
            await client.SendAsync("get");
            Assert.Equal("none", await client.ReceiveTextAsync());

            // A deleted alarm never fires.
            await client.SendAsync("set 500");
            Assert.Equal("set", await client.ReceiveTextAsync());
            await client.SendAsync("del");
            Assert.Equal("deleted", await client.ReceiveTextAsync());
            await Assert.ThrowsAsync<TimeoutException>(() => client.ReceiveAsync(TimeSpan.FromSeconds(2)));
        });
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("redis")]
    public async Task A_throwing_alarm_hook_is_retried_with_backoff_and_sees_the_retry_count(string mode)
    {
        await WithServerAsync(mode, async server =>
        {
            await using var client = await TestClient.ConnectAsync(server.Room("it-alarm", NewName()));
            await client.SendAsync("fail 3");
            Assert.Equal("failing", await client.ReceiveTextAsync());
            var set = DateTimeOffset.UtcNow;
            await client.SendAsync("set 100");
            Assert.Equal("set", await client.ReceiveTextAsync());

            // Retries after 0.2 s, 0.4 s and 0.8 s: the fourth attempt (retry 3) succeeds.
            Assert.Equal("alarm retry=3", await client.ReceiveTextAsync(TimeSpan.FromSeconds(30)));
            Assert.True(DateTimeOffset.UtcNow - set >= TimeSpan.FromMilliseconds(100 + 200 + 400 + 800));
        });
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("redis")]
    public async Task An_alarm_fires_even_after_the_room_left_memory(string mode)
    {
        await WithServerAsync(mode, async server =>
        {
            var room = NewName();
            await using (var client = await TestClient.ConnectAsync(server.Room("it-alarm", room)))
            {
                await client.SendAsync("set 6000");
                Assert.Equal("set", await client.ReceiveTextAsync());
                await client.CloseAsync();
            }

            // Nobody is connected; the room is collected; the reminder brings it back to fire.
            var management = server.Grains.GetGrain<IManagementGrain>(0);
            var roomId = RoomGrainIds.Of("it-alarm", room);
            await GatewayTests.Eventually(() =>
            {
                management.ForceActivationCollection(TimeSpan.Zero).Wait();
                return !management.GetDetailedGrainStatistics().Result.Any(s => s.GrainId == roomId);
            });
            Assert.False(AlarmRoom.Fired.ContainsKey(room), "the alarm fired before the room left memory");
            await GatewayTests.Eventually(() => AlarmRoom.Fired.ContainsKey(room), TimeSpan.FromSeconds(90));
            Assert.Single(AlarmRoom.Fired[room]);
            Assert.Equal(2, AlarmRoom.Starts[room]); // it fired in a new activation
        });
    }
}
