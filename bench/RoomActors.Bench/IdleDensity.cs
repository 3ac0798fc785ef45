using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;

namespace RoomActors.Bench;

/// <summary>
/// Idle density: as many idle connections as the machine allows (bounded by --connections and by the file-descriptor
/// limit), spread over several 127.0.0.x source addresses so the ephemeral ports of one address are not the limit,
/// --clients per room. After --settle seconds of silence (long enough for RoomActors' rooms to hibernate) it reads
/// the server's resident memory and reports memory per connection; then one message in each of the first rooms must
/// reach every client of that room (the sockets and, for RoomActors, the hibernated rooms still work).
/// </summary>
internal static class IdleDensity
{
    private const int WakeRooms = 10;

    public static async Task<(string, object, string?)> RunAsync(ArgMap args)
    {
        var template = args.Get("url-template", "ws://127.0.0.1:8080/rooms/broadcast/{room}");
        var target = args.Int("connections", 10_000);
        var sources = args.Int("sources", 4);
        var perRoom = args.Int("clients", 10);
        var settle = TimeSpan.FromSeconds(args.Seconds("settle", 40));
        var signalR = args.Get("protocol", "ws") == "signalr";
        var pid = args.Pid ?? throw new BenchException("idle needs --server-pid");
        var label = args.Get("label", "idle");

        var rssBefore = ServerProcess.RssKiB(pid)!.Value;
        var runId = Guid.NewGuid().ToString("N")[..8];
        var invokers = Enumerable.Range(1, sources).Select(k => new HttpMessageInvoker(Handler(IPAddress.Parse($"127.0.0.{k}")))).ToArray();
        var sockets = new ClientWebSocket?[target];
        var received = new int[target];
        var closed = 0;
        var failures = 0;
        string? firstError = null;
        using var stop = new CancellationTokenSource();
        var readers = new List<Task>();
        var connect = Stopwatch.StartNew();
        using (var gate = new SemaphoreSlim(64))
        {
            var tasks = new List<Task>();
            for (var i = 0; i < target && Volatile.Read(ref failures) < 50; i++)
            {
                await gate.WaitAsync();
                var index = i;
                tasks.Add(Task.Run(async () =>
                {
                    var socket = new ClientWebSocket();
                    socket.Options.KeepAliveInterval = TimeSpan.Zero; // idle means idle
                    try
                    {
                        var uri = new Uri(template.Replace("{room}", $"idle-{runId}-{index / perRoom}"));
                        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                        await socket.ConnectAsync(uri, invokers[index % sources], timeout.Token);
                        if (signalR)
                        {
                            await SignalRHandshakeAsync(socket, timeout.Token);
                        }

                        sockets[index] = socket;
                        lock (readers)
                        {
                            readers.Add(ReadAsync(socket, () => Interlocked.Increment(ref received[index]), () => Interlocked.Increment(ref closed), stop.Token));
                        }
                    }
                    catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or HttpRequestException or SocketException or BenchException)
                    {
                        // The machine's limit (ports, descriptors, memory) or the server's: counted, and we stop soon.
                        socket.Dispose();
                        if (Interlocked.Increment(ref failures) == 1)
                        {
                            firstError = $"connection {index}: {ex.GetBaseException().Message}";
                        }
                    }
                    finally
                    {
                        gate.Release();
                    }
                }));
            }

            await Task.WhenAll(tasks);
        }

        var connectSeconds = connect.Elapsed.TotalSeconds;
        var connected = sockets.Count(s => s is not null);
        Console.WriteLine($"{label}: {connected} connected in {connectSeconds:F1} s; idle for {settle.TotalSeconds:F0} s");
        await Task.Delay(settle);
        var rssAfter = ServerProcess.RssKiB(pid)!.Value;
        var closedWhileIdle = Volatile.Read(ref closed);

        // Wake the first rooms: one message each must reach every connected client of that room.
        var wakeStart = Stopwatch.StartNew();
        var woken = 0;
        var rooms = Math.Min(WakeRooms, (connected + perRoom - 1) / perRoom);
        for (var room = 0; room < rooms; room++)
        {
            var members = Enumerable.Range(room * perRoom, perRoom).Where(i => i < target && sockets[i] is not null).ToList();
            if (members.Count == 0)
            {
                continue;
            }

            var text = signalR ? "{\"type\":1,\"target\":\"Send\",\"arguments\":[\"wake\"]}\u001e" : "wake";
            await sockets[members[0]]!.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);
            var deadline = Stopwatch.StartNew();
            while (deadline.Elapsed < TimeSpan.FromSeconds(10) && members.Any(i => Volatile.Read(ref received[i]) == 0))
            {
                await Task.Delay(20);
            }

            if (members.All(i => Volatile.Read(ref received[i]) > 0))
            {
                woken++;
            }
        }

        var wakeMs = wakeStart.Elapsed.TotalMilliseconds / Math.Max(1, rooms);
        stop.Cancel();
        foreach (var socket in sockets)
        {
            socket?.Abort();
        }

        await Task.WhenAll(readers);
        var result = new IdleResult(label, target, connected, sources, perRoom, connectSeconds, settle.TotalSeconds,
            rssBefore, rssAfter, connected == 0 ? 0 : (rssAfter - rssBefore) / (double)connected, closedWhileIdle, rooms, woken, wakeMs, firstError);
        return (result.Summary(), result, args.GetValueOrDefault("json"));
    }

    private static SocketsHttpHandler Handler(IPAddress source) => new()
    {
        ConnectCallback = async (context, cancellationToken) =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                socket.Bind(new IPEndPoint(source, 0));
                await socket.ConnectAsync(IPAddress.Parse(context.DnsEndPoint.Host), context.DnsEndPoint.Port, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose(); // policy: never leak the descriptor; the caller counts the failure
                throw;
            }
        },
    };

    private static async Task ReadAsync(ClientWebSocket socket, Action onWake, Action onClosed, CancellationToken stop)
    {
        var buffer = new byte[256];
        try
        {
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer, stop);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    onClosed();
                    return;
                }

                if (buffer.AsSpan(0, result.Count).IndexOf("wake"u8) >= 0)
                {
                    onWake();
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
            // Stopped by the run (or the server went away, which the close count or the wake check shows).
        }
    }

    /// <summary>SignalR's JSON-protocol handshake: request, then wait for the response record.</summary>
    public static async Task SignalRHandshakeAsync(ClientWebSocket socket, CancellationToken cancellationToken)
    {
        await socket.SendAsync("{\"protocol\":\"json\",\"version\":1}\u001e"u8.ToArray(), WebSocketMessageType.Text, true, cancellationToken);
        var buffer = new byte[256];
        var result = await socket.ReceiveAsync(buffer, cancellationToken);
        if (buffer.AsSpan(0, result.Count).IndexOf((byte)0x1E) < 0 || buffer.AsSpan(0, result.Count).IndexOf("error"u8) >= 0)
        {
            throw new BenchException("SignalR handshake failed: " + Encoding.UTF8.GetString(buffer, 0, result.Count));
        }
    }
}

/// <summary>What the idle-density run saw.</summary>
internal sealed record IdleResult(
    string Label, int Requested, int Connected, int Sources, int ClientsPerRoom, double ConnectSeconds, double SettleSeconds,
    long RssBeforeKiB, long RssAfterKiB, double KiBPerConnection, int ClosedWhileIdle, int WakeRooms, int WokenRooms, double WakeMsPerRoom,
    string? FirstError)
{
    public string Summary() =>
        $"{Label}: {Connected}/{Requested} idle connections from {Sources} source addresses, server RSS {RssBeforeKiB / 1024} -> {RssAfterKiB / 1024} MiB, " +
        $"{KiBPerConnection:F1} KiB per connection, {ClosedWhileIdle} closed while idle, {WokenRooms}/{WakeRooms} rooms woke ({WakeMsPerRoom:F0} ms each)" +
        (FirstError is null ? "" : $"; first failure: {FirstError}");
}
