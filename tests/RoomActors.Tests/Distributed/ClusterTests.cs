using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using RoomActors.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RoomActors.Tests.Distributed;

/// <summary>Real redis-server, real silo and gateway processes, real sockets on loopback.</summary>
[Collection(DistributedCollection.Name)]
public sealed class ClusterTests(ITestOutputHelper output)
{
    private static string NewName() => "r-" + Guid.NewGuid().ToString("N")[..12];

    [Fact]
    public async Task All_in_one_process_answers_ctrl_c_by_closing_sockets_with_1012_and_exiting_cleanly()
    {
        await using var node = await NodeProcess.StartAsync("Silo", "all-in-one", new Uri($"http://127.0.0.1:{FreePort.Next()}"),
            "--silo-port", FreePort.Next().ToString(), "--client-port", FreePort.Next().ToString());
        await using var client = await TestClient.ConnectAsync(node.Room("echo", NewName()));
        await client.SendAsync("ping");
        Assert.Equal("ping", await client.ReceiveTextAsync());

        var exitCode = await node.StopAsync("INT");
        var closed = await client.WaitClosedAsync();
        Assert.Equal((WebSocketCloseStatus)CloseCodes.ServiceRestart, closed.Status);
        Assert.Equal(0, exitCode);
    }

    [Fact]
    public async Task Clients_on_different_gateways_and_a_cohosted_silo_share_rooms_in_one_order()
    {
        await using var cluster = await ProcessCluster.StartAsync();
        await cluster.StartSiloAsync("silo-1");
        await cluster.StartSiloAsync("silo-2");
        var cohosted = await cluster.StartSiloAsync("silo-3+gateway", http: true);
        var gatewayA = await cluster.StartGatewayAsync("gateway-a");
        var gatewayB = await cluster.StartGatewayAsync("gateway-b");
        NodeProcess[] fronts = [cohosted, gatewayA, gatewayB];

        var room = NewName();
        var clients = await TestClient.JoinRelayAsync(Enumerable.Range(0, 9).Select(i => fronts[i % 3].Room("broadcast", room)));
        try
        {
            await OrderCheck.RunAsync(clients, senders: 3, perSender: 100);
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Room_state_survives_stopping_every_process()
    {
        await using var cluster = await ProcessCluster.StartAsync();
        await cluster.StartSiloAsync("silo-1");
        var gateway = await cluster.StartGatewayAsync("gateway");
        var rooms = Enumerable.Range(0, 3).Select(_ => NewName()).ToArray();

        for (var r = 0; r < rooms.Length; r++)
        {
            await using var client = await TestClient.ConnectAsync(gateway.Room("counter", rooms[r]));
            for (var i = 1; i <= r + 2; i++)
            {
                await client.SendAsync("inc");
                Assert.Equal(i.ToString(), await client.ReceiveTextAsync());
            }
        }

        foreach (var node in cluster.Nodes)
        {
            Assert.Equal(0, await node.StopAsync());
        }

        await cluster.StartSiloAsync("silo-1 again");
        var again = await cluster.StartGatewayAsync("gateway again");
        using var http = new HttpClient();
        for (var r = 0; r < rooms.Length; r++)
        {
            var response = await http.GetAsync(new Uri(again.Http!, $"/rooms/counter/{rooms[r]}"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal((r + 2).ToString(), await response.Content.ReadAsStringAsync());
        }

        await using var more = await TestClient.ConnectAsync(again.Room("counter", rooms[0]));
        await more.SendAsync("inc");
        Assert.Equal("3", await more.ReceiveTextAsync());
    }

    [Fact]
    public async Task A_killed_silo_costs_no_socket_and_its_rooms_resume_elsewhere_with_their_members()
    {
        await using var cluster = await ProcessCluster.StartAsync();
        var doomed = await cluster.StartSiloAsync("silo-1");
        await cluster.StartSiloAsync("silo-2");
        var gatewayA = await cluster.StartGatewayAsync("gateway-a");
        var gatewayB = await cluster.StartGatewayAsync("gateway-b");

        // Ten rooms, four clients each, two on each gateway: some rooms live on the silo about to die.
        var rooms = Enumerable.Range(0, 10).Select(_ => NewName()).ToArray();
        var members = new List<List<TestClient>>();
        foreach (var room in rooms)
        {
            members.Add(await TestClient.JoinRelayAsync(Enumerable.Range(0, 4).Select(i => (i % 2 == 0 ? gatewayA : gatewayB).Room("broadcast", room))));
        }

        try
        {
            // Traffic while the silo dies.
            using var stop = new CancellationTokenSource();
            var traffic = members.Select(clients => Task.Run(async () =>
            {
                for (var i = 0; !stop.IsCancellationRequested && i < 10_000; i++)
                {
                    await clients[0].SendAsync($"traffic {i}");
                    await Task.Delay(20);
                }
            })).ToList();
            await Task.Delay(500);

            var killed = Stopwatch.StartNew();
            await doomed.KillAsync();

            // Every room delivers again to every member; measure how long each took.
            var resumed = await Task.WhenAll(members.Select(async clients =>
            {
                while (true)
                {
                    var marker = "after " + Guid.NewGuid().ToString("N");
                    await clients[1].SendAsync(marker);
                    try
                    {
                        foreach (var client in clients)
                        {
                            await SkipUntilAsync(client, marker, TimeSpan.FromSeconds(3));
                        }

                        return killed.Elapsed;
                    }
                    catch (TimeoutException) when (killed.Elapsed < TimeSpan.FromSeconds(30))
                    {
                        // Not yet: the room is coming back on the other silo. Try another marker.
                    }
                }
            }));
            stop.Cancel();
            await Task.WhenAll(traffic);

            output.WriteLine($"silo SIGKILL → delivery resumed in every room: max {resumed.Max().TotalSeconds:F1} s, median {resumed.Order().ElementAt(resumed.Length / 2).TotalSeconds:F1} s");
            Assert.All(resumed, t => Assert.True(t < TimeSpan.FromSeconds(15), $"resumed after {t.TotalSeconds:F1} s"));
            Assert.All(members.SelectMany(c => c), c => Assert.Equal(WebSocketState.Open, c.Socket.State));
        }
        catch
        {
            output.WriteLine("gateway-a:\n" + gatewayA.Log);
            output.WriteLine("gateway-b:\n" + gatewayB.Log);
            throw;
        }
        finally
        {
            foreach (var client in members.SelectMany(c => c))
            {
                await client.DisposeAsync();
            }
        }
    }

    /// <summary>Reads until <paramref name="marker"/>; a timeout means it did not come (yet).</summary>
    private static async Task SkipUntilAsync(TestClient client, string marker, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var left = timeout - deadline.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException();
            }

            var message = await client.ReceiveAsync(left);
            if (message.IsText && message.Text == marker)
            {
                return;
            }
        }
    }

    [Fact]
    public async Task Alarms_ring_even_when_the_silo_that_set_them_was_killed()
    {
        await using var cluster = await ProcessCluster.StartAsync();
        await cluster.StartSiloAsync("silo-1");
        await cluster.StartSiloAsync("silo-2");
        var gateway = await cluster.StartGatewayAsync("gateway");
        await using var observer = await ClusterObserver.StartAsync(cluster);

        // Eight rooms set alarms 8 s ahead; the silo holding most of them dies before they are due.
        var clients = new List<TestClient>();
        try
        {
            for (var i = 0; i < 8; i++)
            {
                var client = await TestClient.ConnectAsync(gateway.Room("countdown", NewName()));
                await client.SendAsync("start 8");
                Assert.Equal("started 8", await client.ReceiveTextAsync());
                clients.Add(client);
            }

            var bySilo = await observer.RoomActivationsBySiloAsync();
            var busiest = bySilo.MaxBy(kv => kv.Value);
            output.WriteLine("room activations by silo: " + string.Join(", ", bySilo.Select(kv => $"{kv.Key}={kv.Value}")));
            Assert.True(busiest.Value > 0);
            await cluster.SiloAt(busiest.Key).KillAsync();
            var rang = Stopwatch.StartNew();
            foreach (var client in clients)
            {
                Assert.Equal("ring", await client.ReceiveTextAsync(TimeSpan.FromSeconds(90)));
            }

            output.WriteLine($"every alarm rang within {rang.Elapsed.TotalSeconds:F1} s of the silo kill (set 8 s ahead)");
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
