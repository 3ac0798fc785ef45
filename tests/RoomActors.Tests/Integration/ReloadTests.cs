using RoomActors.Tests.Infrastructure;

namespace RoomActors.Tests.Integration;

/// <summary>Says who joins and leaves, and relays messages: a small chat's presence, as the reload pattern needs.</summary>
[Room("it-presence")]
public sealed class PresenceRoom : Room
{
    protected override Task OnConnectAsync(Connection connection, ConnectContext context)
    {
        Broadcast("joined " + connection.Id);
        return Task.CompletedTask;
    }

    protected override Task OnMessageAsync(Connection sender, RoomMessage message)
    {
        Broadcast(message);
        return Task.CompletedTask;
    }

    protected override Task OnCloseAsync(Connection connection, int code, string reason)
    {
        Broadcast("left " + connection.Id);
        return Task.CompletedTask;
    }
}

/// <summary>
/// A page reload in a small room: the last local client of a room leaves and a new one connects at once, while the
/// room is still processing the old one's close (whose close hook broadcasts). The new client must be served at once
/// and miss nothing: no stall, no 1012 "missed room messages".
/// </summary>
public sealed class ReloadTests
{
    private const int Reloads = 30;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_client_that_reloads_right_after_the_last_local_client_left_is_served_at_once(bool closeFrame)
    {
        await using var server = await AllInOneServer.StartAsync();
        var room = server.Room("it-presence", "r-" + Guid.NewGuid().ToString("N")[..12]);
        await ReloadLoopAsync(() => room, () => room, watcher: null, closeFrame);
    }

    [Fact]
    public async Task Reloads_through_separate_gateways_keep_every_member_served_in_one_order()
    {
        await using var server = await AllInOneServer.StartAsync();
        await using var standalone = await StandaloneGateway.StartAsync(server);
        var name = "r-" + Guid.NewGuid().ToString("N")[..12];

        // A member that stays on one gateway while another reloads between both gateways.
        await using var watcher = await TestClient.ConnectAsync(standalone.Room("it-presence", name));
        var flip = 0;
        Uri Next() => flip++ % 2 == 0 ? server.Room("it-presence", name) : standalone.Room("it-presence", name);
        await ReloadLoopAsync(Next, Next, watcher, closeFrame: false);
    }

    private static async Task ReloadLoopAsync(Func<Uri> first, Func<Uri> reload, TestClient? watcher, bool closeFrame)
    {
        var client = await TestClient.ConnectAsync(first());
        var failures = new List<string>();
        var expected = new List<string>();
        try
        {
            for (var i = 0; i < Reloads; i++)
            {
                var old = client;
                if (closeFrame)
                {
                    await old.Socket.CloseOutputAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, "reload", CancellationToken.None);
                }
                else
                {
                    old.Socket.Abort(); // the page went away without a close frame
                }

                client = await TestClient.ConnectAsync(reload());
                await old.DisposeAsync();

                // The new page speaks at once; it must hear itself within seconds, not after a resync timeout.
                var marker = $"reload {i}";
                expected.Add(marker);
                await client.SendAsync(marker);
                try
                {
                    await client.SkipUntilAsync(marker).WaitAsync(TimeSpan.FromSeconds(5));
                }
                catch (Exception ex) when (ex is TimeoutException or InvalidOperationException)
                {
                    // Counted, not thrown: the figure says how often it happens.
                    failures.Add($"reload {i}: {ex.Message}");
                    await client.DisposeAsync();
                    client = await TestClient.ConnectAsync(reload());
                }
            }
        }
        finally
        {
            await client.DisposeAsync();
        }

        Assert.True(failures.Count == 0, $"{failures.Count} of {Reloads} reloads were not served: {string.Join("; ", failures.Take(3))}");
        if (watcher is not null)
        {
            // The member that stayed saw every reload's message, in order, and was never closed.
            var seen = new List<string>();
            while (seen.Count < expected.Count)
            {
                var text = await watcher.ReceiveTextAsync(TimeSpan.FromSeconds(10));
                if (text.StartsWith("reload ", StringComparison.Ordinal))
                {
                    seen.Add(text);
                }
            }

            Assert.Equal(expected, seen);
        }
    }
}
