using System.Net;
using Microsoft.IdentityModel.JsonWebTokens;
using RoomActors.Tests.Infrastructure;

namespace RoomActors.Tests.Hosting;

/// <summary>The connect hook reports the verified identity: <c>user=… team=… room=…</c>.</summary>
[Room("it-ticket")]
public sealed class TicketHolderRoom : Room
{
    protected override Task OnConnectAsync(Connection connection, ConnectContext context)
    {
        connection.Send($"user={context.UserId} team={context.Claims.GetValueOrDefault("team")} room={context.Claims.GetValueOrDefault("room")}");
        return Task.CompletedTask;
    }
}

/// <summary>
/// <c>RoomActors.Silo ticket …</c>, run from the build output as an operator would: the printed ticket opens the
/// rooms it names on a server with the same signing key; a missing or short key is an error naming the setting.
/// </summary>
public sealed class TicketCommandTests : IAsyncLifetime
{
    private const string Key = "ticket-command-test-key-of-32-bytes+";
    private AllInOneServer _server = null!;

    public async Task InitializeAsync() => _server = await AllInOneServer.StartAsync($"--RoomActors:Auth:SigningKey={Key}");

    public async Task DisposeAsync() => await _server.DisposeAsync();

    /// <summary><c>dotnet RoomActors.Silo.dll ticket …</c>, with the signing key in the environment when given.</summary>
    private static Task<Dotnet.Result> TicketAsync(string? environmentKey, params string[] args) =>
        Dotnet.RunAsync([BuildOutput.Dll("Silo"), "ticket", .. args],
            new Dictionary<string, string?> { ["RoomActors__Auth__SigningKey"] = environmentKey });

    [Fact]
    public async Task The_printed_ticket_opens_the_rooms_it_names_with_its_claims_until_it_expires()
    {
        var run = await TicketAsync(Key, "--user", "ada", "--room", "it-ticket/*", "--room", "chat/lobby",
            "--expires", "10m", "--claim", "team=red");
        Assert.True(run.ExitCode == 0, run.ToString());
        var ticket = run.Output.Trim();
        Assert.DoesNotContain('\n', ticket);

        var expires = new JsonWebTokenHandler().ReadJsonWebToken(ticket).ValidTo;
        Assert.InRange(expires, DateTime.UtcNow.AddMinutes(9), DateTime.UtcNow.AddMinutes(11));

        await using var client = await TestClient.ConnectAsync(_server.Room("it-ticket", NewName(), "?ticket=" + ticket));
        Assert.Equal("user=ada team=red room=it-ticket/*,chat/lobby", await client.ReceiveTextAsync());

        using var http = new HttpClient();
        var otherRoom = await http.GetAsync(new Uri(_server.Http, $"/rooms/counter/{NewName()}?ticket={ticket}"));
        Assert.Equal(HttpStatusCode.Forbidden, otherRoom.StatusCode);
    }

    [Fact]
    public async Task The_key_may_come_from_the_command_line_and_expiry_defaults_to_an_hour()
    {
        var run = await TicketAsync(null, "--user=bob", "--room=it-ticket/*", $"--RoomActors:Auth:SigningKey={Key}");
        Assert.True(run.ExitCode == 0, run.ToString());
        var ticket = run.Output.Trim();
        Assert.InRange(new JsonWebTokenHandler().ReadJsonWebToken(ticket).ValidTo, DateTime.UtcNow.AddMinutes(59), DateTime.UtcNow.AddMinutes(61));

        await using var client = await TestClient.ConnectAsync(_server.Room("it-ticket", NewName(), "?ticket=" + ticket));
        Assert.Equal("user=bob team= room=it-ticket/*", await client.ReceiveTextAsync());
    }

    [Theory]
    [InlineData(null, "RoomActors:Auth:SigningKey is not set")]
    [InlineData("only-17-bytes-key", "RoomActors:Auth:SigningKey has 17 bytes; use at least 32")]
    public async Task A_missing_or_short_key_is_an_error_naming_the_setting(string? key, string message)
    {
        var run = await TicketAsync(key, "--user", "ada", "--room", "chat/*");
        Assert.Equal(1, run.ExitCode);
        Assert.Equal("", run.Output);
        Assert.Contains(message, run.Error);
    }

    [Fact]
    public async Task An_expiry_past_MaxTicketLifetime_is_refused_as_the_gateways_would()
    {
        var run = await TicketAsync(Key, "--user", "ada", "--room", "chat/*", "--expires", "2d");
        Assert.Equal(2, run.ExitCode);
        Assert.Equal("", run.Output);
        Assert.Contains("longer than RoomActors:Auth:MaxTicketLifetime", run.Error);

        var allowed = await TicketAsync(Key, "--user", "ada", "--room", "chat/*", "--expires", "2d", "--RoomActors:Auth:MaxTicketLifetime=3.00:00:00");
        Assert.True(allowed.ExitCode == 0, allowed.ToString());
    }

    [Theory]
    [InlineData("--room", "chat/*")]
    [InlineData("--user", "ada", "--room", "chat/*", "--expires", "soon")]
    [InlineData("--user", "ada", "--room", "chat/*", "--claim", "no-equals-sign")]
    [InlineData("--user", "ada", "--room", "chat/*", "--romo", "x")]
    public async Task Bad_arguments_print_the_usage(params string[] args)
    {
        var run = await TicketAsync(Key, args);
        Assert.Equal(2, run.ExitCode);
        Assert.Equal("", run.Output);
        Assert.Contains("usage: ticket --user USER --room TYPE/NAME", run.Error);
    }

    private static string NewName() => "r-" + Guid.NewGuid().ToString("N")[..12];
}
