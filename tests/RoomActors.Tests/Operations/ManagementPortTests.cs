using System.Net;
using System.Text.Json;
using RoomActors.Tests.Distributed;
using RoomActors.Tests.Infrastructure;

namespace RoomActors.Tests.Operations;

/// <summary>
/// A real pure silo process (Redis mode, no <c>--urls</c>) with <c>--management-urls</c> and <c>--log-format json</c>:
/// health and metrics on its management port, JSON lines on its standard output, and readiness that follows Redis.
/// </summary>
[Collection(DistributedCollection.Name)]
public sealed class ManagementPortTests
{
    [Fact]
    public async Task A_pure_silo_serves_health_and_metrics_on_its_management_port_logs_json_and_is_unready_without_redis()
    {
        await using var cluster = await ProcessCluster.StartAsync();
        var management = new Uri($"http://127.0.0.1:{FreePort.Next()}");
        var silo = await cluster.StartSiloAsync("silo-m", http: false,
            "--management-urls", management.ToString().TrimEnd('/'), "--log-format", "json");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };

        // Alive and ready: the silo is active in membership and Redis answers.
        var (live, _) = await HealthTests.GetJsonAsync(http, new Uri(management, "/health/live"));
        Assert.Equal(HttpStatusCode.OK, live);
        var ready = await HealthTests.ReadyBecomesAsync(http, management, HttpStatusCode.OK);
        Assert.Equal("Healthy", HealthTests.CheckStatus(ready, "silo"));
        Assert.Equal("Healthy", HealthTests.CheckStatus(ready, "redis"));

        // Metrics: Orleans' own, ASP.NET Core's and Kestrel's (of the management port), the runtime's, and the service named
        // for a silo; nothing else is served there.
        var metrics = await PrometheusText.ScrapeAsync(http, management);
        Assert.Contains(metrics.Types.Keys, n => n.StartsWith("orleans_", StringComparison.Ordinal));
        Assert.Contains("orleans_catalog_activations", metrics.Types.Keys);
        Assert.Contains("http_server_request_duration_seconds", metrics.Types.Keys);
        Assert.Contains(metrics.Types.Keys, n => n.StartsWith("kestrel_", StringComparison.Ordinal));
        Assert.Contains(metrics.Types.Keys, n => n.StartsWith("dotnet_gc_", StringComparison.Ordinal));
        Assert.Contains(metrics.Samples, s => s.Name == "target_info" && s.Labels.GetValueOrDefault("service_name") == "roomactors-silo");
        using (var rooms = await http.GetAsync(new Uri(management, "/rooms/chat/lobby")))
        {
            Assert.Equal(HttpStatusCode.NotFound, rooms.StatusCode);
        }

        // The operator endpoints are mapped there too (MapRoomActorsManagement), closed while no operator key is set.
        using (var operatorPage = await http.GetAsync(new Uri(management, "/operator")))
        {
            Assert.Equal(HttpStatusCode.Forbidden, operatorPage.StatusCode);
            Assert.Contains("RoomActors__Operator__Key", await operatorPage.Content.ReadAsStringAsync());
        }

        // --log-format json: every line the process wrote is one JSON object (the lifetime's "Application started" among them).
        var lines = silo.Log.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(lines);
        foreach (var line in lines)
        {
            using var entry = JsonDocument.Parse(line);
            Assert.True(entry.RootElement.TryGetProperty("LogLevel", out _), line);
        }

        var started = JsonDocument.Parse(lines.First(l => l.Contains("Application started", StringComparison.Ordinal))).RootElement;
        Assert.Equal("Microsoft.Hosting.Lifetime", started.GetProperty("Category").GetString());
        Assert.Equal("Information", started.GetProperty("LogLevel").GetString());

        // Redis goes away: the silo process lives on, but is no longer ready, and the answer names Redis.
        await cluster.Redis.KillAsync();
        var unready = await HealthTests.ReadyBecomesAsync(http, management, HttpStatusCode.ServiceUnavailable);
        Assert.Equal("Unhealthy", HealthTests.CheckStatus(unready, "redis"));
        Assert.Equal(HttpStatusCode.OK, (await HealthTests.GetJsonAsync(http, new Uri(management, "/health/live"))).Status);
    }
}
