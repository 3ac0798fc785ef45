using Microsoft.Extensions.DependencyInjection;
using RoomActors.Tests.Infrastructure;

namespace RoomActors.Tests.Integration;

/// <summary>
/// A gateway in a silo's process hands batches to rooms active in that process directly, on the room's scheduler
/// (<c>RoomActors:Gateway:LocalRooms</c>): taken when it can be, and nothing lost, doubled or reordered when the room
/// leaves under traffic and comes back through Orleans.
/// </summary>
public sealed class LocalRoomsTests
{
    [Fact]
    public async Task Batches_reach_a_room_active_in_the_process_without_an_Orleans_request_and_not_when_turned_off()
    {
        foreach (var on in new[] { true, false })
        {
            await using var server = await AllInOneServer.StartAsync($"--RoomActors:Gateway:LocalRooms={on}");
            var name = "local-" + Guid.NewGuid().ToString("N")[..8];
            var clients = await TestClient.JoinRelayAsync([server.Room("broadcast", name), server.Room("broadcast", name)]);
            for (var i = 0; i < 20; i++)
            {
                await clients[0].SendAsync("m" + i);
            }

            foreach (var client in clients)
            {
                for (var i = 0; i < 20; i++)
                {
                    Assert.Equal("m" + i, await client.ReceiveTextAsync());
                }
            }

            var local = server.App.Services.GetRequiredService<LocalRooms>();
            Assert.True(local.TryGet(RoomGrainIds.Of("broadcast", name), out var room), "the active room is not registered");
            var batches = ((Room)room).LocalBatches;
            Assert.True(on ? batches > 0 : batches == 0, $"LocalRooms={on}: {batches} local batches");
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_room_that_hibernates_and_wakes_again_and_again_under_traffic_loses_doubles_and_reorders_nothing()
    {
        await using var server = await AllInOneServer.StartAsync();
        var name = "leaving-" + Guid.NewGuid().ToString("N")[..8];
        var roomId = RoomGrainIds.Of("broadcast", name);
        var clients = await TestClient.JoinRelayAsync([server.Room("broadcast", name), server.Room("broadcast", name), server.Room("broadcast", name)]);
        var operations = server.Grains.GetGrain<IRoomOperations>(roomId);
        var local = server.App.Services.GetRequiredService<LocalRooms>();

        // Two senders; the room is put to sleep every 25 messages while batches are under way.
        const int PerSender = 150;
        var hibernations = 0;
        var senders = clients.Take(2).Select((client, s) => Task.Run(async () =>
        {
            for (var i = 0; i < PerSender; i++)
            {
                await client.SendAsync($"s{s}:{i}");
                if (i % 5 == 4)
                {
                    await Task.Delay(2); // let batches be under way at each hibernation
                }
            }
        })).ToList();
        for (var round = 0; round < 12 && !senders.All(t => t.IsCompleted); round++)
        {
            await Task.Delay(15);
            var answer = await operations.Hibernate("test");
            if (answer.Outcome == HibernateOutcome.Hibernating)
            {
                hibernations++;
            }
        }

        await Task.WhenAll(senders).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(hibernations > 0, "the room never hibernated: the test saw no leaving");

        // Every client gets every message once, each sender's in order (the room's order is one for all).
        var orders = new List<string>();
        foreach (var client in clients)
        {
            var got = new List<string>();
            while (got.Count < 2 * PerSender)
            {
                got.Add(await client.ReceiveTextAsync());
            }

            for (var s = 0; s < 2; s++)
            {
                Assert.Equal(Enumerable.Range(0, PerSender).Select(i => $"s{s}:{i}"), got.Where(m => m.StartsWith($"s{s}:", StringComparison.Ordinal)));
            }

            orders.Add(string.Join(",", got));
        }

        Assert.Single(orders.Distinct());

        // Asleep or not after the last round: one more message wakes it (through Orleans), and it is local again.
        await clients[2].SendAsync("last");
        foreach (var client in clients)
        {
            Assert.Equal("last", await client.ReceiveTextAsync());
        }

        Assert.True(local.TryGet(roomId, out _), "the room woke and is not registered for local batches again");
        foreach (var client in clients)
        {
            await client.DisposeAsync();
        }
    }
}
