using System.Net.WebSockets;
using RoomActors.Tests.Infrastructure;

namespace RoomActors.Tests.Integration;

/// <summary>What a gateway does when a room delivery never arrives.</summary>
public sealed class ResyncTests
{
    [Fact]
    public async Task A_lasting_gap_closes_the_rooms_local_clients_with_1012_and_its_session_is_never_used_again()
    {
        await using var server = await AllInOneServer.StartAsync("--RoomActors:Gateway:ResyncTimeout=00:00:01");
        var name = "r-" + Guid.NewGuid().ToString("N")[..12];
        var clients = await TestClient.JoinRelayAsync([server.Room("broadcast", name)]);
        await using var first = clients[0];

        // A client that does not read: its close takes the whole close timeout, so the session outlives the gap.
        var roomId = RoomGrainIds.Of("broadcast", name);
        var link = server.Gateway.CurrentLink(roomId)!;
        var before = link.Position.Expected;
        await using var stuck = await TestClient.ConnectAsync(server.Room("broadcast", name), read: false);
        for (var i = 0; i < 200 && link.Position.Expected == before; i++)
        {
            await Task.Delay(50); // until the room's join of it has been applied
        }

        var (epoch, expected) = link.Position;
        Assert.True(expected > before, "the join never arrived");

        // A delivery numbered past one that never comes (as if the room's delivery was lost on the way).
        server.Gateway.Delivered(new RoomDelivery { Room = roomId, Epoch = epoch, Session = link.Session, Number = expected + 1, Ops = [] });
        var closed = await first.WaitClosedAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(((WebSocketCloseStatus)CloseCodes.ServiceRestart, "missed room messages; reconnect"), (closed.Status, closed.Reason));

        // The session's numbering is now out of step with the room's (here: it takes the room's next number as seen).
        link.OnDelivery(new RoomDelivery { Room = roomId, Epoch = epoch, Session = link.Session, Number = expected, Ops = [] });

        // A client that comes back while the old session still closes gets a new session, and is served.
        await using var again = await TestClient.ConnectAsync(server.Room("broadcast", name));
        Assert.NotSame(link, server.Gateway.CurrentLink(roomId));
        await again.SendAsync("back");
        Assert.Equal("back", await again.ReceiveTextAsync(TimeSpan.FromSeconds(5)));
    }
}
