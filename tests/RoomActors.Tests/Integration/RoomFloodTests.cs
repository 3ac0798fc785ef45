using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using RoomActors.Tests.Infrastructure;

namespace RoomActors.Tests.Integration;

/// <summary>
/// A room-name flood is bounded: one client address may wake only so many rooms a minute, and rooms without
/// connections or alarms leave memory after a short idle time (their state stays durable).
/// </summary>
public sealed class RoomFloodTests
{
    private static string NewName() => "r-" + Guid.NewGuid().ToString("N")[..12];

    [Fact]
    public async Task One_address_waking_more_rooms_than_NewRoomsPerMinute_gets_429_with_Retry_After()
    {
        await using var server = await AllInOneServer.StartAsync("--RoomActors:Gateway:NewRoomsPerMinute=5");
        using var http = new HttpClient();
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri(server.Http, $"/rooms/counter/{NewName()}"))).StatusCode);
        }

        var refused = await http.GetAsync(new Uri(server.Http, $"/rooms/counter/{NewName()}"));
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Contains("RoomActors:Gateway:NewRoomsPerMinute", await refused.Content.ReadAsStringAsync());
        var retry = refused.Headers.RetryAfter?.Delta;
        Assert.NotNull(retry);
        Assert.InRange(retry.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));

        // Over a WebSocket too, before the upgrade.
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(server.Room("echo", NewName()), CancellationToken.None));
        Assert.Equal(HttpStatusCode.TooManyRequests, socket.HttpStatusCode);
    }

    [Fact]
    public async Task The_budget_counts_distinct_rooms_so_asking_again_for_the_same_room_costs_nothing()
    {
        await using var server = await AllInOneServer.StartAsync("--RoomActors:Gateway:NewRoomsPerMinute=3");
        using var http = new HttpClient();
        var polled = NewName();
        for (var i = 0; i < 10; i++)
        {
            // No socket here: each request may wake the room, but it is the same room.
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri(server.Http, $"/rooms/counter/{polled}"))).StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri(server.Http, $"/rooms/counter/{NewName()}"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri(server.Http, $"/rooms/counter/{NewName()}"))).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await http.GetAsync(new Uri(server.Http, $"/rooms/counter/{NewName()}"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri(server.Http, $"/rooms/counter/{polled}"))).StatusCode); // still free
    }

    [Fact]
    public async Task A_room_with_a_socket_here_does_not_count_against_the_budget()
    {
        await using var server = await AllInOneServer.StartAsync("--RoomActors:Gateway:NewRoomsPerMinute=1");
        var room = NewName();
        await using var first = await TestClient.ConnectAsync(server.Room("echo", room));
        for (var i = 0; i < 3; i++)
        {
            await using var more = await TestClient.ConnectAsync(server.Room("echo", room)); // the room is open here
        }
    }

    [Fact]
    public async Task Empty_rooms_leave_memory_after_IdleCollectAfter_and_their_state_stays()
    {
        await using var server = await AllInOneServer.StartAsync("--RoomActors:Rooms:IdleCollectAfter=00:00:02");
        var names = Enumerable.Range(0, 20).Select(_ => NewName()).ToList();

        // One counter with a value, then 20 rooms woken over HTTP and left alone.
        await using (var client = await TestClient.ConnectAsync(server.Room("counter", names[0])))
        {
            await client.SendAsync("inc");
            await client.SkipUntilAsync("1");
        }

        using var http = new HttpClient();
        foreach (var name in names)
        {
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri(server.Http, $"/rooms/counter/{name}"))).StatusCode);
        }

        var management = server.Grains.GetGrain<IManagementGrain>(0);
        var ids = names.Select(name => RoomGrainIds.Of("counter", name)).ToHashSet();
        async Task<int> ActiveAsync() => (await management.GetDetailedGrainStatistics()).Count(s => ids.Contains(s.GrainId));
        Assert.Equal(20, await ActiveAsync());

        // Gone within a few seconds (Orleans' own age is 15 minutes).
        var clock = Stopwatch.StartNew();
        while (await ActiveAsync() > 0 && clock.Elapsed < TimeSpan.FromSeconds(15))
        {
            await Task.Delay(250);
        }

        Assert.Equal(0, await ActiveAsync());
        Assert.Equal("1", await http.GetStringAsync(new Uri(server.Http, $"/rooms/counter/{names[0]}")));
    }
}
