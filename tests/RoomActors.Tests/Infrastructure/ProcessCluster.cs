namespace RoomActors.Tests.Infrastructure;

/// <summary>
/// A RoomActors cluster of real processes on this machine: one redis-server, silos (pure, or co-hosting a gateway)
/// and standalone gateways, all with a cluster id of their own. Disposing kills everything it started.
/// </summary>
public sealed class ProcessCluster : IAsyncDisposable
{
    private readonly List<NodeProcess> _nodes = new();

    private readonly string? _app;

    private ProcessCluster(RedisServer redis, string clusterId, string? app)
    {
        Redis = redis;
        ClusterId = clusterId;
        _app = app;
    }

    public RedisServer Redis { get; }

    public string ClusterId { get; }

    public IReadOnlyList<NodeProcess> Nodes => _nodes;

    /// <summary>
    /// Starts redis-server. Silos and gateways are the platform's hosts (src/Silo, src/GatewayHost), or with
    /// <paramref name="app"/> an app's own program (a path from the repository root, e.g. <c>samples/Mud</c>) that is a
    /// silo by default and a standalone gateway with <c>--gateway</c>.
    /// </summary>
    public static async Task<ProcessCluster> StartAsync(string? app = null) =>
        new(await RedisServer.StartAsync(), "it-" + Guid.NewGuid().ToString("N")[..8], app);

    private string[] Common => ["--redis", Redis.Address, "--cluster-id", ClusterId, "--service-id", ClusterId];

    /// <summary>A silo; with <paramref name="http"/> it co-hosts a gateway.</summary>
    public async Task<NodeProcess> StartSiloAsync(string name, bool http = false, params string[] settings)
    {
        var siloPort = FreePort.Next();
        var node = await NodeProcess.StartAsync(_app ?? "Silo", name, http ? LoopbackUrl() : null, siloPort,
            [.. Common, "--silo-port", siloPort.ToString(), "--client-port", FreePort.Next().ToString(), .. settings]);
        _nodes.Add(node);
        return node;
    }

    /// <summary>A standalone gateway (an Orleans client).</summary>
    public async Task<NodeProcess> StartGatewayAsync(string name, params string[] settings)
    {
        var node = _app is null
            ? await NodeProcess.StartAsync("GatewayHost", name, LoopbackUrl(), [.. Common, .. settings])
            : await NodeProcess.StartAsync(_app, name, LoopbackUrl(), ["--gateway", .. Common, .. settings]);
        _nodes.Add(node);
        return node;
    }

    /// <summary>The silo whose Orleans address (<c>S127.0.0.1:PORT:GEN</c>) is <paramref name="siloAddress"/>.</summary>
    public NodeProcess SiloAt(string siloAddress) =>
        _nodes.Single(n => n.SiloPort is { } port && siloAddress.Contains($":{port}:", StringComparison.Ordinal));

    private static Uri LoopbackUrl() => new($"http://127.0.0.1:{FreePort.Next()}");

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }

        await Redis.DisposeAsync();
    }
}
