using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using HdrHistogram;
using RoomActors.Bench;

// Load generator: R rooms × C clients, S senders per room, closed or open loop; every recipient records latency.
// Reports deliveries/s, sends/s, p50/p99/max latency, lost messages, rooms whose clients saw different orders, and the
// server's CPU time per delivery and resident memory (from /proc for --server-pids, summed over the processes).
// --url-template may list several entry points (comma-separated): the clients of every room are dealt out over them in
// turn, so each room spans them all. Other scenarios: idle (IdleDensity), cold (ColdActivation), conference (the MUD's
// attendees, Conference), docs-editors and docs-sync (Yjs documents over the y-websocket protocol, DocsEditors and
// DocsSync), scale (several of these generators at once, Scale); `venue IN K OUT` writes a venue K times as large.
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
        ["scale", .. var rest] => await Scale.RunAsync(ArgMap.Parse(rest)),
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
        string[] UrlTemplates, int Rooms, int Clients, int Senders, bool ClosedLoop, double Rate, int Payload,
        TimeSpan Warmup, TimeSpan Duration, ServerProcesses Servers, string? Json, string Label, bool SignalR, bool V1 = false)
    {
        /// <summary>Clients bind to 127.0.0.1 … 127.0.0.N in turn (each address has its own ephemeral ports); 0: the system's choice.</summary>
        public int Sources { get; init; }

        /// <summary>Each client socket's first read buffer (it grows for larger frames).</summary>
        public int ReadBuffer { get; init; } = 1 << 16;

        /// <summary>
        /// The pause between the last connect and the first send, for the joins to complete: a SignalR hub joins its group
        /// after the handshake, and with a Redis backplane that is a subscription in Redis.
        /// </summary>
        public TimeSpan Settle { get; init; } = TimeSpan.FromSeconds(1);

        /// <summary>A SignalR client is connected once the hub sent it <c>joined</c> (the baseline with its Redis backplane).</summary>
        public bool SignalRJoined { get; init; }

        /// <summary>The connects start evenly spread over this time; zero: as fast as 64 at a time go.</summary>
        public TimeSpan Ramp { get; init; }

        /// <summary>
        /// Failed connects are counted and the run goes on with the clients that connected (no more connects after 50
        /// failures); without it the first failure stops the run.
        /// </summary>
        public bool KeepGoing { get; init; }

        /// <summary>
        /// One of a scale run's generators (<see cref="Scale"/>): once connected it prints a <c>ready</c> line and waits
        /// for <c>go</c> on its input, and its result carries the latency histogram's values for merging.
        /// </summary>
        public bool Part { get; init; }

        public static BenchOptions Parse(string[] args)
        {
            var map = ArgMap.Parse(args);
            string Get(string key, string fallback) => map.Get(key, fallback);
            var options = new BenchOptions(
                Get("url-template", "ws://127.0.0.1:8080/rooms/broadcast/{room}").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                int.Parse(Get("rooms", "10")), int.Parse(Get("clients", "10")), int.Parse(Get("senders", "2")),
                Get("mode", "closed") == "closed", double.Parse(Get("rate", "10"), System.Globalization.CultureInfo.InvariantCulture),
                int.Parse(Get("payload", "64")),
                TimeSpan.FromSeconds(double.Parse(Get("warmup", "3"), System.Globalization.CultureInfo.InvariantCulture)),
                TimeSpan.FromSeconds(double.Parse(Get("duration", "10"), System.Globalization.CultureInfo.InvariantCulture)),
                ServerProcesses.Parse(map),
                map.GetValueOrDefault("json"), Get("label", "run"), Get("protocol", "ws") == "signalr", Get("protocol", "ws") == "v1")
            {
                Sources = map.Int("sources", 0),
                ReadBuffer = map.Int("read-buffer", 1 << 16),
                Ramp = TimeSpan.FromSeconds(map.Seconds("ramp", 0)),
                Settle = TimeSpan.FromSeconds(map.Seconds("settle", 1)),
                SignalRJoined = Get("signalr-joined", "false") == "true",
                KeepGoing = Get("keep-going", "false") == "true",
                Part = Get("part", "false") == "true",
            };
            if (options.Senders > options.Clients || options.Rooms < 1 || options.Clients < 1 || options.UrlTemplates.Length == 0 || options.ReadBuffer < 256)
            {
                throw new BenchException("need rooms >= 1, clients >= 1, senders <= clients, a --url-template and --read-buffer >= 256");
            }

            return options;
        }
    }

    internal sealed record BenchResult(
        string Label, int Rooms, int Clients, int Senders, string Mode, double Seconds,
        long Sends, long Deliveries, double SendsPerSecond, double DeliveriesPerSecond,
        double P50Ms, double P99Ms, double MaxMs, long Lost, int OrderViolations,
        double? ServerCpuMicrosPerDelivery, long? ServerRssKiB, double? ServerCpuPercent = null, double? GeneratorCpuPercent = null,
        List<ServerFigure>? Servers = null, int Connected = 0, double ConnectSeconds = 0, int ConnectFailures = 0, string? FirstFailure = null,
        double? FirstFailureSeconds = null, int ClosedDuringRun = 0, string? FirstClose = null, List<long[]>? LatencyValues = null,
        long Duplicates = 0)
    {
        public string Summary() =>
            $"{Label}: {DeliveriesPerSecond:F0} deliveries/s, {SendsPerSecond:F0} sends/s, p50 {P50Ms:F2} ms, p99 {P99Ms:F2} ms, max {MaxMs:F1} ms, " +
            $"lost {Lost}, duplicates {Duplicates}, order violations {OrderViolations}, server CPU {ServerCpuMicrosPerDelivery?.ToString("F2") ?? "?"} µs/delivery, RSS {ServerRssKiB?.ToString() ?? "?"} KiB, " +
            $"CPU server {ServerCpuPercent?.ToString("F0") ?? "?"}% / generator {GeneratorCpuPercent?.ToString("F0") ?? "?"}% of a core" +
            (Servers is { Count: > 1 } ? $" ({string.Join(", ", Servers.Select(s => $"{s.Name} {s.CpuPercent:F0}% {s.RssKiB / 1024} MiB{(s.Exited ? " EXITED" : "")}"))})" : "") +
            (ConnectFailures > 0 ? $"; {ConnectFailures} connects failed, the first after {FirstFailureSeconds:F1} s: {FirstFailure}" : "") +
            (ClosedDuringRun > 0 ? $"; {ClosedDuringRun} connections closed by the server, e.g. {FirstClose}" : "");
    }

    /// <summary>One client socket: reads continuously, checks order and gaps, records latency.</summary>
    internal sealed class BenchClient(LeanWebSocket socket, int room, int index)
    {
        public LeanWebSocket Socket { get; } = socket;
        public int Room { get; } = room;
        public int Index { get; } = index;
        public bool Closed; // by the server (or the connection ended) before the run stopped reading
        public Task Reader = Task.CompletedTask;
        public long Received;
        public long ReceivedInWindow;
        public long Lost;
        public long Repeats; // an earlier message of a sender again (a duplicate delivery)
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

            Closed = !stop.IsCancellationRequested;
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
                run.Latency.RecordValue(Math.Max(1, (now - sent) * 1_000_000 / Stopwatch.Frequency));
            }

            if (seq > NextSeq[sender])
            {
                Lost += seq - NextSeq[sender];
            }
            else if (seq < NextSeq[sender])
            {
                Repeats++;
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
        private const int FailuresBeforeStopping = 50;
        private readonly MeasuredWindow _window = new();
        // One latency histogram per reading thread, not per client (about 140 KB each: tens of thousands of clients
        // would need gigabytes); merged at the end, after the readers stopped.
        private readonly ThreadLocal<LongHistogram> _latency = new(() => new LongHistogram(1, 60_000_000, 3), trackAllValues: true);
        private long _sends;
        private long _sendsInWindow;
        private int _failures;
        private string? _firstFailure;
        private double? _firstFailureSeconds;

        public bool InWindow(long timestamp) => _window.Contains(timestamp);

        /// <summary>The latency histogram of the calling (reading) thread.</summary>
        public LongHistogram Latency => _latency.Value!;

        public async Task<BenchResult> ExecuteAsync()
        {
            var runId = Guid.NewGuid().ToString("N")[..8];
            var connecting = Stopwatch.StartNew();
            using var stop = new CancellationTokenSource();
            var clients = await ConnectAllAsync(runId, connecting, stop.Token);
            var connectSeconds = connecting.Elapsed.TotalSeconds;
            if (options.Part)
            {
                // A scale run's generator: say how the connects went, then wait until every generator is connected.
                Console.WriteLine("ready " + JsonSerializer.Serialize(new PartReady(clients.Count, connectSeconds, _failures, _firstFailure, _firstFailureSeconds, clients.Count(c => c.Closed))));
                if (await Console.In.ReadLineAsync() != "go")
                {
                    throw new BenchException("the scale run stopped before the measurement");
                }
            }

            var readers = clients.Select(c => c.Reader).ToList();
            using var stopSending = new CancellationTokenSource();
            var senders = clients.Where(c => c.Index < options.Senders).Select(c => Task.Run(() => SendLoopAsync(c, stopSending.Token))).ToList();

            var figures = await _window.RunAsync(options.Servers, options.Warmup, options.Duration, stopSending, senders, "senders");

            // Let what is in flight arrive: while messages still come, up to 5 s after the last one (at most 30 s in all),
            // so a server that is slow is not counted as losing; then stop reading.
            var expectedPerClient = clients.Where(c => c.Index < options.Senders).GroupBy(c => c.Room).ToDictionary(g => g.Key, g => g.Sum(c => c.NextSeqSent));
            var drain = Stopwatch.StartNew();
            var progress = Stopwatch.StartNew();
            var received = clients.Sum(c => Volatile.Read(ref c.Received));
            while (progress.Elapsed < TimeSpan.FromSeconds(5) && drain.Elapsed < TimeSpan.FromSeconds(30)
                   && clients.Any(c => !c.Closed && Volatile.Read(ref c.Received) < expectedPerClient.GetValueOrDefault(c.Room)))
            {
                await Task.Delay(50);
                if (clients.Sum(c => Volatile.Read(ref c.Received)) is var now && now != received)
                {
                    (received, progress) = (now, Stopwatch.StartNew());
                }
            }

            stop.Cancel();
            await Task.WhenAll(readers);

            var histogram = new LongHistogram(1, 60_000_000, 3);
            foreach (var latency in _latency.Values)
            {
                histogram.Add(latency);
            }

            // Lost: gaps in what a client got, and what its room's senders sent that it never got (a sender that did
            // not connect sent nothing).
            var byKey = clients.ToDictionary(c => (c.Room, c.Index));
            long lost = 0;
            foreach (var client in clients)
            {
                lost += client.Lost;
                for (var s = 0; s < options.Senders; s++)
                {
                    var sent = byKey.TryGetValue((client.Room, s), out var sender) ? sender.NextSeqSent : 0;
                    lost += Math.Max(0, sent - client.NextSeq[s]);
                }
            }

            // A client the server closed is counted as closed (and what it missed as lost), not as a different order.
            var differing = clients.Where(c => !c.Closed).GroupBy(c => c.Room).Where(room => room.Select(c => (c.Received, c.OrderHash)).Distinct().Count() > 1).ToList();
            var violations = differing.Count;
            var repeats = clients.Sum(c => c.Repeats);

            // What differed, for the first few rooms: each client's entry point, count, repeats and next expected number;
            // then the first few rooms whose clients got repeats but agree (a message the room itself sent twice).
            foreach (var room in differing.Take(3))
            {
                Console.WriteLine($"{options.Label}: room {room.Key} (bench-{runId}-{room.Key}) differs: " + string.Join("; ", room.Select(c =>
                    $"client {c.Index} (entry {(room.Key * options.Clients + c.Index) % options.UrlTemplates.Length}) received {c.Received}, repeats {c.Repeats}, next {string.Join('/', c.NextSeq)}")));
            }

            foreach (var room in clients.Where(c => !c.Closed && c.Repeats > 0).GroupBy(c => c.Room).Where(r => !differing.Any(d => d.Key == r.Key)).Take(3))
            {
                Console.WriteLine($"{options.Label}: room {room.Key} (bench-{runId}-{room.Key}): {room.Count()} clients got {room.Sum(c => c.Repeats)} repeats in all, the same history");
            }

            var closed = clients.Where(c => c.Closed).ToList();
            var seconds = options.Duration.TotalSeconds;
            var deliveries = clients.Sum(c => c.ReceivedInWindow);
            foreach (var client in clients)
            {
                client.Socket.Abort();
            }

            var cpuPercent = figures.ServerCpuPercent;
            double? cpuPerDelivery = cpuPercent is { } p && deliveries > 0 ? p / 100 * seconds * 1_000_000 / deliveries : null;
            return new BenchResult(options.Label, options.Rooms, options.Clients, options.Senders, options.ClosedLoop ? "closed" : $"open {options.Rate}/s",
                seconds, _sendsInWindow, deliveries, _sendsInWindow / seconds, deliveries / seconds,
                Percentile(histogram, 50), Percentile(histogram, 99), Percentile(histogram, 100),
                lost, violations, cpuPerDelivery, figures.ServerRssKiB,
                // Near 100% for the generator means it, not the server, set the pace of a closed-loop run.
                cpuPercent, figures.GeneratorCpuPercent,
                figures.Servers.Count > 0 ? figures.Servers : null, clients.Count, connectSeconds, _failures, _firstFailure, _firstFailureSeconds,
                closed.Count, closed.Select(c => c.Socket.CloseCode is { } code ? $"{code} {c.Socket.CloseReason}" : "connection ended without a close frame").FirstOrDefault(),
                options.Part ? Scale.Values(histogram) : null, repeats);
        }

        /// <summary>A percentile in milliseconds (100: the maximum); NaN when no message sent in the window arrived.</summary>
        private static double Percentile(LongHistogram histogram, double percentile) =>
            histogram.TotalCount == 0 ? double.NaN : (percentile >= 100 ? histogram.GetMaxValue() : histogram.GetValueAtPercentile(percentile)) / 1000.0;

        /// <summary>
        /// Connects every client and starts its reader at once (it answers the gateway's pings: a socket left unread
        /// through a long ramp would be dropped after the keep-alive timeout).
        /// </summary>
        private async Task<List<BenchClient>> ConnectAllAsync(string runId, Stopwatch clock, CancellationToken stop)
        {
            var clients = new List<BenchClient>();
            using var gate = new SemaphoreSlim(64);
            var tasks = new List<Task<BenchClient?>>();
            var total = options.Rooms * options.Clients;
            for (var r = 0; r < options.Rooms; r++)
            {
                for (var c = 0; c < options.Clients; c++)
                {
                    var (room, index) = (r, c);
                    var number = room * options.Clients + index;
                    tasks.Add(Task.Run(async () =>
                    {
                        var due = options.Ramp * number / total - clock.Elapsed;
                        if (due > TimeSpan.Zero)
                        {
                            await Task.Delay(due);
                        }

                        await gate.WaitAsync();
                        try
                        {
                            if (Volatile.Read(ref _failures) >= FailuresBeforeStopping && options.KeepGoing)
                            {
                                return null; // where it stops: the connects that failed say why
                            }

                            // Client i of room r goes to entry point (r × clients + i) mod N: with several, every room of at
                            // least N clients spans them all, and each gets the same share of the clients.
                            var template = options.UrlTemplates[number % options.UrlTemplates.Length];
                            var uri = new Uri(template.Replace("{room}", $"bench-{runId}-{room}"));
                            var source = options.Sources > 0 ? IPAddress.Parse($"127.0.0.{number % options.Sources + 1}") : null;
                            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                            var socket = await LeanWebSocket.ConnectAsync(uri, timeout.Token, options.V1 ? "roomactors.v1" : null, source, options.ReadBuffer);
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

                                // The SignalR baseline with its Redis backplane says when the client is in its group.
                                while (options.SignalRJoined && answer.AsSpan().IndexOf("\"target\":\"joined\""u8) < 0)
                                {
                                    answer = await socket.ReceiveMessageAsync(timeout.Token);
                                }
                            }

                            var client = new BenchClient(socket, room, index) { NextSeq = new long[options.Senders] };
                            client.Reader = Task.Run(() => client.ReadAsync(this, options.SignalR, options.V1, stop));
                            return client;
                        }
                        catch (Exception ex)
                        {
                            var failure = $"could not connect client {index} of room {room}: {ex.Message}";
                            if (!options.KeepGoing)
                            {
                                throw new BenchException(failure);
                            }

                            if (Interlocked.Increment(ref _failures) == 1)
                            {
                                (_firstFailure, _firstFailureSeconds) = (failure, clock.Elapsed.TotalSeconds);
                            }

                            return null;
                        }
                        finally
                        {
                            gate.Release();
                        }
                    }));
                }
            }

            clients.AddRange((await Task.WhenAll(tasks)).OfType<BenchClient>());

            // Every client must be a member before anyone sends: let the joins settle.
            await Task.Delay(options.Settle);
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
            catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or SocketException or ObjectDisposedException)
            {
                // Stopped, or the server closed the socket (the reader counts it as closed).
            }
        }
    }
}
