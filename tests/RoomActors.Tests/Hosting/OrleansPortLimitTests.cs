using System.Net;
using System.Net.Sockets;
using RoomActors.Hosting;
using RoomActors.Tests.Infrastructure;

namespace RoomActors.Tests.Hosting;

/// <summary>
/// Orleans' own listening ports (silo-to-silo and client) are capped (issue 13): a flood of idle TCP connects to them
/// cannot exhaust the process's file descriptors.
/// </summary>
public sealed class OrleansPortLimitTests
{
    [Theory]
    // descriptor limit, configured → per port
    [InlineData(2000L, 0, 125)]         // an eighth of the reserve (1,000)
    [InlineData(1024L, 0, 64)]          // reserve 512 (at least)
    [InlineData(1048576L, 0, 1024)]     // reserve 8,192 (at most)
    [InlineData(2000L, 10, 10)]         // configured wins
    [InlineData(null, 0, null)]         // unknown limit, nothing configured: no cap
    [InlineData(null, 50, 50)]
    public void PerPortCap(long? descriptors, int configured, int? expected) =>
        Assert.Equal(expected, OrleansPortLimits.PerPort(descriptors, configured));

    [Fact]
    public void NegativeCapIsRefusedNamingTheKey()
    {
        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            RoomActorsOptionsValidator.ThrowIfInvalid(new RoomActorsOptions { MaxClusterConnections = -1 }));
        Assert.Contains("RoomActors:MaxClusterConnections (-1)", error.Message);
    }

    /// <summary>
    /// The trial on Orleans' ports: limit 2,000 descriptors, 2,500 idle TCP connects split over the silo port and
    /// the client port. It aborted the process; now connections past each port's cap are closed at once, the descriptors
    /// stay under the limit, and a gateway still joins through the client port and serves a room.
    /// </summary>
    [Fact]
    public async Task IdleConnectsToOrleansPortsAreBoundedAndTheSiloStillServesAGateway()
    {
        const int Limit = 2000, Connects = 2500;
        int siloPort = FreePort.Next(), clientPort = FreePort.Next();
        var url = new Uri($"http://127.0.0.1:{FreePort.Next()}");
        await using var node = await NodeProcess.StartAsync("Silo", "orleans-fd-limited", url, siloPort: null, descriptorLimit: Limit,
            "--silo-port", siloPort.ToString(), "--client-port", clientPort.ToString());

        var cap = OrleansPortLimits.PerPort(Limit, 0)!.Value;
        var sockets = new List<Socket>();
        Exception? stopped = null;
        var refusedAtConnect = 0;
        try
        {
            var connectUntil = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            for (var i = 0; i < Connects && DateTime.UtcNow < connectUntil && !node.HasExited; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                sockets.Add(socket);
                try
                {
                    await socket.ConnectAsync(IPAddress.Loopback, i % 2 == 0 ? clientPort : siloPort).WaitAsync(TimeSpan.FromSeconds(5));
                }
                catch (SocketException)
                {
                    // Counted as closed by the server: a connection past the cap is reset so soon after the accept that
                    // the connect itself can report it (a broken pipe or a reset).
                    socket.Dispose();
                    refusedAtConnect++;
                }
                catch (TimeoutException ex)
                {
                    // Reported below: an unanswered connect means the process is gone or no longer accepting.
                    stopped = ex;
                    break;
                }
            }

            // Past each port's cap a connection is closed right after the accept.
            var closedByServer = 0;
            var until = DateTime.UtcNow + TimeSpan.FromSeconds(15);
            while (DateTime.UtcNow < until && !node.HasExited)
            {
                closedByServer = refusedAtConnect + sockets.Count(s => !s.SafeHandle.IsClosed && ClosedByPeer(s));
                if (closedByServer >= Connects - 2 * cap)
                {
                    break;
                }

                await Task.Delay(200);
            }

            Assert.False(node.HasExited, $"the process died under {sockets.Count} idle connects to its Orleans ports. Log:\n{node.Log}");
            var descriptors = Directory.GetFiles($"/proc/{node.Pid}/fd").Length;
            Assert.True(sockets.Count == Connects && stopped is null,
                $"connect {sockets.Count} of {Connects} failed ({stopped?.Message}); the process holds {descriptors} descriptors. Log:\n{node.Log}");
            Assert.True(closedByServer >= Connects - 2 * cap,
                $"only {closedByServer} of {Connects} idle connections were closed (cap {cap} a port); the process holds {descriptors} descriptors");
            Assert.True(descriptors < Limit - 100, $"the process holds {descriptors} descriptors of {Limit}");

            // Logged as a count, not a line per refused connection: each port's first refusal, then at most one every 10 s.
            var refusalLines = node.Log.Split('\n').Count(l => l.Contains("OrleansPortLimits[4202]", StringComparison.Ordinal));
            Assert.InRange(refusalLines, 1, 10);
        }
        finally
        {
            foreach (var socket in sockets)
            {
                socket.Dispose();
            }
        }

        // The client port still serves: a gateway joins through it (retrying while the flood's closes are seen) and
        // routes a room to the silo.
        var gateway = await StandaloneGateway.StartAsync(clientPort, []).WaitAsync(TimeSpan.FromSeconds(90));
        await using (gateway)
        {
            await using var client = await TestClient.ConnectAsync(gateway.Room("echo", "after-orleans-flood"));
            await client.SendAsync("still here");
            Assert.Equal("still here", await client.ReceiveTextAsync());
            await client.CloseAsync();
        }

        Assert.Equal(0, await node.StopAsync(timeout: TimeSpan.FromSeconds(30)));
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
