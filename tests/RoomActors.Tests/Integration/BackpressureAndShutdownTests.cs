using System.Net.WebSockets;
using RoomActors.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RoomActors.Tests.Integration;

/// <summary>Tests that need a server of their own: small queue limits, or a shutdown.</summary>
public sealed class BackpressureAndShutdownTests(ITestOutputHelper output)
{
    private static string NewName() => "r-" + Guid.NewGuid().ToString("N")[..12];

    [Fact]
    public async Task A_client_that_stops_reading_is_closed_with_1008_while_the_others_get_everything()
    {
        await using var server = await AllInOneServer.StartAsync(
            "--RoomActors:Gateway:OutboundQueueMessages=256",
            "--RoomActors:Gateway:OutboundQueueBytes=67108864",
            "--RoomActors:Gateway:CloseTimeout=00:00:01",
            "--RoomActors:Gateway:MessageRatePerSecond=0"); // the sender sends 3000 messages as fast as echoes come
        var room = NewName();

        // The stalled client never reads; the socket buffers fill, then its queue of 256, then it is closed.
        await using var stalled = await TestClient.ConnectAsync(server.Room("it-relay", room), read: false);
        await using var reader = await TestClient.ConnectAsync(server.Room("it-relay", room));
        await using var sender = await TestClient.ConnectAsync(server.Room("it-relay", room));
        var senderId = (await sender.ReceiveTextAsync())["welcome ".Length..];
        Assert.StartsWith("welcome ", await reader.ReceiveTextAsync());

        const int count = 3000;
        var payload = new string('p', 16 * 1024); // 3000 × 16 KiB = 48 MiB: far more than loopback socket buffers hold
        const int window = 50; // the sender waits for its own echoes: readers stay at most a window behind
        var sending = Task.Run(async () =>
        {
            for (var i = 0; i < count; i += window)
            {
                for (var j = i; j < i + window; j++)
                {
                    await sender.SendAsync($"{j}:{payload}");
                }

                for (var j = i; j < i + window; j++)
                {
                    Assert.StartsWith($"{j}:", await sender.ReceiveTextAsync());
                }
            }
        });

        for (var i = 0; i < count; i++)
        {
            var text = await reader.ReceiveTextAsync();
            Assert.StartsWith($"{i}:", text);
        }

        await sending;

        // The room heard that the stalled client was closed for policy, once.
        await GatewayTests.Eventually(() => RecordingRelayRoom.ClosesOf(room).Any(c => c.Code == 1008));
        var close = Assert.Single(RecordingRelayRoom.ClosesOf(room));
        Assert.NotEqual(senderId, close.Id);
        Assert.Contains("too slow", close.Reason);

        // The stalled client finds its socket ended: either it reads the 1008 close after the buffered frames, or the
        // gateway had to abort the stuck connection.
        var ended = await stalled.WaitClosedAsync(TimeSpan.FromSeconds(60));
        output.WriteLine($"stalled client saw: status {ended.Status}, error {ended.Error?.GetType().Name}; frames buffered before: {stalled.Drain().Count}");
        Assert.True(ended.Status == WebSocketCloseStatus.PolicyViolation || ended.Error is not null);
    }

    [Fact]
    public async Task Shutdown_closes_every_socket_with_1012_and_the_rooms_hear_each_close_once()
    {
        var server = await AllInOneServer.StartAsync();
        var room = NewName();
        var clients = new List<TestClient>();
        try
        {
            for (var i = 0; i < 5; i++)
            {
                var client = await TestClient.ConnectAsync(server.Room("it-relay", room));
                Assert.StartsWith("welcome ", await client.ReceiveTextAsync());
                clients.Add(client);
            }

            await server.StopAsync();

            foreach (var client in clients)
            {
                var closed = await client.WaitClosedAsync();
                Assert.Equal((WebSocketCloseStatus)CloseCodes.ServiceRestart, closed.Status);
            }

            var closes = RecordingRelayRoom.ClosesOf(room);
            Assert.Equal(5, closes.Count);
            Assert.All(closes, c => Assert.Equal(CloseCodes.ServiceRestart, c.Code));
            Assert.Equal(5, closes.Select(c => c.Id).Distinct().Count());
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }

            await server.App.DisposeAsync();
        }
    }
}
