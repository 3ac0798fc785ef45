using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using RoomActors.Tests.Distributed;
using RoomActors.Tests.Infrastructure;

namespace RoomActors.Tests.Operations;

/// <summary>
/// The operator endpoints of a standalone gateway process in front of a pure silo process, on Redis: the dashboard shows
/// the silo (whose silo side serves it), and a hibernated room is read from Redis without waking it.
/// </summary>
[Collection(DistributedCollection.Name)]
public sealed class OperatorClusterTests
{
    [Fact]
    public async Task A_gateway_shows_the_dashboard_of_a_pure_silo_and_reads_a_sleeping_room_from_Redis()
    {
        await using var cluster = await ProcessCluster.StartAsync();
        await cluster.StartSiloAsync("silo"); // no HTTP, no key: its silo side serves the gateway's dashboard
        var gateway = await cluster.StartGatewayAsync("gateway", $"--RoomActors:Operator:Key={OperatorFixture.Key}");
        using var http = new HttpClient { BaseAddress = gateway.Http };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", OperatorFixture.Key);

        var room = "op-" + Guid.NewGuid().ToString("N")[..12];
        await using var a = await TestClient.ConnectAsync(gateway.Room("counter", room));
        await using var b = await TestClient.ConnectAsync(gateway.Room("counter", room));
        await a.SendAsync("inc");
        Assert.Equal("1", await a.ReceiveTextAsync());
        Assert.Equal("1", await b.ReceiveTextAsync());

        var awake = await GetJsonAsync(http, $"/operator/rooms/counter/{room}");
        Assert.True(awake.GetProperty("awake").GetBoolean());
        Assert.Equal(2, awake.GetProperty("connections").GetArrayLength());

        using (var hibernate = await http.PostAsync($"/operator/rooms/counter/{room}/hibernate", null))
        {
            Assert.Equal(HttpStatusCode.OK, hibernate.StatusCode);
        }

        // Read from Redis: the same two connections, the same state size, and the room still asleep afterwards.
        var asleep = await GetJsonAsync(http, $"/operator/rooms/counter/{room}");
        Assert.False(asleep.GetProperty("awake").GetBoolean());
        Assert.Equal(Ids(awake), Ids(asleep));
        Assert.Equal(awake.GetProperty("stateBytes").GetInt64(), asleep.GetProperty("stateBytes").GetInt64());
        Assert.Equal(awake.GetProperty("epoch").GetInt64(), asleep.GetProperty("epoch").GetInt64());
        Assert.DoesNotContain(room, (await GetJsonAsync(http, "/operator/rooms/counter")).GetProperty("types")[0].GetProperty("rooms")
            .EnumerateArray().Select(n => n.GetString()));

        // The sockets stayed open; the next message wakes the room with its state.
        await b.SendAsync("inc");
        Assert.Equal("2", await a.ReceiveTextAsync());
        Assert.Equal("2", await b.ReceiveTextAsync());
        var woken = await GetJsonAsync(http, $"/operator/rooms/counter/{room}");
        Assert.True(woken.GetProperty("awake").GetBoolean());
        Assert.True(woken.GetProperty("epoch").GetInt64() > awake.GetProperty("epoch").GetInt64()); // a new activation

        // The dashboard on the gateway: its data comes from the pure silo's dashboard grains.
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var counters = await GetJsonAsync(http, "/operator/dashboard/DashboardCounters");
            if (counters.GetProperty("hosts").GetArrayLength() == 1 && counters.GetProperty("totalActivationCount").GetInt32() > 0)
            {
                break;
            }

            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(15), "the gateway's dashboard named no silo: " + counters);
            await Task.Delay(200);
        }
    }

    private static string[] Ids(JsonElement room) => [.. room.GetProperty("connections").EnumerateArray().Select(c => c.GetProperty("id").GetString()!)];

    private static async Task<JsonElement> GetJsonAsync(HttpClient http, string path)
    {
        using var response = await http.GetAsync(path);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }
}
