using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using RoomActors.Gateway.Auth;
using RoomActors.Tests.Infrastructure;

namespace RoomActors.Tests.Integration;

/// <summary>Tells what room code sees of the request: its query string and header names, on connect and over HTTP.</summary>
[Room("it-credentials")]
public sealed class CredentialsRoom : Room
{
    protected override Task OnConnectAsync(Connection connection, ConnectContext context)
    {
        connection.Send($"query={context.QueryString} headers={string.Join(",", context.Headers.Keys.Order())}");
        return Task.CompletedTask;
    }

    protected override Task<RoomHttpResponse> OnRequestAsync(RoomHttpRequest request) =>
        Task.FromResult(RoomHttpResponse.Text($"query={request.QueryString} headers={string.Join(",", request.Headers.Keys.Order())}"));
}

/// <summary>
/// Ticket limits: a maximum lifetime, a socket closed with 4401 when its ticket expires, credentials kept from room code,
/// key rotation with two keys, clock skew, our own words in every refusal, and an empty key refused at start.
/// </summary>
public sealed class TicketLimitTests : IAsyncLifetime
{
    private const string NewKey = "new-signing-key-of-at-least-32-bytes!!";
    private const string OldKey = "old-signing-key-of-at-least-32-bytes!!";

    /// <summary>Both keys (a rotation under way), default skew (30 s) and lifetime (24 h).</summary>
    private AllInOneServer _rotating = null!;

    /// <summary>The new key only (the rotation done), no clock skew.</summary>
    private AllInOneServer _strict = null!;

    public async Task InitializeAsync()
    {
        _rotating = await AllInOneServer.StartAsync($"--RoomActors:Auth:SigningKey={NewKey}", $"--RoomActors:Auth:PreviousSigningKey={OldKey}");
        _strict = await AllInOneServer.StartAsync($"--RoomActors:Auth:SigningKey={NewKey}", "--RoomActors:Auth:ClockSkew=00:00:00");
    }

    public async Task DisposeAsync()
    {
        await _rotating.DisposeAsync();
        await _strict.DisposeAsync();
    }

    private static string Ticket(TimeSpan expiresIn, string key = NewKey, string room = "it-credentials/*") =>
        RoomTickets.Create(key, "ada", room, DateTimeOffset.UtcNow + expiresIn);

    private static async Task<(HttpStatusCode Status, string Body)> GetAsync(AllInOneServer server, string query)
    {
        using var http = new HttpClient();
        var response = await http.GetAsync(new Uri(server.Http, $"/rooms/it-credentials/r-{Guid.NewGuid():N}{query}"));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_ticket_valid_for_longer_than_MaxTicketLifetime_is_refused_with_the_reason()
    {
        var (status, body) = await GetAsync(_rotating, "?ticket=" + Ticket(TimeSpan.FromHours(25)));
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Contains("longer than RoomActors:Auth:MaxTicketLifetime", body);

        // A year-9999 expiry, the case found.
        (status, _) = await GetAsync(_rotating, "?ticket=" + RoomTickets.Create(NewKey, "ada", "it-credentials/*", new DateTimeOffset(9999, 1, 1, 0, 0, 0, TimeSpan.Zero)));
        Assert.Equal(HttpStatusCode.Unauthorized, status);

        // Within the lifetime: in, also as a WebSocket.
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(_rotating, "?ticket=" + Ticket(TimeSpan.FromHours(23)))).Status);
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(
            _rotating.Room("it-credentials", "r-" + Guid.NewGuid().ToString("N"), "?ticket=" + Ticket(TimeSpan.FromDays(2))), CancellationToken.None));
        Assert.Equal(HttpStatusCode.Unauthorized, socket.HttpStatusCode);
    }

    [Fact]
    public async Task Refusals_are_in_our_words_never_IdentityModel_texts()
    {
        foreach (var (ticket, expected) in new[]
        {
            ("not.a.ticket", "not a well-formed JWT"),
            ("eyJhbGciOiJIUzI1NiJ9.e30.AAAA", "signature is not valid"),
            ("a.b", "not a well-formed JWT"),
            (Ticket(TimeSpan.FromMinutes(5), key: "a-third-key-that-is-also-32-bytes-long!"), "signature is not valid"),
            (Ticket(TimeSpan.FromSeconds(-50)), "has expired"),
        })
        {
            var (status, body) = await GetAsync(_rotating, "?ticket=" + ticket);
            Assert.Equal(HttpStatusCode.Unauthorized, status);
            Assert.True(body.Contains(expected, StringComparison.Ordinal), $"{ticket[..Math.Min(20, ticket.Length)]}: {body}");
            Assert.DoesNotContain("IDX", body);
        }
    }

    [Fact]
    public async Task Key_rotation_accepts_the_previous_key_while_it_is_configured_and_not_after()
    {
        var old = Ticket(TimeSpan.FromMinutes(5), key: OldKey);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(_rotating, "?ticket=" + old)).Status);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(_rotating, "?ticket=" + Ticket(TimeSpan.FromMinutes(5)))).Status);

        var (status, body) = await GetAsync(_strict, "?ticket=" + old);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Contains("signature is not valid", body);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(_strict, "?ticket=" + Ticket(TimeSpan.FromMinutes(5)))).Status);
    }

    [Fact]
    public async Task Clock_skew_lets_a_just_expired_ticket_in_and_zero_skew_does_not()
    {
        var justExpired = Ticket(TimeSpan.FromSeconds(-10));
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(_rotating, "?ticket=" + justExpired)).Status); // 30 s skew
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(_strict, "?ticket=" + justExpired)).Status); // none
    }

    [Fact]
    public async Task A_socket_is_closed_with_4401_when_its_ticket_expires()
    {
        var room = "r-" + Guid.NewGuid().ToString("N");
        var expires = DateTime.UtcNow + TimeSpan.FromSeconds(3);
        await using var client = await TestClient.ConnectAsync(_strict.Room("it-credentials", room, "?ticket=" + Ticket(TimeSpan.FromSeconds(3))));
        Assert.StartsWith("query=", await client.ReceiveTextAsync());
        var (status, reason, _) = await client.WaitClosedAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(4401, (int?)status);
        Assert.Equal("ticket expired; reconnect with a new ticket", reason);
        // Not before the ticket's expiry (whole seconds in the ticket, so up to 1 s early); how late depends on the machine.
        Assert.True(DateTime.UtcNow >= expires - TimeSpan.FromSeconds(1), "the socket was closed before its ticket expired");
    }

    [Fact]
    public async Task The_ticket_and_the_Authorization_and_Cookie_headers_do_not_reach_room_code()
    {
        var ticket = Ticket(TimeSpan.FromMinutes(5));
        var room = "r-" + Guid.NewGuid().ToString("N");
        using (var socket = new ClientWebSocket())
        {
            socket.Options.SetRequestHeader("Cookie", "session=secret");
            socket.Options.SetRequestHeader("User-Agent", "tests");
            await socket.ConnectAsync(_rotating.Room("it-credentials", room, "?a=1&ticket=" + ticket + "&b=2"), CancellationToken.None);
            var buffer = new byte[1024];
            var read = await socket.ReceiveAsync(buffer, CancellationToken.None);
            Assert.Equal("query=?a=1&b=2 headers=user-agent", System.Text.Encoding.UTF8.GetString(buffer, 0, read.Count));
        }

        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_rotating.Http, $"/rooms/it-credentials/{room}/x?a=1"));
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", ticket);
        request.Headers.Add("Cookie", "session=secret");
        request.Headers.Add("X-Via", "tests");
        var body = await (await http.SendAsync(request)).Content.ReadAsStringAsync();
        Assert.StartsWith("query=?a=1 headers=", body);
        Assert.Contains("x-via", body);
        Assert.DoesNotContain("authorization", body);
        Assert.DoesNotContain("cookie", body);

        var (_, viaQuery) = await GetAsync(_rotating, "?ticket=" + ticket);
        Assert.StartsWith("query= headers=", viaQuery);
    }

    [Fact]
    public async Task An_empty_signing_key_stops_the_process_at_start()
    {
        var dll = BuildOutput.Dll("Silo");
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(dll);
        foreach (var arg in new[] { "--urls", "http://127.0.0.1:0", "--silo-port", FreePort.Next().ToString(), "--client-port", FreePort.Next().ToString() })
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["RoomActors__Auth__SigningKey"] = "";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("the silo started with an empty RoomActors:Auth:SigningKey (auth silently off)");
        }

        Assert.NotEqual(0, process.ExitCode);
        Assert.Contains("RoomActors:Auth:SigningKey is set but empty", await output + await error);
    }
}
