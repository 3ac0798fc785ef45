using System.Collections.Concurrent;
using RoomActors.Tests.Infrastructure;

namespace RoomActors.Tests.Integration;

/// <summary>Relays text with the sender's last auto-response time.</summary>
[Room("it-pinged")]
public sealed class PingedRoom : Room
{
    public static readonly ConcurrentDictionary<string, int> Starts = new();

    protected override Task OnStartAsync()
    {
        Starts.AddOrUpdate(RoomName, 1, (_, n) => n + 1);
        return Task.CompletedTask;
    }

    protected override Task OnMessageAsync(Connection sender, RoomMessage message)
    {
        Broadcast($"{message.Text} lastping={sender.LastPing?.ToUnixTimeMilliseconds() ?? 0}");
        return Task.CompletedTask;
    }
}

/// <summary>The gateway answers <c>ping</c> itself, without waking a hibernated room.</summary>
public sealed class AutoResponseTests
{
    [Fact]
    public async Task Ping_is_answered_by_the_gateway_without_waking_the_room_which_later_sees_when()
    {
        await using var server = await AllInOneServer.StartAsync(
            "--RoomActors:Gateway:AutoResponseRequest=ping", "--RoomActors:Gateway:AutoResponseResponse=pong",
            "--RoomActors:Rooms:HibernateAfter=00:00:02", "--RoomActors:Rooms:LeaseCheckInterval=00:00:01");
        var room = "r-" + Guid.NewGuid().ToString("N")[..12];
        await using var a = await TestClient.ConnectAsync(server.Room("it-pinged", room));
        await a.SendAsync("a-in");
        await a.SkipUntilAsync("a-in lastping=0");
        await using var b = await TestClient.ConnectAsync(server.Room("it-pinged", room));
        await b.SendAsync("b-in");
        await b.SkipUntilAsync("b-in lastping=0");
        await a.SkipUntilAsync("b-in lastping=0");

        var management = server.Grains.GetGrain<IManagementGrain>(0);
        var roomId = RoomGrainIds.Of("it-pinged", room);
        await GatewayTests.Eventually(() => !management.GetDetailedGrainStatistics().Result.Any(s => s.GrainId == roomId), TimeSpan.FromSeconds(30));
        var starts = PingedRoom.Starts[room];

        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        for (var i = 0; i < 3; i++)
        {
            await a.SendAsync("ping");
            Assert.Equal("pong", await a.ReceiveTextAsync());
        }

        var after = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        Assert.DoesNotContain(await management.GetDetailedGrainStatistics(), s => s.GrainId == roomId); // no ping woke the room
        Assert.Equal(starts, PingedRoom.Starts[room]);
        Assert.Empty(b.Drain());

        // The room wakes for a real message and knows when a last pinged.
        await a.SendAsync("hello");
        var relayed = await b.ReceiveTextAsync();
        var lastPing = long.Parse(relayed["hello lastping=".Length..]);
        Assert.InRange(lastPing, before, after);

        // "ping" inside a longer text is an ordinary message.
        await b.SendAsync("ping!");
        Assert.Equal(1, await a.SkipUntilAsync("ping! lastping=0")); // only its own "hello" came before
    }
}
