using System.Net;
using RoomActors.Tests.Infrastructure;

namespace RoomActors.Tests.Hosting;

/// <summary>
/// <c>RoomActors:Samples</c>: the sample rooms (referenced by src/Silo) are hosted by default; <c>--samples false</c>
/// keeps their grain classes out of the silo, and the app's own rooms stay.
/// </summary>
public sealed class SamplesSwitchTests
{
    private static readonly string[] SampleTypes = ["chat", "echo", "counter", "broadcast", "countdown"];

    [Fact]
    public async Task Without_samples_their_room_types_are_unknown_and_the_apps_own_rooms_still_work()
    {
        await using var server = await AllInOneServer.StartAsync("--samples", "false");
        using var http = new HttpClient();
        foreach (var type in SampleTypes)
        {
            var answer = await http.GetAsync(new Uri(server.Http, $"/rooms/{type}/lobby"));
            var body = await answer.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.NotFound, answer.StatusCode);
            Assert.Contains("Unknown room type", body);
            Assert.Contains("it-relay", body); // the list of known types names the test project's rooms
        }

        await using var client = await TestClient.ConnectAsync(server.Room("it-relay", "r-" + Guid.NewGuid().ToString("N")[..12]));
        Assert.StartsWith("welcome ", await client.ReceiveTextAsync());
        await client.SendAsync("still here");
        Assert.Equal("still here", await client.ReceiveTextAsync());
    }

    [Fact]
    public async Task By_default_and_with_samples_true_the_sample_rooms_are_hosted()
    {
        string[][] variants = [[], ["--samples", "true"]];
        foreach (var settings in variants)
        {
            await using var server = await AllInOneServer.StartAsync(settings);
            using var http = new HttpClient();
            var answer = await http.GetAsync(new Uri(server.Http, "/rooms/counter/r-" + Guid.NewGuid().ToString("N")[..12]));
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            Assert.Equal("0", await answer.Content.ReadAsStringAsync());

            await using var client = await TestClient.ConnectAsync(server.Room("echo", "r-" + Guid.NewGuid().ToString("N")[..12]));
            await client.SendAsync("ping");
            Assert.Equal("ping", await client.ReceiveTextAsync());
        }
    }
}
