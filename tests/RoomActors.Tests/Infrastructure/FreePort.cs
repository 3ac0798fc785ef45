using System.Net;
using System.Net.Sockets;

namespace RoomActors.Tests.Infrastructure;

/// <summary>
/// Free TCP ports for silo, client and Redis ports that cannot be 0 (the process given one binds it later).
/// </summary>
/// <remarks>
/// Taken below the kernel's ephemeral range, never from it: a port the kernel handed out for a listener on port 0 is
/// free only until it is closed, and then the kernel may give it to any outgoing connection (a test client, a gateway's
/// connection to Redis) before the process meant to listen on it binds it. A silo that then fails to bind exits, and
/// the test fails with "did not start". Each port is handed out once per test run, after checking nobody listens on it.
/// </remarks>
public static class FreePort
{
    private static readonly (int First, int Count) Range = BelowEphemeral();
    private static int _next = Random.Shared.Next(Range.Count);

    public static int Next()
    {
        for (var tries = 0; tries < Range.Count; tries++)
        {
            var port = Range.First + (int)((uint)Interlocked.Increment(ref _next) % (uint)Range.Count);
            if (IsFree(port))
            {
                return port;
            }
        }

        throw new InvalidOperationException($"No free TCP port between {Range.First} and {Range.First + Range.Count - 1}.");
    }

    private static bool IsFree(int port)
    {
        try
        {
            // Silos listen on every address: the port must be free there, not only on loopback.
            using var listener = new TcpListener(IPAddress.Any, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            // Taken (or not ours to take): try the next one.
            return false;
        }
    }

    /// <summary>10,000 ports ending below the start of the kernel's ephemeral range (Linux: 32768 unless configured).</summary>
    private static (int First, int Count) BelowEphemeral()
    {
        var start = 32768;
        try
        {
            var range = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
            start = int.Parse(range[0]);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            // Not Linux, or not readable: assume the default range.
        }

        var first = Math.Max(1024, start - 10_000);
        return (first, Math.Max(1000, start - first));
    }
}
