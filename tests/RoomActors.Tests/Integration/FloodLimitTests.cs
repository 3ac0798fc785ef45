using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using RoomActors.Tests.Infrastructure;

namespace RoomActors.Tests.Integration;

/// <summary>
/// The sender is limited, not its victims: a member that floods its broadcast room is closed with 1008 once over its
/// message rate, and the room's other members stay open and keep receiving. One address may hold only so many sockets.
/// </summary>
public sealed class FloodLimitTests
{
    private static string NewName() => "r-" + Guid.NewGuid().ToString("N")[..12];

    [Fact]
    public async Task A_flooding_member_is_closed_for_its_rate_and_the_other_ten_stay_open_and_receive()
    {
        // Small outbound queues: without the rate limit the flood's fan-out closes the readers as too slow.
        await using var server = await AllInOneServer.StartAsync(
            "--RoomActors:Gateway:MessageRatePerSecond=20",
            "--RoomActors:Gateway:MessageRateBurst=20",
            "--RoomActors:Gateway:MaxBatchEvents=16",
            "--RoomActors:Gateway:OutboundQueueMessages=32");
        var room = NewName();
        var clients = await TestClient.JoinRelayAsync(Enumerable.Range(0, 11).Select(_ => server.Room("it-relay", room)));
        try
        {
            var flooder = clients[^1];
            var others = clients[..^1];

            // As fast as it can: 5,000 messages, or until its socket is closed (bounded in count and time).
            var sent = 0;
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                for (; sent < 5000; sent++)
                {
                    await flooder.Socket.SendAsync("flood"u8.ToArray(), WebSocketMessageType.Text, true, deadline.Token);
                }
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
            {
                // Expected once the gateway closed the flooder: stop sending.
            }

            var (status, reason, _) = await flooder.WaitClosedAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(WebSocketCloseStatus.PolicyViolation, status);
            Assert.Equal("message rate exceeded", reason);

            // The others are open, and a message sent after the flood reaches every one of them; of the flood they got
            // at most the burst (and what the bucket refilled meanwhile).
            await clients[0].SendAsync("after the flood");
            foreach (var other in others)
            {
                var flood = await other.SkipUntilAsync("after the flood");
                Assert.InRange(flood, 0, 40);
                Assert.Equal(WebSocketState.Open, other.Socket.State);
            }

            Assert.DoesNotContain(RecordingRelayRoom.ClosesOf(room), c => c.Code == 1008 && c.Reason != "message rate exceeded");
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
    public async Task One_address_over_MaxConnectionsPerAddress_gets_429_with_Retry_After_before_the_upgrade()
    {
        await using var server = await AllInOneServer.StartAsync("--RoomActors:Gateway:MaxConnectionsPerAddress=2");
        var room = NewName();
        var first = await TestClient.ConnectAsync(server.Room("echo", room));
        await using var second = await TestClient.ConnectAsync(server.Room("echo", NewName()));

        using (var third = new ClientWebSocket())
        {
            third.Options.CollectHttpResponseDetails = true;
            await Assert.ThrowsAsync<WebSocketException>(() => third.ConnectAsync(server.Room("echo", room), CancellationToken.None));
            Assert.Equal(HttpStatusCode.TooManyRequests, third.HttpStatusCode);
            Assert.Equal("10", Assert.Single(third.HttpResponseHeaders!["Retry-After"]));
        }

        // A closed socket gives its place back.
        await first.CloseAsync();
        await first.DisposeAsync();
        var clock = Stopwatch.StartNew();
        while (true)
        {
            using var again = new ClientWebSocket();
            again.Options.CollectHttpResponseDetails = true;
            try
            {
                await again.ConnectAsync(server.Room("echo", room), CancellationToken.None);
                break;
            }
            catch (WebSocketException) when (again.HttpStatusCode == HttpStatusCode.TooManyRequests && clock.Elapsed < TimeSpan.FromSeconds(5))
            {
                await Task.Delay(50); // the server is still finishing the first socket
            }
        }
    }
}
