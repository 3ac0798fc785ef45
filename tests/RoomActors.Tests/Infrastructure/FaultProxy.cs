using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace RoomActors.Tests.Infrastructure;

/// <summary>
/// A TCP relay on loopback in front of one server port (a gateway's), so that a test can drop a client's network: it
/// resets both sides of a relayed connection at once (RST, no close frame, no FIN), as a lost Wi-Fi or a NAT that
/// forgot the flow would. Clients connect to <see cref="WebSocket"/> instead of the server; while the server is down
/// the relay accepts and at once resets, as a load balancer with no backend does.
/// </summary>
public sealed class FaultProxy : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly int _target;
    private readonly ConcurrentDictionary<long, (Socket Client, Socket Server)> _relays = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private long _next;

    private FaultProxy(int target)
    {
        _target = target;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary><c>ws://127.0.0.1:PORT</c> of the relay.</summary>
    public Uri WebSocket => new($"ws://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");

    /// <summary>Connections relayed now.</summary>
    public int Open => _relays.Count;

    /// <summary>A relay to <paramref name="server"/>'s port on 127.0.0.1.</summary>
    public static FaultProxy To(Uri server) => new(server.Port);

    /// <summary>Resets up to <paramref name="count"/> relayed connections picked with <paramref name="random"/>; returns how many it reset.</summary>
    public int Drop(Random random, int count)
    {
        var picked = _relays.Keys.OrderBy(_ => random.Next()).Take(count).ToList();
        var dropped = 0;
        foreach (var key in picked)
        {
            if (_relays.TryRemove(key, out var relay))
            {
                Reset(relay.Client);
                Reset(relay.Server);
                dropped++;
            }
        }

        return dropped;
    }

    private static void Reset(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0); // close with RST, discarding what is unsent
            socket.Close();
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Already closed by the other side: nothing left to reset.
        }
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return; // disposed: stop accepting
            }

            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(Socket client)
    {
        var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        client.NoDelay = true;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            await server.ConnectAsync(new IPEndPoint(IPAddress.Loopback, _target), timeout.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException)
        {
            // The server is down (or does not answer): reset the client, which then tries elsewhere.
            Reset(client);
            server.Dispose();
            return;
        }

        var key = Interlocked.Increment(ref _next);
        _relays[key] = (client, server);
        await Task.WhenAll(PumpAsync(client, server), PumpAsync(server, client));
        _relays.TryRemove(key, out _);
        client.Dispose();
        server.Dispose();
    }

    private static async Task PumpAsync(Socket from, Socket to)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None);
                if (read == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }

                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // One side was reset (or dropped by the test): reset both, so the other side learns of it as it would.
            Reset(from);
            Reset(to);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        await _accepting;
        foreach (var key in _relays.Keys)
        {
            if (_relays.TryRemove(key, out var relay))
            {
                relay.Client.Dispose();
                relay.Server.Dispose();
            }
        }

        _stop.Dispose();
    }
}
