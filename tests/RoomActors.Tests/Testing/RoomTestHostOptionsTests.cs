using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using RoomActors.Testing;

namespace RoomActors.Tests.Testing;

/// <summary>A service the tests put into the silo.</summary>
public sealed class KitGreeting(string text)
{
    public string Text { get; } = text;
}

/// <summary>Says what the silo gave it: a service, a configuration value and the time.</summary>
[Room("kit-config")]
public sealed class KitConfigRoom : Room
{
    protected override Task OnConnectAsync(Connection connection, ConnectContext context)
    {
        var greeting = ServiceProvider.GetService<KitGreeting>()?.Text ?? "no greeting";
        var motto = ServiceProvider.GetRequiredService<IConfiguration>()["Kit:Motto"] ?? "no motto";
        connection.Send($"{greeting}; {motto}; {TimeProvider.GetUtcNow():yyyy-MM-dd}");
        return Task.CompletedTask;
    }

    protected override Task OnMessageAsync(Connection sender, RoomMessage message)
    {
        sender.Send($"{Connections.Count} connected");
        return Task.CompletedTask;
    }
}

/// <summary>Hosts with options of their own: each test starts and stops one.</summary>
public sealed class RoomTestHostOptionsTests
{
    [Fact]
    public async Task Rooms_get_the_services_configuration_and_clock_of_the_options()
    {
        await using var host = await RoomTestHost.StartAsync(new RoomTestHostOptions
        {
            ConfigureServices = services => services.AddSingleton(new KitGreeting("hi from a test service")),
            Configuration = { ["Kit:Motto"] = "rooms all the way down" },
            TimeProvider = new FixedClock(new DateTimeOffset(2031, 2, 3, 4, 5, 6, TimeSpan.Zero)),
        });

        await using var ada = await host.ConnectAsync("kit-config", "lobby");
        Assert.Equal("hi from a test service; rooms all the way down; 2031-02-03", await ada.NextTextAsync());
        Assert.IsType<KitGreeting>(host.SiloServices.GetService<KitGreeting>());
    }

    [Fact]
    public async Task Invalid_room_options_fail_the_start_naming_the_setting()
    {
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => RoomTestHost.StartAsync(new RoomTestHostOptions
        {
            Configuration = { ["RoomActors:Rooms:GatewayLease"] = "-00:00:01" },
        }));
        Assert.Contains("RoomActors:Rooms:GatewayLease", failure.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("00:00:00")] // awake all along: the room checks its gateway's lease every 0.5 s
    [InlineData("00:00:01")] // hibernating after 1 s idle: the next message brings the room back with its connections
    public async Task Clients_stay_connected_past_the_gateway_lease(string hibernateAfter)
    {
        // A 2 s lease: a gateway that did not report would lose its connections within 3 s.
        await using var host = await RoomTestHost.StartAsync(new RoomTestHostOptions
        {
            Configuration =
            {
                ["RoomActors:Rooms:GatewayLease"] = "00:00:02",
                ["RoomActors:Rooms:LeaseCheckInterval"] = "00:00:00.5",
                ["RoomActors:Rooms:HibernateAfter"] = hibernateAfter,
            },
        });

        await using var ada = await host.ConnectAsync("kit-config", "lobby");
        await ada.NextTextAsync();
        Assert.True(await ada.QuietAsync(TimeSpan.FromSeconds(4.5)));
        Assert.False(ada.IsClosed);
        await ada.SendAsync("count");
        Assert.Equal("1 connected", await ada.NextTextAsync());
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
