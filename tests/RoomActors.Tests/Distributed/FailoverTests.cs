using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using RoomActors.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RoomActors.Tests.Distributed;

/// <summary>Gateways dying, silos joining and leaving, Redis restarting: real processes, bounded in time.</summary>
[Collection(DistributedCollection.Name)]
public sealed class FailoverTests(ITestOutputHelper output)
{
    private static string NewName() => "r-" + Guid.NewGuid().ToString("N")[..12];

    private static async Task<TestClient> JoinChatAsync(NodeProcess gateway, string room, string name)
    {
        var client = await TestClient.ConnectAsync(gateway.Room("chat", room));
        await client.SendAsync($$"""{"type":"join","name":"{{name}}"}""");
        Assert.Contains("\"history\"", await client.ReceiveTextAsync());
        return client;
    }

    [Fact]
    public async Task A_killed_gateway_s_connections_leave_their_rooms_within_the_lease_and_others_are_unaffected()
    {
        await using var cluster = await ProcessCluster.StartAsync();
        await cluster.StartSiloAsync("silo-1");
        var doomed = await cluster.StartGatewayAsync("gateway-a");
        var survivor = await cluster.StartGatewayAsync("gateway-b");
        var room = NewName();

        var onB = new List<TestClient> { await JoinChatAsync(survivor, room, "b0"), await JoinChatAsync(survivor, room, "b1") };
        var onA = new List<TestClient> { await JoinChatAsync(doomed, room, "a0"), await JoinChatAsync(doomed, room, "a1") };
        try
        {
            // b0 watches presence until a0 and a1 have both left.
            var killed = Stopwatch.StartNew();
            await doomed.KillAsync();
            var left = new HashSet<string>();
            string[] users = [];
            while (left.Count < 2)
            {
                using var presence = JsonDocument.Parse(await onB[0].ReceiveTextAsync(TimeSpan.FromSeconds(60)));
                if (presence.RootElement.GetProperty("type").GetString() == "presence" && presence.RootElement.GetProperty("event").GetString() == "leave")
                {
                    left.Add(presence.RootElement.GetProperty("name").GetString()!);
                    users = presence.RootElement.GetProperty("users").EnumerateArray().Select(u => u.GetString()!).ToArray();
                }
            }

            output.WriteLine($"gateway SIGKILL → its connections closed in the room after {killed.Elapsed.TotalSeconds:F1} s (lease 20 s, checked every 5 s)");
            Assert.Equal(["a0", "a1"], left.Order());
            Assert.Equal(["b0", "b1"], users.Order());
            Assert.True(killed.Elapsed < TimeSpan.FromSeconds(35), $"took {killed.Elapsed.TotalSeconds:F1} s");

            // Clients on the surviving gateway never noticed.
            await onB[1].SendAsync("""{"type":"message","text":"still here"}""");
            foreach (var client in onB)
            {
                string text;
                do
                {
                    text = await client.ReceiveTextAsync();
                }
                while (!text.Contains("still here"));
            }
        }
        finally
        {
            foreach (var client in onA.Concat(onB))
            {
                await client.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_new_silo_takes_new_rooms_and_a_terminated_silo_hands_its_rooms_over_without_closing_a_socket()
    {
        await using var cluster = await ProcessCluster.StartAsync();
        await cluster.StartSiloAsync("silo-1");
        var gateway = await cluster.StartGatewayAsync("gateway");
        await using var observer = await ClusterObserver.StartAsync(cluster);

        // Load on the first silo.
        var rooms = new List<(string Name, List<TestClient> Clients)>();
        for (var i = 0; i < 5; i++)
        {
            var name = NewName();
            rooms.Add((name, await TestClient.JoinRelayAsync(Enumerable.Range(0, 2).Select(_ => gateway.Room("broadcast", name)))));
        }

        try
        {
            var joining = await cluster.StartSiloAsync("silo-2");

            // New rooms after the join: some of them are placed on the new silo.
            var placed = Stopwatch.StartNew();
            Dictionary<string, int> bySilo;
            do
            {
                for (var i = 0; i < 10; i++)
                {
                    var name = NewName();
                    rooms.Add((name, await TestClient.JoinRelayAsync(Enumerable.Range(0, 2).Select(_ => gateway.Room("broadcast", name)))));
                }

                bySilo = await observer.RoomActivationsBySiloAsync();
            }
            while (bySilo.Count < 2 && placed.Elapsed < TimeSpan.FromSeconds(60));

            output.WriteLine("room activations by silo: " + string.Join(", ", bySilo.Select(kv => $"{kv.Key}={kv.Value}")));
            Assert.Equal(2, bySilo.Count);

            // Graceful stop of the new silo: its rooms move; no socket closes; every room still reaches all members.
            Assert.Equal(0, await joining.StopAsync());
            foreach (var (_, clients) in rooms)
            {
                var marker = "after-stop " + Guid.NewGuid().ToString("N");
                await clients[0].SendAsync(marker);
                foreach (var client in clients)
                {
                    await client.SkipUntilAsync(marker);
                }
            }

            Assert.All(rooms.SelectMany(r => r.Clients), c => Assert.Equal(WebSocketState.Open, c.Socket.State));
            var after = await observer.RoomActivationsBySiloAsync();
            Assert.Single(after);
        }
        finally
        {
            foreach (var client in rooms.SelectMany(r => r.Clients))
            {
                await client.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task The_cluster_recovers_when_redis_restarts()
    {
        await using var cluster = await ProcessCluster.StartAsync();
        await cluster.StartSiloAsync("silo-1");
        var gateway = await cluster.StartGatewayAsync("gateway");
        var room = NewName();
        await using var client = await TestClient.ConnectAsync(gateway.Room("counter", room));
        await client.SendAsync("inc");
        Assert.Equal("1", await client.ReceiveTextAsync());

        await cluster.Redis.RestartAsync();

        // The connected client goes on (writes may fail while Redis is away; the gateway retries).
        var recovered = Stopwatch.StartNew();
        await client.SendAsync("inc");
        Assert.Equal("2", await client.ReceiveTextAsync(TimeSpan.FromSeconds(60)));
        output.WriteLine($"first write after the Redis restart delivered in {recovered.Elapsed.TotalSeconds:F1} s");

        // New connections and new rooms work; state written before the restart is still there.
        await using var late = await TestClient.ConnectAsync(gateway.Room("counter", NewName()));
        await late.SendAsync("inc");
        Assert.Equal("1", await late.ReceiveTextAsync());
        using var http = new HttpClient();
        Assert.Equal("2", await http.GetStringAsync(new Uri(gateway.Http!, $"/rooms/counter/{room}")));
    }
}
