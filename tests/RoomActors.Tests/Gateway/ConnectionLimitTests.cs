using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using RoomActors.Gateway.Limits;
using RoomActors.Tests.Infrastructure;

namespace RoomActors.Tests.Gateway;

/// <summary>
/// Connection caps (issue 13): a process short of file descriptors keeps running, Kestrel's limits in configuration
/// apply, and a gateway at its WebSocket cap answers 503 with Retry-After before the upgrade.
/// </summary>
public sealed class ConnectionLimitTests
{
    [Theory]
    // descriptor limit, configured WebSockets, configured Kestrel limit → WebSockets, TCP
    [InlineData(4000L, 0, null, 1800, 2000L)]        // reserve 2000 (half)
    [InlineData(2000L, 0, null, 900, 1000L)]
    [InlineData(1024L, 0, null, 461, 512L)]          // reserve 512 (at least)
    [InlineData(1048576L, 0, null, 936_346, 1_040_384L)] // reserve 8192 (at most)
    [InlineData(2000L, 100, null, 100, 116L)]        // configured: a tenth more TCP, at least 16
    [InlineData(2000L, 5000, null, 5000, 1000L)]     // never more TCP than the descriptors allow
    [InlineData(2000L, 0, 100L, 900, 100L)]         // Kestrel's own setting wins
    [InlineData(null, 0, null, int.MaxValue, null)]  // unknown limit, nothing configured: no caps
    [InlineData(null, 50, null, 50, 66L)]
    public void Budget(long? descriptors, int webSockets, long? kestrel, int expectedWebSockets, long? expectedTcp)
    {
        var budget = ConnectionBudget.For(descriptors, webSockets, kestrel);
        Assert.Equal(expectedWebSockets, budget.WebSockets);
        Assert.Equal(expectedTcp, budget.Tcp);
    }

    [Fact]
    public void RefusalsAreCountedAndLoggedAtMostOnceAnInterval()
    {
        var throttle = new RefusalThrottle(TimeSpan.FromHours(1));
        Assert.True(throttle.Count()); // the first is logged
        for (var i = 0; i < 1000; i++)
        {
            Assert.False(throttle.Count()); // the rest of the hour is counted only
        }

        Assert.False(throttle.Count(5));
        Assert.Equal(1006, throttle.Total);
        Assert.True(new RefusalThrottle(TimeSpan.Zero) is var every && every.Count() && every.Count());
    }

    [Fact]
    public void DescriptorLimitIsTheSoftOpenFilesLimit()
    {
        string[] limits =
        [
            "Limit                     Soft Limit           Hard Limit           Units     ",
            "Max processes             63704                63704                processes ",
            "Max open files            2000                 4096                 files     ",
        ];
        Assert.Equal(2000, ConnectionBudget.ParseDescriptorLimit(limits));
        Assert.Null(ConnectionBudget.ParseDescriptorLimit(["Max open files            unlimited            unlimited            files"]));
        Assert.NotNull(ConnectionBudget.ReadDescriptorLimit()); // this test runs on Linux
    }

    /// <summary>
    /// The trial: limit 2,000 descriptors, 2,500 idle TCP connects. It aborted the process ("Out of memory.",
    /// SIGABRT); now Kestrel closes connections past its cap, the descriptors stay under the limit, a WebSocket client is
    /// served afterwards and the process exits cleanly.
    /// </summary>
    [Fact]
    public async Task IdleConnectsPastTheDescriptorLimitAreBoundedAndTheProcessStaysUp()
    {
        const int Limit = 2000, Connects = 2500;
        var url = new Uri($"http://127.0.0.1:{FreePort.Next()}");
        await using var node = await NodeProcess.StartAsync("Silo", "fd-limited", url, siloPort: null, descriptorLimit: Limit,
            "--silo-port", FreePort.Next().ToString(), "--client-port", FreePort.Next().ToString());

        var sockets = new List<Socket>();
        try
        {
            var connectUntil = DateTime.UtcNow + TimeSpan.FromSeconds(20);
            for (var i = 0; i < Connects && DateTime.UtcNow < connectUntil; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                sockets.Add(socket);
                await socket.ConnectAsync(IPAddress.Loopback, url.Port).WaitAsync(TimeSpan.FromSeconds(5));
            }

            Assert.Equal(Connects, sockets.Count);

            // Kestrel closes what is past its cap right after the accept: at least 2,500 - 1,000 are closed by the server.
            var closedByServer = 0;
            var until = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (DateTime.UtcNow < until)
            {
                closedByServer = sockets.Count(ClosedByPeer);
                if (closedByServer >= Connects - 1000)
                {
                    break;
                }

                await Task.Delay(200);
            }

            var descriptors = Directory.GetFiles($"/proc/{node.Pid}/fd").Length;
            Assert.False(node.HasExited, $"the process died under {Connects} idle connects. Log:\n{node.Log}");
            Assert.True(closedByServer >= Connects - 1000, $"only {closedByServer} of {Connects} idle connections were refused; the server holds {descriptors} descriptors");
            Assert.True(descriptors < Limit - 100, $"the server holds {descriptors} descriptors of {Limit}");
        }
        finally
        {
            foreach (var socket in sockets)
            {
                socket.Dispose();
            }
        }

        // Served afterwards (Kestrel counts a connection until its socket closes: retry for a moment).
        TestClient? client = null;
        for (var attempt = 0; client is null && attempt < 50; attempt++)
        {
            try
            {
                client = await TestClient.ConnectAsync(node.Room("echo", "after-flood"));
            }
            catch (WebSocketException) when (attempt < 49)
            {
                // Retry: the server may not have seen all of the flood's closes yet.
                await Task.Delay(200);
            }
        }

        await using (client)
        {
            await client!.SendAsync("still here");
            Assert.Equal("still here", await client.ReceiveTextAsync());
            await client.CloseAsync();
        }

        Assert.Equal(0, await node.StopAsync(timeout: TimeSpan.FromSeconds(30)));
    }

    /// <summary>ASP.NET Core binds only Kestrel's endpoints and certificates from configuration; the limits must apply too.</summary>
    [Fact]
    public async Task KestrelLimitsInConfigurationApply()
    {
        await using var server = await AllInOneServer.StartAsync("--Kestrel:Limits:MaxConcurrentConnections=100");
        var sockets = new List<Socket>();
        try
        {
            for (var i = 0; i < 200; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                sockets.Add(socket);
                await socket.ConnectAsync(IPAddress.Loopback, server.Http.Port).WaitAsync(TimeSpan.FromSeconds(5));
            }

            var closed = 0;
            var until = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (DateTime.UtcNow < until && (closed = sockets.Count(ClosedByPeer)) < 100)
            {
                await Task.Delay(100);
            }

            Assert.True(closed >= 100, $"{200 - closed} of 200 idle connections were kept with Kestrel:Limits:MaxConcurrentConnections=100");
        }
        finally
        {
            foreach (var socket in sockets)
            {
                socket.Dispose();
            }
        }
    }

    /// <summary>
    /// Kestrel warned once per connection it closed at its cap, so a flood was a flood of log lines; now the gateway logs
    /// the running count at most every 10 s (event 2036) and Kestrel's per-connection warning is filtered out.
    /// </summary>
    /// <param name="kestrelWarnings">
    /// True: Kestrel's category configured at Warning (the operator's choice wins), so its per-connection lines return.
    /// </param>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ConnectionsRefusedAtTheCapAreOneLogLineNotOnePerConnection(bool kestrelWarnings)
    {
        const int Cap = 5, Connects = 100;
        string[] logging = kestrelWarnings
            ? ["--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:Microsoft.Hosting.Lifetime=Information", $"--Logging:LogLevel:{ConnectionLimits.KestrelConnectionsCategory}=Warning"]
            : [];
        var url = new Uri($"http://127.0.0.1:{FreePort.Next()}");
        await using var node = await NodeProcess.StartAsync("Silo", "tcp-capped", url,
            ["--silo-port", FreePort.Next().ToString(), "--client-port", FreePort.Next().ToString(), $"--Kestrel:Limits:MaxConcurrentConnections={Cap}", .. logging]);
        var sockets = new List<Socket>();
        try
        {
            for (var i = 0; i < Connects; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                sockets.Add(socket);
                await socket.ConnectAsync(IPAddress.Loopback, url.Port).WaitAsync(TimeSpan.FromSeconds(5));
            }

            var closed = 0;
            var until = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (DateTime.UtcNow < until && (closed = sockets.Count(ClosedByPeer)) < Connects - Cap)
            {
                await Task.Delay(100);
            }

            Assert.True(closed >= Connects - Cap, $"{closed} of {Connects} idle connections were closed with MaxConcurrentConnections={Cap}");
        }
        finally
        {
            foreach (var socket in sockets)
            {
                socket.Dispose();
            }
        }

        Assert.True(await node.WaitForLogAsync(l => l.Contains("ConnectionLimits[2036]", StringComparison.Ordinal), TimeSpan.FromSeconds(10)), node.Log);
        static int PerConnection(string log) =>
            log.Split('\n').Count(l => l.Contains("rejected because the maximum number of concurrent connections", StringComparison.Ordinal));
        var logged = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (kestrelWarnings && PerConnection(node.Log) < Connects - Cap && DateTime.UtcNow < logged)
        {
            await Task.Delay(100); // the process's output arrives in its own time: wait (bounded) for the last lines
        }

        var lines = node.Log.Split('\n');
        var perConnection = PerConnection(node.Log);
        var counted = lines.Count(l => l.Contains("ConnectionLimits[2036]", StringComparison.Ordinal));
        Assert.InRange(counted, 1, 3); // the first refusal, then at most one line every 10 s
        Assert.Equal(kestrelWarnings ? Connects - Cap : 0, kestrelWarnings ? Math.Min(perConnection, Connects - Cap) : perConnection);
    }

    [Fact]
    public async Task UpgradesPastTheCapAreRefusedWith503AndRetryAfter()
    {
        await using var server = await AllInOneServer.StartAsync("--RoomActors:Gateway:MaxConnections=3");
        var clients = new List<TestClient>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                clients.Add(await TestClient.ConnectAsync(server.Room("echo", "capped")));
            }

            using var refused = new ClientWebSocket();
            refused.Options.CollectHttpResponseDetails = true;
            await Assert.ThrowsAsync<WebSocketException>(() => refused.ConnectAsync(server.Room("echo", "capped"), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.HttpStatusCode);
            Assert.Equal(ConnectionLimits.RetryAfterSeconds.ToString(), Assert.Single(refused.HttpResponseHeaders!["Retry-After"]));

            // A closed socket gives its permit back.
            await clients[0].CloseAsync();
            await clients[0].DisposeAsync();
            clients.RemoveAt(0);
            TestClient? next = null;
            for (var attempt = 0; next is null && attempt < 50; attempt++)
            {
                try
                {
                    next = await TestClient.ConnectAsync(server.Room("echo", "capped"));
                }
                catch (WebSocketException) when (attempt < 49)
                {
                    // Retry: the server releases the permit once its handler has finished.
                    await Task.Delay(100);
                }
            }

            clients.Add(next!);
            await next!.SendAsync("in");
            Assert.Equal("in", await next.ReceiveTextAsync());
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    /// <summary>True when the server closed the connection (a read returns 0 bytes, or the connection was reset).</summary>
    private static bool ClosedByPeer(Socket socket)
    {
        try
        {
            return socket.Poll(0, SelectMode.SelectRead) && socket.Receive(new byte[1], SocketFlags.None) == 0;
        }
        catch (SocketException)
        {
            return true; // reset by the server
        }
    }
}
