using System.Net;
using System.Text.Json;
using RoomActors.Tests.Infrastructure;

namespace RoomActors.Tests.Operations;

/// <summary>
/// <c>/health/live</c> and <c>/health/ready</c> over real HTTP on in-process hosts: an all-in-one silo (silo and gateway
/// checks) and a standalone gateway, which stops being ready when its only silo goes away.
/// </summary>
public sealed class HealthTests
{
    internal static async Task<(HttpStatusCode Status, JsonElement Body)> GetJsonAsync(HttpClient http, Uri uri)
    {
        using var response = await http.GetAsync(uri);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    internal static string CheckStatus(JsonElement body, string check) => body.GetProperty("checks").GetProperty(check).GetProperty("status").GetString()!;

    /// <summary>Asks <c>/health/ready</c> until it answers <paramref name="status"/> (bounded: 20 s).</summary>
    internal static async Task<JsonElement> ReadyBecomesAsync(HttpClient http, Uri server, HttpStatusCode status)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var (answer, body) = await GetJsonAsync(http, new Uri(server, "/health/ready"));
            if (answer == status)
            {
                return body;
            }

            Assert.True(DateTime.UtcNow < deadline, $"/health/ready stayed {answer} (expected {status}): {body}");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task A_gateway_is_ready_while_it_reaches_a_silo_and_not_once_the_silo_is_gone()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        AllInOneServer? running = await AllInOneServer.StartAsync();
        var server = running;
        try
        {
            // The all-in-one: alive, and ready with both of its roles' checks.
            var (live, liveBody) = await GetJsonAsync(http, new Uri(server.Http, "/health/live"));
            Assert.Equal(HttpStatusCode.OK, live);
            Assert.Equal("Healthy", liveBody.GetProperty("status").GetString());
            var ready = await ReadyBecomesAsync(http, server.Http, HttpStatusCode.OK);
            Assert.Equal("Healthy", CheckStatus(ready, "silo"));
            Assert.Equal("Healthy", CheckStatus(ready, "gateway"));
            Assert.Equal("Active", ready.GetProperty("checks").GetProperty("silo").GetProperty("data").GetProperty("status").GetString());

            await using var gateway = await StandaloneGateway.StartAsync(server);
            var gatewayHttp = new UriBuilder(gateway.WebSocket) { Scheme = "http" }.Uri;
            var joined = await ReadyBecomesAsync(http, gatewayHttp, HttpStatusCode.OK);
            Assert.Equal("Healthy", CheckStatus(joined, "gateway"));
            Assert.False(joined.GetProperty("checks").TryGetProperty("silo", out _)); // a gateway is not a silo
            Assert.Equal(1, joined.GetProperty("checks").GetProperty("gateway").GetProperty("data").GetProperty("siloConnections").GetInt32());

            // The only silo stops: the gateway lives on, but is no longer ready, and says why.
            await server.DisposeAsync();
            running = null;
            var gone = await ReadyBecomesAsync(http, gatewayHttp, HttpStatusCode.ServiceUnavailable);
            Assert.Equal("Unhealthy", gone.GetProperty("status").GetString());
            Assert.Equal("Unhealthy", CheckStatus(gone, "gateway"));
            Assert.Contains("silo", gone.GetProperty("checks").GetProperty("gateway").GetProperty("description").GetString());
            Assert.Equal(HttpStatusCode.OK, (await GetJsonAsync(http, new Uri(gatewayHttp, "/health/live"))).Status);
        }
        finally
        {
            if (running is not null)
            {
                await running.DisposeAsync();
            }
        }
    }
}
