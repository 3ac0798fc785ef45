using RoomActors.Tests.Infrastructure;

namespace RoomActors.Tests.Integration;

/// <summary>The co-hosted gateway of the all-in-one silo plus a standalone gateway (an Orleans client) in one cluster.</summary>
public sealed class TwoGatewayTests
{
    [Fact]
    public async Task Clients_on_two_gateways_share_a_room_in_one_order_with_one_delivery_per_gateway_per_turn()
    {
        await using var server = await AllInOneServer.StartAsync();
        await using var standalone = await StandaloneGateway.StartAsync(server);
        var room = "r-" + Guid.NewGuid().ToString("N")[..12];

        var clients = await TestClient.JoinRelayAsync(Enumerable.Range(0, 6).Select(i =>
            i % 2 == 0 ? server.Room("broadcast", room) : standalone.Room("broadcast", room)));
        try
        {
            // One message, one turn: each gateway gets exactly one delivery for its three clients.
            var before = (server.Gateway.DeliveriesReceived, standalone.Gateway.DeliveriesReceived);
            await clients[1].SendAsync("one");
            foreach (var client in clients)
            {
                Assert.Equal("one", await client.ReceiveTextAsync());
            }

            Assert.Equal(before.Item1 + 1, server.Gateway.DeliveriesReceived);
            Assert.Equal(before.Item2 + 1, standalone.Gateway.DeliveriesReceived);

            // Concurrent senders on both gateways: one identical order everywhere, nothing lost.
            await OrderCheck.RunAsync(clients, senders: 4, perSender: 100);
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
