using System.Collections.Concurrent;
using RoomActors.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RoomActors.Tests.Integration;

/// <summary>Relays messages with the member count; answers GET with the count; announces leaves.</summary>
[Room("it-sleepy")]
public sealed class SleepyRoom : Room
{
    public static readonly ConcurrentDictionary<string, int> Starts = new();

    protected override Task OnStartAsync()
    {
        Starts.AddOrUpdate(RoomName, 1, (_, n) => n + 1);
        return Task.CompletedTask;
    }

    protected override Task OnConnectAsync(Connection connection, ConnectContext context)
    {
        connection.AddTag("member");
        connection.SetState(new Badge(context.Query["who"] ?? "?"));
        return Task.CompletedTask;
    }

    protected override Task OnMessageAsync(Connection sender, RoomMessage message)
    {
        Broadcast($"{message.Text} n={Connections.Count} tagged={GetConnections("member").Count()} from={sender.GetState<Badge>()?.Who}");
        return Task.CompletedTask;
    }

    protected override Task OnCloseAsync(Connection connection, int code, string reason)
    {
        Broadcast($"left {connection.GetState<Badge>()?.Who} n={Connections.Count}");
        return Task.CompletedTask;
    }

    protected override Task<RoomHttpResponse> OnRequestAsync(RoomHttpRequest request) =>
        Task.FromResult(RoomHttpResponse.Text(Connections.Count.ToString()));

    public sealed record Badge(string Who);
}

/// <summary>Rooms with connections leave memory when idle and come back with every connection.</summary>
[Collection(Distributed.DistributedCollection.Name)]
public sealed class HibernationTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_sleeping_room_s_minute_check_wakes_it_once_and_it_sleeps_again()
    {
        // The check asks the room's gateways for their tails (the fence). A gateway that answered with a renewal batch
        // after it woke the room again: two starts per check, and the second stayed awake until it hibernated again.
        await using var server = await AllInOneServer.StartAsync("--RoomActors:Rooms:HibernateAfter=00:00:02", "--RoomActors:Rooms:LeaseCheckInterval=00:00:01");
        var room = "r-" + Guid.NewGuid().ToString("N")[..12];
        var roomId = RoomGrainIds.Of("it-sleepy", room);
        await using var client = await TestClient.ConnectAsync(new Uri(server.Room("it-sleepy", room) + "?who=a"));
        await client.SendAsync("hello");
        await client.SkipUntilAsync("hello n=1 tagged=1 from=a");
        var management = server.Grains.GetGrain<IManagementGrain>(0);
        async Task<bool> AwakeAsync() => (await management.GetDetailedGrainStatistics()).Any(s => s.GrainId == roomId);
        await GatewayTests.Eventually(() => !AwakeAsync().Result, TimeSpan.FromSeconds(30));
        var starts = SleepyRoom.Starts[room];

        await server.Grains.GetGrain<IRemindable>(roomId).ReceiveReminder("roomactors-sleep", new TickStatus(DateTime.UtcNow, TimeSpan.FromMinutes(1), DateTime.UtcNow));
        await GatewayTests.Eventually(() => !AwakeAsync().Result, TimeSpan.FromSeconds(10));
        await Task.Delay(1000); // a renewal on its way would wake it again within this
        Assert.False(await AwakeAsync());
        Assert.Equal(starts + 1, SleepyRoom.Starts[room]);

        // Still served: a message wakes it with its connection.
        await client.SendAsync("again");
        await client.SkipUntilAsync("again n=1 tagged=1 from=a");
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("redis")]
    public async Task A_hibernated_room_wakes_with_all_100_connections_for_a_message_a_request_or_a_close(string mode)
    {
        await using var redis = mode == "redis" ? await RedisServer.StartAsync() : null;
        var id = "sleepy-" + Guid.NewGuid().ToString("N")[..8];
        string[] settings = ["--RoomActors:Rooms:HibernateAfter=00:00:02", "--RoomActors:Rooms:LeaseCheckInterval=00:00:01"];
        if (redis is not null)
        {
            settings = [.. settings, "--redis", redis.Address, "--cluster-id", id, "--service-id", id];
        }

        await using var server = await AllInOneServer.StartAsync(settings);
        var room = "r-" + Guid.NewGuid().ToString("N")[..12];
        var roomId = RoomGrainIds.Of("it-sleepy", room);
        var clients = new List<TestClient>();
        for (var i = 0; i < 100; i++)
        {
            var client = await TestClient.ConnectAsync(new Uri(server.Room("it-sleepy", room) + $"?who=c{i}"));
            await client.SendAsync("joined");
            await client.SkipUntilAsync($"joined n={i + 1} tagged={i + 1} from=c{i}");
            clients.Add(client);
        }

        try
        {
            var management = server.Grains.GetGrain<IManagementGrain>(0);
            async Task WaitAsleepAsync()
            {
                await GatewayTests.Eventually(
                    () => !management.GetDetailedGrainStatistics().Result.Any(s => s.GrainId == roomId),
                    TimeSpan.FromSeconds(60));
            }

            await WaitAsleepAsync();
            var starts = SleepyRoom.Starts[room];
            output.WriteLine($"{mode}: hibernated with 100 connections after {starts} activation(s)");

            // An HTTP request wakes it: it sees all 100.
            using var http = new HttpClient();
            Assert.Equal("100", await http.GetStringAsync(new Uri(server.Http, $"/rooms/it-sleepy/{room}")));
            Assert.Equal(starts + 1, SleepyRoom.Starts[room]);

            // Asleep again; one message reaches all 100, with tags and per-connection state intact.
            await WaitAsleepAsync();
            await clients[42].SendAsync("wake");
            foreach (var client in clients)
            {
                await client.SkipUntilAsync("wake n=100 tagged=100 from=c42");
            }

            Assert.Equal(starts + 2, SleepyRoom.Starts[room]);

            // Asleep again; a close wakes it and its close hook runs once, for the right connection.
            await WaitAsleepAsync();
            await clients[7].CloseAsync();
            foreach (var client in clients.Where((_, i) => i != 7))
            {
                await client.SkipUntilAsync("left c7 n=99");
            }

            Assert.Equal(starts + 3, SleepyRoom.Starts[room]);

            // Asleep again; a new connection wakes it and joins the 99 others.
            await WaitAsleepAsync();
            await using var late = await TestClient.ConnectAsync(new Uri(server.Room("it-sleepy", room) + "?who=late"));
            await late.SendAsync("late");
            await late.SkipUntilAsync("late n=100 tagged=100 from=late");
            await clients[0].SkipUntilAsync("late n=100 tagged=100 from=late");
            Assert.Equal(starts + 4, SleepyRoom.Starts[room]);
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }
}
