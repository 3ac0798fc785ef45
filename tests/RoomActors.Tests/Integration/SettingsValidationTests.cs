using Microsoft.Extensions.Options;
using RoomActors.Gateway;
using RoomActors.Gateway.Hosting;
using RoomActors.Hosting;
using RoomActors.Tests.Infrastructure;

namespace RoomActors.Tests.Integration;

/// <summary>A bad setting stops the host at start, naming the full configuration key and what to do.</summary>
public sealed class SettingsValidationTests
{
    [Theory]
    [InlineData("RoomActors:Gateway:RoomCallTimeout (00:00:05) must be below RoomActors:Gateway:RoomUnavailableTimeout (00:00:03)",
        "--RoomActors:Gateway:RoomCallTimeout=00:00:05", "--RoomActors:Gateway:RoomUnavailableTimeout=00:00:03")]
    [InlineData("RoomActors:Gateway:CloseTimeout (00:00:00) must be positive", "--RoomActors:Gateway:CloseTimeout=00:00:00")]
    [InlineData("RoomActors:Gateway:MaxBatchEvents (0) must be at least 1", "--RoomActors:Gateway:MaxBatchEvents=0")]
    [InlineData("RoomActors:Gateway:AutoResponseRequest is set but RoomActors:Gateway:AutoResponseResponse is not",
        "--RoomActors:Gateway:AutoResponseRequest=ping")]
    [InlineData("RoomActors:Rooms:LeaseCheckInterval (-00:00:01) must be positive", "--RoomActors:Rooms:LeaseCheckInterval=-00:00:01")]
    [InlineData("RoomActors:Rooms:HibernateAfter (-00:00:01) must not be negative", "--RoomActors:Rooms:HibernateAfter=-00:00:01")]
    [InlineData("RoomActors:Rooms:BusyAfter (-00:00:01) must not be negative", "--RoomActors:Rooms:BusyAfter=-00:00:01")]
    [InlineData("RoomActors:Gateway:RenewInterval (00:00:10) must be at most a third of RoomActors:Rooms:GatewayLease (00:00:20)",
        "--RoomActors:Gateway:RenewInterval=00:00:10")]
    [InlineData("RoomActors:Gateway:RenewInterval (00:00:05) must be at most a third of RoomActors:Rooms:GatewayLease (00:00:12)",
        "--RoomActors:Rooms:GatewayLease=00:00:12")]
    [InlineData("RoomActors:SiloPort (70000) must be a port from 1 to 65535", "--RoomActors:SiloPort=70000")]
    [InlineData("RoomActors:ClusterId is empty", "--RoomActors:ClusterId= ")]
    [InlineData("RoomActors:AdvertisedIp ('silo-1') is not an IP address", "--advertised-ip", "silo-1")]
    [InlineData("RoomActors:Auth:MaxTicketLifetime (-01:00:00) must be positive", "--RoomActors:Auth:MaxTicketLifetime=-01:00:00")]
    [InlineData("RoomActors:Auth:MaxTicketLifetime (00:00:00) must be positive", "--RoomActors:Auth:MaxTicketLifetime=00:00:00")]
    [InlineData("RoomActors:Auth:ClockSkew (-00:00:30) must not be negative", "--RoomActors:Auth:ClockSkew=-00:00:30")]
    [InlineData("RoomActors:Auth:ClockSkew (01:00:00) must be below RoomActors:Auth:MaxTicketLifetime (00:30:00)",
        "--RoomActors:Auth:ClockSkew=01:00:00", "--RoomActors:Auth:MaxTicketLifetime=00:30:00")]
    [InlineData("RoomActors:Auth:AllowedOrigins:0 ('good.example') is not an origin", "--RoomActors:Auth:AllowedOrigins:0=good.example")]
    [InlineData("RoomActors:Auth:AllowedOrigins:0 ('https://good.example/app') is not an origin", "--RoomActors:Auth:AllowedOrigins:0=https://good.example/app")]
    public async Task The_all_in_one_host_refuses_to_start_with_a_bad_setting(string message, params string[] settings)
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            await using var server = await AllInOneServer.StartAsync(settings);
        });
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public async Task Zero_turns_hibernation_and_keep_alive_off_and_a_third_of_the_lease_is_enough()
    {
        await using var server = await AllInOneServer.StartAsync(
            "--RoomActors:Rooms:HibernateAfter=00:00:00", "--RoomActors:Gateway:KeepAliveInterval=00:00:00",
            "--RoomActors:Gateway:RenewInterval=00:00:05", "--RoomActors:Rooms:GatewayLease=00:00:15");
        await using var client = await TestClient.ConnectAsync(server.Room("echo", Guid.NewGuid().ToString("N")));
        await client.SendAsync("hi");
        Assert.Equal("hi", await client.ReceiveTextAsync());
    }

    [Fact]
    public void The_defaults_are_valid()
    {
        Assert.True(new GatewayOptionsValidator().Validate(null, new GatewayOptions()).Succeeded);
        Assert.True(new RoomActors.Gateway.Auth.AuthOptionsValidator().Validate(null, new RoomActors.Gateway.Auth.AuthOptions
        {
            ClockSkew = TimeSpan.Zero,
            AllowedOrigins = ["https://good.example", "http://localhost:8080", "HTTPS://Good.Example/"],
        }).Succeeded);
        Assert.True(new RoomActors.Gateway.Auth.AuthOptionsValidator().Validate(null, new RoomActors.Gateway.Auth.AuthOptions()).Succeeded);
        Assert.True(new RoomOptionsValidator().Validate(null, new RoomOptions()).Succeeded);
        Assert.True(new RoomActorsOptionsValidator().Validate(null, new RoomActorsOptions()).Succeeded);
        Assert.True(new GatewayLeaseValidator(Options.Create(new RoomOptions())).Validate(null, new GatewayOptions()).Succeeded);
    }

    [Fact]
    public void Every_failure_is_reported_at_once()
    {
        var result = new GatewayOptionsValidator().Validate(null, new GatewayOptions
        {
            MaxMessageBytes = 0,
            ResyncTimeout = TimeSpan.Zero,
            RoomCallTimeout = TimeSpan.FromMinutes(1),
        });
        Assert.Equal(
        [
            "RoomActors:Gateway:MaxMessageBytes (0) must be at least 1; remove it to use the default (1048576).",
            "RoomActors:Gateway:ResyncTimeout (00:00:00) must be positive; set a duration such as 00:00:10 (the default).",
            "RoomActors:Gateway:RoomCallTimeout (00:01:00) must be below RoomActors:Gateway:RoomUnavailableTimeout (00:00:30): a gateway "
                + "re-sends a batch after the first and gives the room up after the second; lower the first or raise the second.",
        ], result.Failures);
    }

    [Fact]
    public void The_silo_and_client_ports_must_differ()
    {
        var result = new RoomActorsOptionsValidator().Validate(null, new RoomActorsOptions { SiloPort = 20000, ClientPort = 20000 });
        Assert.Contains("RoomActors:SiloPort and RoomActors:ClientPort are both 20000", Assert.Single(result.Failures!));
    }

    [Fact]
    public async Task The_silo_process_exits_at_start_naming_the_bad_setting()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => NodeProcess.StartAsync("Silo", "bad-settings",
            new Uri($"http://127.0.0.1:{FreePort.Next()}"),
            "--silo-port", FreePort.Next().ToString(), "--client-port", FreePort.Next().ToString(),
            "--RoomActors:Gateway:RoomCallTimeout=00:01:00"));
        Assert.Matches(@"bad-settings exited with [1-9][0-9]*\.", error.Message);
        Assert.Contains("RoomActors:Gateway:RoomCallTimeout (00:01:00) must be below RoomActors:Gateway:RoomUnavailableTimeout (00:00:30)", error.Message);
    }
}
