using System.Text;
using RoomActors.Tests.Infrastructure;

namespace RoomActors.Tests.Integration;

/// <summary>What a gateway does with the messages a new activation of a room sends it again.</summary>
public sealed class RedeliveredTests
{
    [Fact]
    public async Task A_gateway_skips_a_re_delivered_message_it_applied_already_and_applies_one_it_lacks()
    {
        // A new activation whose wait for this gateway's tail ran out sends it everything the other gateways held: the
        // gateway took the fence all the same (its answer was late), so it has some of those messages and lacks others.
        await using var server = await AllInOneServer.StartAsync();
        var name = "r-" + Guid.NewGuid().ToString("N")[..12];
        var clients = await TestClient.JoinRelayAsync([server.Room("broadcast", name)]);
        await using var client = clients[0];
        await client.SendAsync("m1");
        Assert.Equal("m1", await client.ReceiveTextAsync(TimeSpan.FromSeconds(5)));

        // The new activation's fence (a newer epoch), then its first delivery: m1 again and m2, both marked as sent again.
        var roomId = RoomGrainIds.Of("broadcast", name);
        var link = server.Gateway.CurrentLink(roomId)!;
        var epoch = link.Position.Epoch + 1;
        var tail = link.Fence(epoch);
        var m1 = Assert.Single(tail.Sends, op => Encoding.UTF8.GetString(op.Payload!.Data) == "m1");
        Assert.Equal(m1.Seq, tail.HighWater);
        var m2 = new RoomOp(RoomOpKind.Send, new Payload(true, Encoding.UTF8.GetBytes("m2")), Seq: m1.Seq + 1, Redelivered: true);
        server.Gateway.Delivered(new RoomDelivery
        {
            Room = roomId, Epoch = epoch, Session = link.Session, Number = 1, Ops = [m1 with { Redelivered = true }, m2],
        });

        Assert.Equal("m2", await client.ReceiveTextAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal((epoch, 2L), link.Position);
        Assert.Equal(m2.Seq, link.Fence(epoch).HighWater);
    }
}
