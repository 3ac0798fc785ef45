using System.Diagnostics;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using HdrHistogram;
using RoomActors.Bench;

// Load generator: R rooms × C clients, S senders per room, closed or open loop; every recipient records latency.
// Reports deliveries/s, sends/s, p50/p99/max latency, lost messages, rooms whose clients saw different orders, and the
// server's CPU time per delivery and resident memory (from /proc for --server-pid). Other scenarios: idle (IdleDensity),
// cold (ColdActivation), conference (the MUD's attendees, Conference), docs-editors and docs-sync (Yjs documents over the
// y-websocket protocol, DocsEditors and DocsSync); `venue IN K OUT` writes a venue K times as large.
if (args is ["report", var directory, var output, .. var notes])
{
    await Report.WriteAsync(directory, output, string.Join(' ', notes));
    return 0;
}

try
{
    var (summary, result, json) = args switch
    {
        ["idle", .. var rest] => await IdleDensity.RunAsync(ArgMap.Parse(rest)),
        ["cold", .. var rest] => await ColdActivation.RunAsync(ArgMap.Parse(rest)),
        ["conference", .. var rest] => await Conference.RunAsync(ArgMap.Parse(rest)),
        ["docs-editors", .. var rest] => await DocsEditors.RunAsync(ArgMap.Parse(rest)),
        ["docs-sync", .. var rest] => await DocsSync.RunAsync(ArgMap.Parse(rest)),
        ["venue", var input, var copies, var scaled] => VenueScaler.Run(input, int.Parse(copies, System.Globalization.CultureInfo.InvariantCulture), scaled),
        _ => await Traffic(BenchOptions.Parse(args)),
    };
    Console.WriteLine(summary);
    if (json is not null)
    {
        await File.WriteAllTextAsync(json, JsonSerializer.Serialize(result, result.GetType(), new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
    }

    return 0;
}
catch (BenchException ex)
{
    Console.Error.WriteLine("bench: " + ex.Message);
    return 2;
}

static async Task<(string, object, string?)> Traffic(BenchOptions options)
{
    var result = await new BenchRun(options).ExecuteAsync();
    return (result.Summary(), result, options.Json);
}

namespace RoomActors.Bench
{
    internal sealed class BenchException(string message) : Exception(message);

    internal sealed record BenchOptions(
        string UrlTemplate, int Rooms, int Clients, int Senders, bool ClosedLoop, double Rate, int Payload,
        TimeSpan Warmup, TimeSpan Duration, int? ServerPid, string? Json, string Label, bool SignalR, bool V1 = false)
    {
        public static BenchOptions Parse(string[] args)
        {
            var map = ArgMap.Parse(args);
            string Get(string key, string fallback) => map.Get(key, fallback);
            var options = new BenchOptions(
                Get("url-template", "ws://127.0.0.1:8080/rooms/broadcast/{room}"),
                int.Parse(Get("rooms", "10")), int.Parse(Get("clients", "10")), int.Parse(Get("senders", "2")),
                Get("mode", "closed") == "closed", double.Parse(Get("rate", "10"), System.Globalization.CultureInfo.InvariantCulture),
                int.Parse(Get("payload", "64")),
                TimeSpan.FromSeconds(double.Parse(Get("warmup", "3"), System.Globalization.CultureInfo.InvariantCulture)),
                TimeSpan.FromSeconds(double.Parse(Get("duration", "10"), System.Globalization.CultureInfo.InvariantCulture)),
                map.Pid,
                map.GetValueOrDefault("json"), Get("label", "run"), Get("protocol", "ws") == "signalr", Get("protocol", "ws") == "v1");
            if (options.Senders > options.Clients || options.Rooms < 1 || options.Clients < 1)
            {
                throw new BenchException("need rooms >= 1, clients >= 1 and senders <= clients");
            }

            return options;
        }
    }

    internal sealed record BenchResult(
        string Label, int Rooms, int Clients, int Senders, string Mode, double Seconds,
        long Sends, long Deliveries, double SendsPerSecond, double DeliveriesPerSecond,
        double P50Ms, double P99Ms, double MaxMs, long Lost, int OrderViolations,
        double? ServerCpuMicrosPerDelivery, long? ServerRssKiB, double? ServerCpuPercent = null, double? GeneratorCpuPercent = null)
    {
        public string Summary() =>
            $"{Label}: {DeliveriesPerSecond:F0} deliveries/s, {SendsPerSecond:F0} sends/s, p50 {P50Ms:F2} ms, p99 {P99Ms:F2} ms, max {MaxMs:F1} ms, " +
            $"lost {Lost}, order violations {OrderViolations}, server CPU {ServerCpuMicrosPerDelivery?.ToString("F2") ?? "?"} µs/delivery, RSS {ServerRssKiB?.ToString() ?? "?"} KiB, " +
            $"CPU server {ServerCpuPercent?.ToString("F0") ?? "?"}% / generator {GeneratorCpuPercent?.ToString("F0") ?? "?"}% of a core";
    }

    /// <summary>One client socket: reads continuously, checks order and gaps, records latency.</summary>
    internal sealed class BenchClient(LeanWebSocket socket, int room, int index)
    {
        public LeanWebSocket Socket { get; } = socket;
        public int Room { get; } = room;
        public int Index { get; } = index;
        public LongHistogram Latency { get; } = new(1, 60_000_000, 3);
        public long Received;
        public long ReceivedInWindow;
        public long Lost;
        public ulong OrderHash = 14695981039346656037;
        public long[] NextSeq = [];
        public long NextSeqSent;
        public Action<int, long>? OnOwnEcho;

        public async Task ReadAsync(BenchRun run, bool signalR, bool v1, CancellationToken stop)
        {
            try
            {
                await Socket.RunAsync(payload =>
                {
                    if (v1)
                    {
                        // roomactors.v1: "m SEQ\n" then the payload; other frames (welcome, acks) are not room messages.
                        var header = payload.IndexOf((byte)'\n');
                        if (payload.Length > 1 && payload[0] == (byte)'m' && payload[1] == (byte)' ' && header > 0)
                        {
                            OnMessage(run, payload[(header + 1)..]);
                        }

                        return;
                    }

                    if (!signalR)
                    {
                        OnMessage(run, payload);
                        return;
                    }

                    // SignalR JSON protocol: records end with 0x1E, a message may hold several.
                    int end;
                    while ((end = payload.IndexOf((byte)0x1E)) >= 0)
                    {
                        var record = payload[..end];
                        var arguments = record.IndexOf("\"arguments\":[\""u8);
                        if (arguments >= 0)
                        {
                            OnMessage(run, record[(arguments + 14)..]);
                        }

                        payload = payload[(end + 1)..];
                    }
                }, stop);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // Stopped, or the server closed the socket: the counts say what arrived.
            }
        }

        private void OnMessage(BenchRun run, ReadOnlySpan<byte> message)
        {
            var now = Stopwatch.GetTimestamp();
            var (sender, seq, sent) = Parse(message);
            Received++;
            if (run.InWindow(now))
            {
                ReceivedInWindow++;
            }

            if (run.InWindow(sent))
            {
                Latency.RecordValue(Math.Max(1, (now - sent) * 1_000_000 / Stopwatch.Frequency));
            }

            if (seq > NextSeq[sender])
            {
                Lost += seq - NextSeq[sender];
            }

            NextSeq[sender] = seq + 1;
            OrderHash = (OrderHash ^ (ulong)(sender * 1_000_003L + seq)) * 1099511628211;
            if (sender == Index)
            {
                OnOwnEcho?.Invoke(sender, seq);
            }
        }

        private static (int Sender, long Seq, long Sent) Parse(ReadOnlySpan<byte> message)
        {
            Span<long> parts = stackalloc long[3];
            var part = 0;
            long value = 0;
            foreach (var b in message)
            {
                if (b == (byte)':')
                {
                    parts[part++] = value;
                    value = 0;
                    if (part == 3)
                    {
                        break;
                    }
                }
                else
                {
                    value = value * 10 + (b - '0');
                }
            }

            return ((int)parts[0], parts[1], parts[2]);
        }
    }

    internal sealed class BenchRun(BenchOptions options)
    {
        private readonly MeasuredWindow _window = new();
        private long _sends;
        private long _sendsInWindow;

        public bool InWindow(long timestamp) => _window.Contains(timestamp);

        public async Task<BenchResult> ExecuteAsync()
        {
            var runId = Guid.NewGuid().ToString("N")[..8];
            var clients = await ConnectAllAsync(runId);
            using var stop = new CancellationTokenSource();
            var readers = clients.Select(c => Task.Run(() => c.ReadAsync(this, options.SignalR, options.V1, stop.Token))).ToList();
            using var stopSending = new CancellationTokenSource();
            var senders = clients.Where(c => c.Index < options.Senders).Select(c => Task.Run(() => SendLoopAsync(c, stopSending.Token))).ToList();

            var (cpuStart, cpuEnd, generatorStart, generatorEnd, rss) = await _window.RunAsync(options.ServerPid, options.Warmup, options.Duration, stopSending, senders, "senders");

            // Let what is in flight arrive (bounded), then stop reading.
            var expectedPerClient = clients.Where(c => c.Index < options.Senders).GroupBy(c => c.Room).ToDictionary(g => g.Key, g => g.Sum(c => c.NextSeqSent));
            var drain = Stopwatch.StartNew();
            while (drain.Elapsed < TimeSpan.FromSeconds(5) && clients.Any(c => c.Received < expectedPerClient.GetValueOrDefault(c.Room)))
            {
                await Task.Delay(50);
            }

            stop.Cancel();
            await Task.WhenAll(readers);

            var histogram = new LongHistogram(1, 60_000_000, 3);
            foreach (var client in clients)
            {
                histogram.Add(client.Latency);
            }

            long lost = 0;
            foreach (var client in clients)
            {
                lost += client.Lost;
                for (var s = 0; s < options.Senders; s++)
                {
                    var sent = clients.First(c => c.Room == client.Room && c.Index == s).NextSeqSent;
                    lost += Math.Max(0, sent - client.NextSeq[s]);
                }
            }

            var violations = clients.GroupBy(c => c.Room).Count(room => room.Select(c => (c.Received, c.OrderHash)).Distinct().Count() > 1);
            var seconds = options.Duration.TotalSeconds;
            var deliveries = clients.Sum(c => c.ReceivedInWindow);
            foreach (var client in clients)
            {
                client.Socket.Abort();
            }

            double? cpuPerDelivery = cpuStart is { } a && cpuEnd is { } b && deliveries > 0
                ? (b - a) / (double)ServerProcess.ClockTicksPerSecond * 1_000_000 / deliveries
                : null;
            return new BenchResult(options.Label, options.Rooms, options.Clients, options.Senders, options.ClosedLoop ? "closed" : $"open {options.Rate}/s",
                seconds, _sendsInWindow, deliveries, _sendsInWindow / seconds, deliveries / seconds,
                Ms(histogram.GetValueAtPercentile(50)), Ms(histogram.GetValueAtPercentile(99)), Ms(histogram.GetMaxValue()),
                lost, violations, cpuPerDelivery, rss,
                // Near 100% for the generator means it, not the server, set the pace of a closed-loop run.
                cpuStart is { } c && cpuEnd is { } d ? (d - c) / (double)ServerProcess.ClockTicksPerSecond / seconds * 100 : null,
                (generatorEnd - generatorStart).TotalSeconds / seconds * 100);
        }

        private static double Ms(long micros) => micros / 1000.0;

        private async Task<List<BenchClient>> ConnectAllAsync(string runId)
        {
            var clients = new List<BenchClient>();
            using var gate = new SemaphoreSlim(64);
            var tasks = new List<Task<BenchClient>>();
            for (var r = 0; r < options.Rooms; r++)
            {
                for (var c = 0; c < options.Clients; c++)
                {
                    var (room, index) = (r, c);
                    tasks.Add(Task.Run(async () =>
                    {
                        await gate.WaitAsync();
                        try
                        {
                            var uri = new Uri(options.UrlTemplate.Replace("{room}", $"bench-{runId}-{room}"));
                            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                            var socket = await LeanWebSocket.ConnectAsync(uri, timeout.Token, options.V1 ? "roomactors.v1" : null);
                            if (options.V1)
                            {
                                var welcome = await socket.ReceiveMessageAsync(timeout.Token);
                                if (!welcome.AsSpan().StartsWith("welcome "u8))
                                {
                                    throw new BenchException("roomactors.v1: the first frame was not a welcome: " + Encoding.UTF8.GetString(welcome));
                                }
                            }

                            if (options.SignalR)
                            {
                                await socket.SendTextAsync("{\"protocol\":\"json\",\"version\":1}\u001e"u8);
                                var answer = await socket.ReceiveMessageAsync(timeout.Token);
                                if (answer.AsSpan().IndexOf((byte)0x1E) < 0 || answer.AsSpan().IndexOf("error"u8) >= 0)
                                {
                                    throw new BenchException("SignalR handshake failed: " + Encoding.UTF8.GetString(answer));
                                }
                            }

                            return new BenchClient(socket, room, index) { NextSeq = new long[options.Senders] };
                        }
                        catch (Exception ex)
                        {
                            throw new BenchException($"could not connect client {index} of room {room}: {ex.Message}");
                        }
                        finally
                        {
                            gate.Release();
                        }
                    }));
                }
            }

            clients.AddRange(await Task.WhenAll(tasks));

            // Every client must be a member before anyone sends: let the joins settle.
            await Task.Delay(TimeSpan.FromSeconds(1));
            return clients;
        }

        private async Task SendLoopAsync(BenchClient client, CancellationToken stop)
        {
            var padding = Math.Max(0, options.Payload - 32);
            var pad = new string('x', padding);
            var echo = new SemaphoreSlim(0);
            client.OnOwnEcho = (_, _) => echo.Release();
            var interval = options.ClosedLoop ? TimeSpan.Zero : TimeSpan.FromSeconds(1 / options.Rate);
            var next = Stopwatch.GetTimestamp();
            try
            {
                if (!options.ClosedLoop)
                {
                    // Each sender starts at its own point of the interval: senders that all fire at the same instant
                    // would send in bursts, and the latency measured would be the bursts' queueing, not the server's.
                    var phase = TimeSpan.FromSeconds(interval.TotalSeconds * Random.Shared.NextDouble());
                    next += (long)(phase.TotalSeconds * Stopwatch.Frequency);
                    await Task.Delay(phase, stop);
                }

                while (!stop.IsCancellationRequested)
                {
                    var now = Stopwatch.GetTimestamp();
                    var text = options.SignalR
                        ? $"{{\"type\":1,\"target\":\"Send\",\"arguments\":[\"{client.Index}:{client.NextSeqSent}:{now}:{pad}\"]}}\u001e"
                        : options.V1 ? $"m\n{client.Index}:{client.NextSeqSent}:{now}:{pad}"
                        : $"{client.Index}:{client.NextSeqSent}:{now}:{pad}";
                    // Not cancellable (a send cut in half would show up as that client's lost messages): the loop checks
                    // the stop token between sends.
                    await client.Socket.SendTextAsync(Encoding.UTF8.GetBytes(text));
                    client.NextSeqSent++;
                    Interlocked.Increment(ref _sends);
                    if (InWindow(now))
                    {
                        Interlocked.Increment(ref _sendsInWindow);
                    }

                    if (options.ClosedLoop)
                    {
                        // The next message when the previous one came back (bounded: a lost echo does not hang the run).
                        await echo.WaitAsync(TimeSpan.FromSeconds(5), stop);
                    }
                    else
                    {
                        next += (long)(interval.TotalSeconds * Stopwatch.Frequency);
                        var wait = TimeSpan.FromSeconds((next - Stopwatch.GetTimestamp()) / (double)Stopwatch.Frequency);
                        if (wait > TimeSpan.Zero)
                        {
                            await Task.Delay(wait, stop);
                        }
                    }
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
            {
                // Stopped.
            }
        }
    }
}
