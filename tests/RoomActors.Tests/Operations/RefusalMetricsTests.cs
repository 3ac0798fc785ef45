using System.Net;
using System.Net.WebSockets;
using RoomActors.Gateway.Auth;
using RoomActors.Tests.Infrastructure;
using RoomActors.Tests.Integration;

namespace RoomActors.Tests.Operations;

/// <summary>
/// Each refusal of the flood limits and tickets moves its counter on the RoomActors meter (read with a
/// <see cref="System.Diagnostics.Metrics.MeterListener"/>): 429 per address and for new rooms, 503 at the gateway's cap,
/// 1008 over the message rate, 4401 at a ticket's expiry, and an idle room's collection.
/// </summary>
public sealed class RefusalMetricsTests
{
    private const string Key = "refusal-metrics-test-signing-key-32-bytes";

    private static string NewName() => "rm-" + Guid.NewGuid().ToString("N")[..12];

    private static async Task<HttpStatusCode?> UpgradeRefusedWithAsync(Uri uri)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        using var timeout = new CancellationTokenSource(TestClient.DefaultTimeout);
        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(uri, timeout.Token));
        return socket.HttpStatusCode;
    }

    /// <summary>Waits (bounded) until <paramref name="condition"/> holds: counters are added from other threads.</summary>
    private static Task CountedAsync(Func<bool> condition) => GatewayTests.Eventually(condition);

    [Fact]
    public async Task Rate_closes_ticket_expiries_and_idle_collections_are_counted()
    {
        using var tally = new MeterTally();
        await using var server = await AllInOneServer.StartAsync(
            $"--RoomActors:Auth:SigningKey={Key}",
            "--RoomActors:Auth:ClockSkew=00:00:00",
            "--RoomActors:Gateway:MessageRatePerSecond=5",
            "--RoomActors:Gateway:MessageRateBurst=5",
            "--RoomActors:Rooms:IdleCollectAfter=00:00:01");
        Uri Room(string name, TimeSpan life) =>
            server.Room("echo", name, "?ticket=" + RoomTickets.Create(Key, "ada", "*", DateTimeOffset.UtcNow + life));
        var idle = tally.Sum("roomactors.room.idle_collections", "roomactors.room.type=echo");

        // 4401: a ticket that expires in 2 s.
        var ticketCloses = tally.Sum("roomactors.gateway.ticket_expiry_closes");
        await using (var expiring = await TestClient.ConnectAsync(Room(NewName(), TimeSpan.FromSeconds(2))))
        {
            Assert.Equal(CloseCodes.TicketExpired, (int?)(await expiring.WaitClosedAsync()).Status);
        }

        await CountedAsync(() => tally.Sum("roomactors.gateway.ticket_expiry_closes") > ticketCloses);

        // 1008: over 5 messages at once.
        var rateCloses = tally.Sum("roomactors.gateway.rate_closes");
        await using (var flooder = await TestClient.ConnectAsync(Room(NewName(), TimeSpan.FromMinutes(5))))
        {
            try
            {
                for (var i = 0; i < 50 && flooder.Socket.State == WebSocketState.Open; i++)
                {
                    await flooder.SendAsync("flood");
                }
            }
            catch (Exception e) when (e is WebSocketException or ObjectDisposedException)
            {
                // Expected once the gateway closed the flooder: stop sending.
            }

            Assert.Equal(WebSocketCloseStatus.PolicyViolation, (await flooder.WaitClosedAsync()).Status);
        }

        await CountedAsync(() => tally.Sum("roomactors.gateway.rate_closes") > rateCloses);

        // Both rooms are empty now and have no alarm: they leave memory after a second.
        await CountedAsync(() => tally.Sum("roomactors.room.idle_collections", "roomactors.room.type=echo") >= idle + 2);
    }

    [Fact]
    public async Task Refusals_per_address_and_for_new_rooms_are_counted_by_reason()
    {
        using var tally = new MeterTally();
        await using var server = await AllInOneServer.StartAsync(
            "--RoomActors:Gateway:MaxConnections=2",
            "--RoomActors:Gateway:MaxConnectionsPerAddress=1",
            "--RoomActors:Gateway:NewRoomsPerMinute=2");
        const string Limit = "roomactors.gateway.limit_refusals";
        var perAddress = tally.Sum(Limit, "roomactors.reason=connections_per_address");
        var newRooms = tally.Sum(Limit, "roomactors.reason=new_rooms");

        // New room 1 of 2, the address's one socket.
        var room = NewName();
        await using var holder = await TestClient.ConnectAsync(server.Room("echo", room));
        await holder.SendAsync("hi");
        Assert.Equal("hi", await holder.ReceiveTextAsync());

        // A second socket from the address (new room 2 of 2): 429 for the address.
        Assert.Equal(HttpStatusCode.TooManyRequests, await UpgradeRefusedWithAsync(server.Room("echo", NewName())));
        Assert.True(tally.Sum(Limit, "roomactors.reason=connections_per_address") > perAddress);

        // A third new room in the minute: 429 for the budget, before the address is counted.
        Assert.Equal(HttpStatusCode.TooManyRequests, await UpgradeRefusedWithAsync(server.Room("echo", NewName())));
        Assert.True(tally.Sum(Limit, "roomactors.reason=new_rooms") > newRooms);
    }

    [Fact]
    public async Task A_503_at_the_gateway_s_connection_cap_is_counted()
    {
        using var tally = new MeterTally();
        await using var server = await AllInOneServer.StartAsync("--RoomActors:Gateway:MaxConnections=1");
        await using var holder = await TestClient.ConnectAsync(server.Room("echo", NewName()));
        await holder.SendAsync("hi");
        Assert.Equal("hi", await holder.ReceiveTextAsync());

        var before = tally.Sum("roomactors.gateway.limit_refusals", "roomactors.reason=max_connections");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await UpgradeRefusedWithAsync(server.Room("echo", NewName())));
        Assert.True(tally.Sum("roomactors.gateway.limit_refusals", "roomactors.reason=max_connections") > before);
    }
}
