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
            const int perSender = 100;
            var senders = clients.Take(4).Select((c, s) => Task.Run(async () =>
            {
                for (var m = 0; m < perSender; m++)
                {
                    await c.SendAsync($"{s}:{m}");
                }
            }));
            var receivers = clients.Select(async c =>
            {
                var seen = new List<string>();
                for (var i = 0; i < 4 * perSender; i++)
                {
                    seen.Add(await c.ReceiveTextAsync());
                }

                return seen;
            }).ToList();
            await Task.WhenAll(senders);
            var sequences = await Task.WhenAll(receivers);
            Assert.All(sequences, s => Assert.Equal(sequences[0], s));
            Assert.Equal(4 * perSender, sequences[0].Distinct().Count());
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
