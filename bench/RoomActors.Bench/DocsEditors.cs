using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Net.WebSockets;
using HdrHistogram;

namespace RoomActors.Bench;

/// <summary>
/// The docs-editors scenario: E editors on one Yjs document (y-websocket protocol), each sending its precomputed updates
/// (bench/yjs/updates.mjs) in order. Closed loop by default: an editor has at most W updates that have not yet reached
/// every other editor, so the server sets the pace whatever it does with a sender's own update (y-websocket's server
/// echoes it, a server need not). Every editor recognises each update it receives by the client and clock of its first
/// change (a lookup built from the precomputed set), records the latency from its send, and checks that it gets every
/// other editor's updates once each and in each sender's order.
/// </summary>
internal static class DocsEditors
{
    public static async Task<(string, object, string?)> RunAsync(ArgMap args)
    {
        var options = DocsEditorsOptions.Parse(args);
        var result = await new DocsEditorsRun(options).ExecuteAsync();
        return (result.Summary(), result, args.GetValueOrDefault("json"));
    }
}

internal sealed record DocsEditorsOptions(
    string UrlTemplate, string Updates, int Editors, int Window, bool ClosedLoop, double Rate,
    TimeSpan Warmup, TimeSpan Duration, ServerProcesses Servers, string Label)
{
    public static DocsEditorsOptions Parse(ArgMap map)
    {
        var mode = map.Get("mode", "closed");
        var options = new DocsEditorsOptions(
            map.Get("url-template", "ws://127.0.0.1:8080/rooms/doc/{room}"),
            map.GetValueOrDefault("updates") ?? throw new BenchException("docs-editors needs --updates DIR (written by bench/yjs/updates.mjs)"),
            map.Int("editors", 50), map.Int("window", 4), mode == "closed", map.Seconds("rate", 10),
            TimeSpan.FromSeconds(map.Seconds("warmup", 10)), TimeSpan.FromSeconds(map.Seconds("duration", 10)), ServerProcesses.Parse(map),
            map.Get("label", "docs-editors"));
        if (options.Editors < 2 || options.Window < 1 || mode is not ("closed" or "open") || options.Rate <= 0)
        {
            throw new BenchException("docs-editors needs --editors >= 2, --window >= 1, --mode closed|open and --rate > 0");
        }

        return options;
    }
}

/// <summary>What the docs-editors run saw; rates per second of the measured window, latencies in milliseconds.</summary>
internal sealed record DocsEditorsResult(
    string Label, int Editors, string Mode, int Window, double Seconds,
    long UpdatesSent, long UpdatesCompleted, double UpdatesSentPerSecond, double UpdatesPerSecond,
    long Deliveries, double DeliveriesPerSecond, double P50Ms, double P99Ms, double MaxMs,
    long Lost, long Duplicates, long OutOfOrder, long Unrecognised, long Echoes, long Stalls, int EditorsExhausted,
    double? ServerCpuPercent, double? ServerCpuMicrosPerUpdate, long? ServerRssKiB, double GeneratorCpuPercent,
    int EditorsClosed = 0, string? FirstClose = null, double LongestPauseMs = 0)
{
    public string Summary() =>
        string.Create(CultureInfo.InvariantCulture,
            $"{Label}: {Editors} editors ({Mode}), {UpdatesPerSecond:F0} updates/s reached every other editor ({UpdatesSentPerSecond:F0}/s sent), {DeliveriesPerSecond:F0} deliveries/s, " +
            $"p50 {P50Ms:F2} ms, p99 {P99Ms:F2} ms, max {MaxMs:F1} ms; lost {Lost}, duplicates {Duplicates}, out of order {OutOfOrder}, not recognised {Unrecognised}, " +
            $"echoes {Echoes}, stalls {Stalls}, editors out of updates {EditorsExhausted}, editors the server closed {EditorsClosed}{(FirstClose is null ? "" : $" (first: {FirstClose})")}, longest time without an update reaching everyone {LongestPauseMs:F0} ms; server CPU {ServerCpuPercent?.ToString("F0", CultureInfo.InvariantCulture) ?? "?"}% " +
            $"({ServerCpuMicrosPerUpdate?.ToString("F1", CultureInfo.InvariantCulture) ?? "?"} µs/update), RSS {(ServerRssKiB / 1024)?.ToString(CultureInfo.InvariantCulture) ?? "?"} MiB, generator CPU {GeneratorCpuPercent:F0}%");
}

internal sealed class DocsEditorsRun(DocsEditorsOptions options)
{
    private EditorUpdates _updates = null!;
    private Editor[] _editors = [];
    private readonly Dictionary<ulong, int> _editorOfClient = [];
    private readonly MeasuredWindow _window = new();
    private long _sends, _sendsInWindow, _completed, _completedInWindow, _stalls;
    private readonly Lock _pauseLock = new();
    private long _lastCompletion, _longestPause; // Stopwatch ticks, within the window

    public bool InWindow(long timestamp) => _window.Contains(timestamp);

    public async Task<DocsEditorsResult> ExecuteAsync()
    {
        _updates = EditorUpdates.Load(options.Updates, options.Editors);
        for (var e = 0; e < options.Editors; e++)
        {
            _editorOfClient[_updates.Clients[e]] = e;
        }

        _editors = Enumerable.Range(0, options.Editors).Select(e => new Editor(this, e, _updates.Updates[e], options.Editors, options.Window)).ToArray();
        var document = $"bench-docs-{Guid.NewGuid():N}"[..20];
        foreach (var editor in _editors)
        {
            editor.Socket = await JoinAsync(document, editor.Index);
        }

        using var stopReading = new CancellationTokenSource();
        var readers = _editors.Select(e => Task.Run(() => e.ReadAsync(stopReading.Token))).ToList();
        using var stopSending = new CancellationTokenSource();
        var senders = _editors.Select(e => Task.Run(() => SendLoopAsync(e, stopSending.Token))).ToList();

        var figures = await _window.RunAsync(options.Servers, options.Warmup, options.Duration, stopSending, senders, "editors");

        // Let what is in flight arrive (bounded), then stop reading.
        var sent = _editors.Sum(e => (long)Volatile.Read(ref e.Sent));
        var drain = Stopwatch.StartNew();
        while (drain.Elapsed < TimeSpan.FromSeconds(10) && Interlocked.Read(ref _completed) < sent)
        {
            await Task.Delay(50);
        }

        stopReading.Cancel();
        await Task.WhenAll(readers);
        var closed = _editors.Where(e => e.Closed).ToList();
        lock (_pauseLock)
        {
            // A server that stopped until the end of the window: the pause runs to its end.
            _longestPause = Math.Max(_longestPause, _window.End - Math.Max(_window.Start, _lastCompletion));
        }

        foreach (var editor in _editors)
        {
            editor.Socket.Abort();
        }

        var latency = new LongHistogram(1, 600_000_000, 3);
        foreach (var editor in _editors)
        {
            latency.Add(editor.Latency);
        }

        // Lost: every update an editor sent that some other editor never got.
        long lost = 0;
        foreach (var receiver in _editors)
        {
            foreach (var sender in _editors.Where(s => s != receiver))
            {
                lost += sender.Sent - receiver.ReceivedFrom[sender.Index];
            }
        }

        var seconds = options.Duration.TotalSeconds;
        var cpuPercent = figures.ServerCpuPercent;
        return new DocsEditorsResult(options.Label, options.Editors, options.ClosedLoop ? "closed" : $"open {options.Rate}/s per editor",
            options.Window, seconds, _sendsInWindow, _completedInWindow, _sendsInWindow / seconds, _completedInWindow / seconds,
            _editors.Sum(e => e.DeliveriesInWindow), _editors.Sum(e => e.DeliveriesInWindow) / seconds,
            Ms(latency, 50), Ms(latency, 99), Ms(latency, 100),
            lost, _editors.Sum(e => e.Duplicates), _editors.Sum(e => e.OutOfOrder), _editors.Sum(e => e.Unrecognised), _editors.Sum(e => e.Echoes),
            _stalls, _editors.Count(e => e.Exhausted),
            cpuPercent, cpuPercent is { } p && _completedInWindow > 0 ? p / 100 * seconds * 1_000_000 / _completedInWindow : null, figures.ServerRssKiB,
            figures.GeneratorCpuPercent,
            closed.Count, closed.Select(e => $"editor {e.Index}: {(e.Socket.CloseCode is { } code ? $"{code} {e.Socket.CloseReason}" : "connection ended without a close frame")}").FirstOrDefault(),
            _longestPause * 1000.0 / Stopwatch.Frequency);
    }

    /// <summary>A percentile in milliseconds; NaN when nothing was recorded (no update reached anyone within the window).</summary>
    internal static double Ms(LongHistogram histogram, double percentile) =>
        histogram.TotalCount == 0 ? double.NaN : (percentile >= 100 ? histogram.GetMaxValue() : histogram.GetValueAtPercentile(percentile)) / 1000.0;

    /// <summary>
    /// Connects an editor and runs the sync handshake: its step 1 says it has the seed; the server's step 1 is answered
    /// with step 2, the seed if the server's state vector lacks it (so, as editors join one after another, only the
    /// first sends it), else an empty update.
    /// </summary>
    private async Task<LeanWebSocket> JoinAsync(string document, int index)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var socket = await YjsClient.ConnectAsync(options.UrlTemplate, document, timeout.Token);
        var seeded = YjsWire.StateVector(new Dictionary<ulong, ulong> { [_updates.SeedClient] = _updates.SeedClock });
        await YjsClient.HandshakeAsync(socket, seeded,
            server => server.GetValueOrDefault(_updates.SeedClient) >= _updates.SeedClock ? YjsWire.EmptyUpdate : _updates.Seed,
            TimeSpan.FromSeconds(10), $"editor {index}");
        return socket;
    }

    private async Task SendLoopAsync(Editor editor, CancellationToken stop)
    {
        var interval = 1 / options.Rate;
        var next = Stopwatch.GetTimestamp();
        try
        {
            if (!options.ClosedLoop)
            {
                // Each editor starts at its own point of the interval, so the editors do not send in bursts.
                var phase = interval * Random.Shared.NextDouble();
                next += (long)(phase * Stopwatch.Frequency);
                await Task.Delay(TimeSpan.FromSeconds(phase), stop);
            }

            for (var i = 0; i < editor.Updates.Length && !stop.IsCancellationRequested; i++)
            {
                if (options.ClosedLoop && !await editor.Window.WaitAsync(TimeSpan.FromSeconds(10), stop))
                {
                    // None of the window's updates reached everyone within 10 s (lost somewhere): go on, and say so.
                    Interlocked.Increment(ref _stalls);
                }

                var now = Stopwatch.GetTimestamp();
                Volatile.Write(ref editor.SentAt[i], now);
                // Not cancellable (a send cut in half would break the socket): the loop checks the token between sends.
                await editor.Socket.SendBinaryAsync(YjsWire.Sync(YjsWire.SyncUpdate, editor.Updates[i]));
                Volatile.Write(ref editor.Sent, i + 1);
                Interlocked.Increment(ref _sends);
                if (InWindow(now))
                {
                    Interlocked.Increment(ref _sendsInWindow);
                }

                if (!options.ClosedLoop)
                {
                    next += (long)(interval * Stopwatch.Frequency);
                    var wait = (next - Stopwatch.GetTimestamp()) / (double)Stopwatch.Frequency;
                    if (wait > 0)
                    {
                        await Task.Delay(TimeSpan.FromSeconds(wait), stop);
                    }
                }
            }

            if (!stop.IsCancellationRequested)
            {
                editor.Exhausted = true;
                Console.Error.WriteLine($"bench: editor {editor.Index} sent all its {editor.Updates.Length} updates before the end; write more with bench/yjs/updates.mjs --updates");
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or SocketException)
        {
            // Stopped, or the server closed the socket: the counts say what arrived.
        }
    }

    /// <summary>An update reached every other editor: its sender may send one more (closed loop).</summary>
    private void Completed(Editor sender, long now)
    {
        Interlocked.Increment(ref _completed);
        if (InWindow(now))
        {
            Interlocked.Increment(ref _completedInWindow);
            lock (_pauseLock)
            {
                // How long the document stood still: the longest gap between updates reaching everyone.
                _longestPause = Math.Max(_longestPause, now - Math.Max(_window.Start, _lastCompletion));
                _lastCompletion = now;
            }
        }

        if (options.ClosedLoop)
        {
            sender.Window.Release();
        }
    }

    /// <summary>One editor: its socket and updates as a sender, its counts and checks as a receiver.</summary>
    private sealed class Editor(DocsEditorsRun run, int index, byte[][] updates, int editors, int window)
    {
        public int Index { get; } = index;
        public byte[][] Updates { get; } = updates;
        public LeanWebSocket Socket = null!;
        public SemaphoreSlim Window { get; } = new(window);

        // As a sender (written by its send loop, read by the other editors' readers).
        public readonly long[] SentAt = new long[updates.Length];
        public readonly int[] ReachedOthers = new int[updates.Length];
        private readonly Dictionary<ulong, int> _indexOfKey = KeysOf(updates);
        public int Sent;
        public bool Exhausted;
        public bool Closed;

        // As a receiver (only its own reader touches these).
        public readonly long[] ReceivedFrom = new long[editors];
        private readonly int[] _nextFrom = new int[editors];
        private readonly ulong[][] _seen = new ulong[editors][];
        public LongHistogram Latency { get; } = new(1, 600_000_000, 3);
        public long DeliveriesInWindow, Duplicates, OutOfOrder, Unrecognised, Echoes, Other;

        /// <summary>Key of an update: its first change's clock, and whether that change is a delete.</summary>
        private static ulong Key(ulong clock, bool delete) => clock << 1 | (delete ? 1UL : 0);

        private static Dictionary<ulong, int> KeysOf(byte[][] updates)
        {
            var keys = new Dictionary<ulong, int>(updates.Length);
            for (var i = 0; i < updates.Length; i++)
            {
                if (!YjsWire.TryReadKey(updates[i], out _, out var clock, out var delete) || !keys.TryAdd(Key(clock, delete), i))
                {
                    throw new BenchException($"precomputed update {i} has no key or the key of an earlier one; write the updates again with bench/yjs/updates.mjs");
                }
            }

            return keys;
        }

        public async Task ReadAsync(CancellationToken stop)
        {
            try
            {
                await Socket.RunAsync(OnMessage, stop);
                Closed = !stop.IsCancellationRequested; // the server closed it before the run ended
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                Closed = !stop.IsCancellationRequested; // reset by the server: the counts say what arrived
            }
            catch (OperationCanceledException)
            {
                // Stopped.
            }
        }

        private void OnMessage(ReadOnlySpan<byte> message)
        {
            var now = Stopwatch.GetTimestamp();
            // Updates arrive as sync updates (a server may also answer with step 2); anything else (awareness) is not counted.
            if (!YjsWire.TryReadSync(message, out var sub, out var body) || sub is not (YjsWire.SyncUpdate or YjsWire.SyncStep2)
                || !YjsWire.TryReadKey(body, out var client, out var clock, out var delete))
            {
                Other++;
                return;
            }

            if (!run._editorOfClient.TryGetValue(client, out var from) || !run._editors[from]._indexOfKey.TryGetValue(Key(clock, delete), out var i))
            {
                if (client == run._updates.SeedClient)
                {
                    Other++; // the seed, relayed when the first editor synced
                }
                else
                {
                    Unrecognised++;
                }

                return;
            }

            if (from == Index)
            {
                Echoes++; // y-websocket's server sends an update to every connection, its sender's included
                return;
            }

            var seen = _seen[from] ??= new ulong[run._editors[from].Updates.Length / 64 + 1];
            if ((seen[i >> 6] & (1UL << (i & 63))) != 0)
            {
                Duplicates++;
                return;
            }

            seen[i >> 6] |= 1UL << (i & 63);
            ReceivedFrom[from]++;
            if (i != _nextFrom[from])
            {
                OutOfOrder++;
            }

            _nextFrom[from] = Math.Max(_nextFrom[from], i + 1);
            if (run.InWindow(now))
            {
                DeliveriesInWindow++;
            }

            var sender = run._editors[from];
            var sent = Volatile.Read(ref sender.SentAt[i]);
            if (run.InWindow(sent))
            {
                Latency.RecordValue(Math.Max(1, (now - sent) * 1_000_000 / Stopwatch.Frequency));
            }

            if (Interlocked.Increment(ref sender.ReachedOthers[i]) == editors - 1)
            {
                run.Completed(sender, now);
            }
        }
    }
}
