using RoomActors.Gateway.Auth;
using RoomActors.Tests.Infrastructure;

namespace RoomActors.Tests.Client;

using RoomActors.Client;

/// <summary>
/// <see cref="RoomSocketOptions.TicketProvider"/> against a real all-in-one server with auth on and no clock skew: a
/// socket outlives its short ticket, the gateway closes it with 4401, and the client resumes the same
/// <c>roomactors.v1</c> connection with a fresh ticket, every acknowledged message in the room once and in order.
/// </summary>
public sealed class RoomSocketTicketTests : IAsyncLifetime
{
    private const string Key = "ticket-provider-test-signing-key-32-bytes";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private AllInOneServer _server = null!;

    public async Task InitializeAsync() => _server = await AllInOneServer.StartAsync(
        $"--RoomActors:Auth:SigningKey={Key}", "--RoomActors:Auth:ClockSkew=00:00:00");

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static string Ticket(TimeSpan life) => RoomTickets.Create(Key, "ada", "broadcast/*", DateTimeOffset.UtcNow + life);

    private RoomSocketOptions Options(string room)
    {
        var options = RoomSocketServerTests.Options(_server.WebSocket, "broadcast", room);
        options.MaxReconnectDelay = TimeSpan.FromMilliseconds(200);
        return options;
    }

    [Fact]
    public async Task After_4401_the_socket_resumes_with_a_fresh_ticket_from_its_provider_and_loses_no_acknowledged_message()
    {
        using var tally = new MeterTally();
        var expiries = tally.Sum("roomactors.gateway.ticket_expiry_closes");
        var room = RoomSocketServerTests.NewName();
        var asked = 0;
        var options = Options(room);
        options.TicketProvider = _ =>
            ValueTask.FromResult<string?>(Ticket(Interlocked.Increment(ref asked) == 1 ? TimeSpan.FromSeconds(3) : TimeSpan.FromMinutes(5)));
        await using var listener = new RoomSocket(new RoomSocketOptions
        {
            Server = _server.WebSocket, Type = "broadcast", Name = room, Ticket = Ticket(TimeSpan.FromMinutes(5)),
        });
        await listener.ConnectAsync().WaitAsync(Timeout);
        await using var socket = new RoomSocket(options);
        await socket.ConnectAsync().WaitAsync(Timeout);
        var id = socket.ConnectionId;
        var resumed = RoomSocketServerTests.OpenedAsync(socket);

        // Send across the expiry (3 s from now): every send is acknowledged, before, during and after the resume.
        var sent = new List<string>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; ; i++)
        {
            Assert.True(clock.Elapsed < Timeout, $"no resume within {Timeout.TotalSeconds} s (ticket provider asked {asked} times)");
            var text = $"m{i}";
            await socket.SendAsync(text).WaitAsync(Timeout);
            sent.Add(text);
            if (resumed.IsCompleted)
            {
                break;
            }

            await Task.Delay(100);
        }

        Assert.True(await resumed, "the socket opened a new connection instead of resuming its own");
        for (var i = 0; i < 3; i++)
        {
            var text = $"after {i}";
            await socket.SendAsync(text).WaitAsync(Timeout);
            sent.Add(text);
        }

        Assert.Equal(id, socket.ConnectionId);
        Assert.True(asked >= 2, $"the ticket provider was asked {asked} times");
        Assert.True(tally.Sum("roomactors.gateway.ticket_expiry_closes") > expiries, "the gateway closed no socket with 4401");

        // The room has every acknowledged message once, in order, for the client that stayed and for the one that resumed.
        Assert.Equal(sent, (await RoomSocketServerTests.TakeAsync(listener, sent.Count)).Select(m => m.Text));
        Assert.Equal(sent, (await RoomSocketServerTests.TakeAsync(socket, sent.Count)).Select(m => m.Text));
    }

    [Fact]
    public async Task With_a_fixed_ticket_the_socket_stops_at_401_after_4401_and_says_to_use_a_provider()
    {
        var options = Options(RoomSocketServerTests.NewName());
        options.Ticket = Ticket(TimeSpan.FromSeconds(2));
        await using var socket = new RoomSocket(options);
        await socket.ConnectAsync().WaitAsync(Timeout);
        var error = await Assert.ThrowsAsync<RoomClosedException>(async () =>
        {
            using var timeout = new CancellationTokenSource(Timeout);
            await foreach (var _ in socket.ReadAllAsync(timeout.Token))
            {
            }
        });
        Assert.Equal(401, error.HttpStatusCode);
        Assert.Contains("TicketProvider", error.Message);
    }

    [Fact]
    public void Ticket_and_TicketProvider_together_are_refused()
    {
        var options = Options("r");
        options.Ticket = "a.b.c";
        options.TicketProvider = _ => ValueTask.FromResult<string?>("a.b.c");
        var error = Assert.Throws<ArgumentException>(() => new RoomSocket(options));
        Assert.Contains("TicketProvider", error.Message);
    }

    [Fact]
    public async Task A_ticket_provider_that_throws_is_asked_again_after_the_backoff()
    {
        var asked = 0;
        var options = Options(RoomSocketServerTests.NewName());
        options.TicketProvider = _ => Interlocked.Increment(ref asked) < 3
            ? throw new HttpRequestException("the ticket service is down")
            : ValueTask.FromResult<string?>(Ticket(TimeSpan.FromMinutes(5)));
        await using var socket = new RoomSocket(options);
        await socket.ConnectAsync().WaitAsync(Timeout);
        Assert.Equal(3, asked);
        await socket.SendAsync("hi").WaitAsync(Timeout);
        Assert.Equal("hi", (await RoomSocketServerTests.TakeAsync(socket, 1))[0].Text);
    }
}
