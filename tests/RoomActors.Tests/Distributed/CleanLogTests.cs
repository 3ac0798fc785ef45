using RoomActors.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RoomActors.Tests.Distributed;

/// <summary>
/// A normal start, a message and a graceful stop log no error, no stack trace and no line per room call, with the
/// logging an operator gets by default (Information).
/// </summary>
[Collection(DistributedCollection.Name)]
public sealed class CleanLogTests(ITestOutputHelper output)
{
    private static readonly string[] DefaultLogging = ["--Logging:LogLevel:Default=Information"];

    [Fact]
    public async Task The_all_in_one_process_starts_serves_and_stops_without_errors()
    {
        await using var node = await NodeProcess.StartAsync("Silo", "all-in-one", new Uri($"http://127.0.0.1:{FreePort.Next()}"),
            ["--silo-port", FreePort.Next().ToString(), "--client-port", FreePort.Next().ToString(), .. DefaultLogging]);
        await ChatAsync(node);
        Assert.Equal(0, await node.StopAsync());

        AssertClean(node);
    }

    [Fact]
    public async Task A_redis_cluster_of_a_silo_and_a_gateway_starts_serves_and_stops_without_errors()
    {
        await using var cluster = await ProcessCluster.StartAsync();
        var silo = await cluster.StartSiloAsync("silo", http: false, DefaultLogging);
        var gateway = await cluster.StartGatewayAsync("gateway", DefaultLogging);
        await ChatAsync(gateway);

        // The order deploy/local-cluster stops in: gateways, then silos, then Redis.
        Assert.Equal(0, await gateway.StopAsync());
        Assert.Equal(0, await silo.StopAsync());

        AssertClean(silo);
        AssertClean(gateway);
    }

    private static async Task ChatAsync(NodeProcess front)
    {
        var room = "r-" + Guid.NewGuid().ToString("N")[..12];
        await using (var echo = await TestClient.ConnectAsync(front.Room("echo", room)))
        {
            await echo.SendAsync("ping");
            Assert.Equal("ping", await echo.ReceiveTextAsync());
            await echo.CloseAsync();
        }

        await using var counter = await TestClient.ConnectAsync(front.Room("counter", room));
        await counter.SendAsync("inc");
        Assert.Equal("1", await counter.ReceiveTextAsync()); // state in memory (all-in-one) or Redis
        await counter.CloseAsync();
    }

    private void AssertClean(NodeProcess node)
    {
        output.WriteLine($"--- {node.Name}\n{node.Log}");
        var lines = node.Log.Split('\n');
        Assert.Contains(lines, l => l.StartsWith("info: Microsoft.Hosting.Lifetime", StringComparison.Ordinal)); // Information is on
        Assert.DoesNotContain(lines, l => l.StartsWith("fail:", StringComparison.Ordinal) || l.StartsWith("crit:", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("   at ", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.StartsWith("info: Polly", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("No active nodes are compatible", StringComparison.Ordinal));
    }
}
