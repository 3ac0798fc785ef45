using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using HdrHistogram;

namespace RoomActors.Bench;

/// <summary>
/// The conference scenario: attendees of the MUD (samples/Mud, wire protocol of its README) sign in over a ramp-up, then
/// each moves to a random other room (<c>/go ROOM</c>, then the <c>moved</c> message and close 4000, then a connection to
/// the new room), says something, whispers to someone online and now and then shouts, each at random (exponential)
/// intervals with the configured means. Every say, whisper and shout carries <c>bench SENDER SEQ TIMESTAMP</c>, so every
/// recipient records the delivery latency; a move's latency runs from sending <c>/go</c> to the new room's <c>room</c>
/// message. After the measured window the attendees stop, the moves in flight finish, and one attendee in each room
/// sends <c>/look</c>: every online attendee must be in exactly one room's occupant list (the room the generator put
/// it in), and each room's count in the room list must equal its occupants and the generator's count.
/// </summary>
internal static class Conference
{
    public static async Task<(string, object, string?)> RunAsync(ArgMap args)
    {
        var options = ConferenceOptions.Parse(args);
        var result = await new ConferenceRun(options).ExecuteAsync();
        return (result.Summary(), result, args.GetValueOrDefault("json"));
    }
}

internal sealed record VenueRoom(string Id, int? Capacity);

internal sealed record ConferenceOptions(
    string[] Urls, int Attendees, int Sources, IReadOnlyList<VenueRoom> Rooms, TimeSpan Ramp, TimeSpan Settle, TimeSpan Duration,
    double MoveEvery, double SayEvery, double WhisperEvery, double ShoutEvery, double ShoutCooldown, int Text,
    ServerProcesses Servers, string Label, bool LookAll)
{
    public static ConferenceOptions Parse(ArgMap map)
    {
        var inv = CultureInfo.InvariantCulture;
        var urls = map.Get("urls", "ws://127.0.0.1:8080").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var venuePath = map.Get("venue", "samples/Mud/venue.json");
        using var venue = JsonDocument.Parse(File.ReadAllText(venuePath));
        var rooms = venue.RootElement.GetProperty("rooms").EnumerateArray()
            .Select(r => new VenueRoom(r.GetProperty("id").GetString()!,
                r.TryGetProperty("capacity", out var c) && c.ValueKind == JsonValueKind.Number ? c.GetInt32() : null))
            .ToList();
        var options = new ConferenceOptions(urls, map.Int("attendees", 1000), map.Int("sources", 4), rooms,
            TimeSpan.FromSeconds(map.Seconds("ramp", 30)), TimeSpan.FromSeconds(map.Seconds("settle", 30)), TimeSpan.FromSeconds(map.Seconds("duration", 60)),
            map.Seconds("move-every", 30), map.Seconds("say-every", 20), map.Seconds("whisper-every", 120),
            map.Seconds("shout-every", 600), map.Seconds("shout-cooldown", 10), map.Int("text", 64),
            ServerProcesses.Parse(map), map.Get("label", "conference"), map.Get("look-all", "false") == "true");
        if (options.Attendees < 2 || options.Attendees > 99_999 || rooms.Count < 2 || urls.Length == 0)
        {
            throw new BenchException("conference needs 2–99,999 attendees, a venue of at least 2 rooms and --urls");
        }

        return options;
    }
}

/// <summary>What the conference run saw. Latencies in milliseconds; rates per second of the measured window.</summary>
internal sealed record ConferenceResult(
    string Label, int Attendees, int Gateways, int Rooms, double RampSeconds, double Seconds,
    int OnlineAtEnd, long Says, long Whispers, long Shouts, long Moves, double MessagesPerSecond,
    long Deliveries, double DeliveriesPerSecond, long SayDeliveries, double SayDeliveriesPerSecond,
    double SayP50Ms, double SayP99Ms, double SayMaxMs, double MoveP50Ms, double MoveP99Ms, double MoveMaxMs,
    double WhisperP50Ms, double WhisperP99Ms, double ShoutP50Ms, double ShoutP99Ms, double SignInP50Ms, double SignInP99Ms,
    long WhispersReceived, long WhispersSentTotal, long SaysEchoed, long SaysSentTotal,
    long MoveTimeouts, long MovesRefused, long ArrivedElsewhere, long UnexpectedCloses, long Reconnects, long ConnectFailures,
    Dictionary<string, long> CloseCodes, Dictionary<string, long> Errors, Dictionary<string, long> FrameTypes,
    ConsistencyResult Consistency, double? ServerCpuPercent, long? ServerRssKiB, List<ServerFigure> Servers, double GeneratorCpuPercent)
{
    public string Summary()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{Label}: {Attendees} attendees ({OnlineAtEnd} online at the end), {Rooms} rooms, {Gateways} gateway(s), ramp {RampSeconds:F0} s, measured {Seconds:F0} s\n");
        text.Append(CultureInfo.InvariantCulture, $"  messages {MessagesPerSecond:F1}/s (says {Says}, whispers {Whispers}, shouts {Shouts}, moves {Moves}); deliveries {DeliveriesPerSecond:F0}/s (say deliveries {SayDeliveriesPerSecond:F0}/s)\n");
        text.Append(CultureInfo.InvariantCulture, $"  say delivery p50 {SayP50Ms:F2} ms, p99 {SayP99Ms:F2} ms, max {SayMaxMs:F1} ms; move p50 {MoveP50Ms:F2} ms, p99 {MoveP99Ms:F2} ms, max {MoveMaxMs:F1} ms\n");
        text.Append(CultureInfo.InvariantCulture, $"  whisper p50 {WhisperP50Ms:F2} / p99 {WhisperP99Ms:F2} ms ({WhispersReceived}/{WhispersSentTotal} received); shout p50 {ShoutP50Ms:F2} / p99 {ShoutP99Ms:F2} ms; sign-in p50 {SignInP50Ms:F1} / p99 {SignInP99Ms:F1} ms; says echoed to their sender {SaysEchoed}/{SaysSentTotal}\n");
        text.Append(CultureInfo.InvariantCulture, $"  move timeouts {MoveTimeouts}, moves refused {MovesRefused}, arrived elsewhere {ArrivedElsewhere}, unexpected closes {UnexpectedCloses}, reconnects {Reconnects}, connect failures {ConnectFailures}\n");
        text.Append(CultureInfo.InvariantCulture, $"  close codes {Format(CloseCodes)}; errors {Format(Errors)}\n");
        text.Append(CultureInfo.InvariantCulture, $"  frames {Format(FrameTypes)}\n");
        text.Append(CultureInfo.InvariantCulture, $"  consistency: {Consistency.Summary()}\n");
        text.Append(CultureInfo.InvariantCulture, $"  server CPU {ServerCpuPercent?.ToString("F0", CultureInfo.InvariantCulture) ?? "?"}% of a core, RSS {(ServerRssKiB / 1024)?.ToString(CultureInfo.InvariantCulture) ?? "?"} MiB ({string.Join(", ", Servers.Select(s => $"{s.Name} {s.CpuPercent:F0}% {s.RssKiB / 1024} MiB{(s.Exited ? " EXITED" : "")}"))}); generator CPU {GeneratorCpuPercent:F0}%");
        return text.ToString();
    }

    private static string Format(Dictionary<string, long> counts) =>
        counts.Count == 0 ? "none" : string.Join(", ", counts.OrderByDescending(c => c.Value).Select(c => $"{c.Key} ×{c.Value}"));
}

/// <summary>The end-of-run check of the room lists against where the generator put every attendee.</summary>
internal sealed record ConsistencyResult(
    int Online, int RoomsLooked, int LooksUnanswered, long SumOfCounts, int Missing, int Doubled, int Ghosts, int WrongRoom,
    int CountMismatches, int ListsDisagreeing, List<string> Examples)
{
    public bool Ok => Online > 0 && LooksUnanswered == 0 && SumOfCounts == Online && Missing == 0 && Doubled == 0 && Ghosts == 0 && WrongRoom == 0 && CountMismatches == 0;

    public string Summary() =>
        $"{(Ok ? "OK" : "FAILED")}: {Online} online, sum of room counts {SumOfCounts}, {RoomsLooked} rooms looked at ({LooksUnanswered} unanswered), " +
        $"missing {Missing}, doubled {Doubled}, ghosts {Ghosts}, in another room {WrongRoom}, count ≠ occupants {CountMismatches}, room lists disagreeing {ListsDisagreeing}" +
        (Examples.Count == 0 ? "" : "; e.g. " + string.Join("; ", Examples.Take(5)));
}

internal sealed class ConferenceRun(ConferenceOptions options)
{
    private const int Ready = 0, Connecting = 1, Moving = 2, Offline = 3;

    private readonly LongHistogram _say = new(1, 600_000_000, 3);
    private readonly LongHistogram _whisper = new(1, 600_000_000, 3);
    private readonly LongHistogram _shout = new(1, 600_000_000, 3);
    private readonly LongHistogram _move = new(1, 600_000_000, 3);
    private readonly LongHistogram _signIn = new(1, 600_000_000, 3);
    private readonly ConcurrentDictionary<string, long> _closeCodes = new();
    private readonly ConcurrentDictionary<string, long> _errors = new();
    private readonly Dictionary<string, int> _roomIndex = new(StringComparer.OrdinalIgnoreCase);
    private readonly CancellationTokenSource _stop = new();
    private static readonly string[] FrameNames = ["room", "arrive", "leave", "say", "me", "dance", "shout", "whisper", "report", "rooms", "profile", "deleted", "moved", "notice", "error", "other"];
    private static readonly byte[][] FrameBytes = FrameNames.Select(Encoding.ASCII.GetBytes).ToArray();
    private readonly long[] _frames = new long[FrameNames.Length];
    private readonly ConcurrentQueue<Attendee> _arrivedFirst = new();
    private double[] _weights = [];
    private int[] _occupancy = [];
    private int[] _pending = [];
    private Attendee[] _attendees = [];
    private long _windowStart = long.MaxValue;
    private long _windowEnd = long.MaxValue;
    private volatile bool _quiet; // no more moves, says, whispers, shouts
    private long _says, _whispers, _shouts, _moves, _saysTotal, _whispersTotal;
    private long _deliveries, _sayDeliveries, _whispersReceived, _saysEchoed;
    private long _moveTimeouts, _movesRefused, _arrivedElsewhere, _unexpectedCloses, _reconnects, _connectFailures;
    private readonly string _pad = new('x', 1000);

    public bool InWindow(long timestamp) => timestamp >= _windowStart && timestamp < _windowEnd;

    public async Task<ConferenceResult> ExecuteAsync()
    {
        for (var i = 0; i < options.Rooms.Count; i++)
        {
            _roomIndex[options.Rooms[i].Id] = i;
        }

        _occupancy = new int[options.Rooms.Count];
        _pending = new int[options.Rooms.Count];
        // Where attendees go: an equal share per room, at most half the capacity of a room with one (a random walk
        // with these weights keeps every room well below full; a full room would refuse moves, 4029).
        var fair = options.Attendees / (double)options.Rooms.Count;
        _weights = new double[options.Rooms.Count];
        for (var i = 0; i < options.Rooms.Count; i++)
        {
            _weights[i] = options.Rooms[i].Capacity is { } cap ? Math.Min(fair, cap * 0.5) : fair;
        }

        _attendees = Enumerable.Range(0, options.Attendees).Select(i => new Attendee(this, i)).ToArray();
        var sources = Enumerable.Range(1, Math.Max(1, options.Sources)).Select(k => IPAddress.Parse($"127.0.0.{k}")).ToArray();
        foreach (var a in _attendees)
        {
            a.Source = sources[a.Index % sources.Length];
            a.Url = options.Urls[a.Index % options.Urls.Length].TrimEnd('/');
        }

        var clock = Stopwatch.StartNew();
        var scheduler = Task.Run(ScheduleAsync);

        // Ramp-up: sign-ins spread evenly over the ramp.
        var connections = new List<Task>();
        for (var i = 0; i < _attendees.Length; i++)
        {
            var due = options.Ramp.TotalSeconds * i / _attendees.Length;
            var wait = due - clock.Elapsed.TotalSeconds;
            if (wait > 0.002)
            {
                await Task.Delay(TimeSpan.FromSeconds(wait));
            }

            var attendee = _attendees[i];
            connections.Add(Task.Run(() => attendee.LifeAsync(PickRoom(-1), _stop.Token)));
        }

        var rampLeft = options.Ramp - clock.Elapsed;
        if (rampLeft > TimeSpan.Zero)
        {
            await Task.Delay(rampLeft);
        }

        Console.WriteLine($"{options.Label}: ramp-up done in {clock.Elapsed.TotalSeconds:F1} s, {_attendees.Count(a => a.State == Ready)} attendees in a room; settling {options.Settle.TotalSeconds:F0} s");
        // Everyone acts at the full rate before the window opens: a fresh server still re-compiles its hot code (tier-up)
        // and runs its first full collections then, which held up the first 30 s's p99 (80 ms there, 29-39 ms after).
        await Task.Delay(options.Settle);
        Console.WriteLine($"{options.Label}: {_attendees.Count(a => a.State == Ready)} attendees in a room; measuring {options.Duration.TotalSeconds:F0} s");
        var cpuStart = options.Servers.CpuTicks();
        var generatorStart = Process.GetCurrentProcess().TotalProcessorTime;
        var start = Stopwatch.GetTimestamp();
        _windowStart = start;
        _windowEnd = start + (long)(options.Duration.TotalSeconds * Stopwatch.Frequency);
        await Task.Delay(options.Duration);
        var cpuEnd = options.Servers.CpuTicks();
        var generatorEnd = Process.GetCurrentProcess().TotalProcessorTime;
        var rss = options.Servers.RssKiB();
        var seconds = options.Duration.TotalSeconds;

        // Quiesce: nobody starts anything new; the moves and reconnects in flight finish (bounded); the rooms' lists
        // (pushed at most once per second per room) settle.
        _quiet = true;
        var drain = Stopwatch.StartNew();
        while (drain.Elapsed < TimeSpan.FromSeconds(30) && _attendees.Any(a => a.State is Connecting or Moving))
        {
            await Task.Delay(100);
        }

        await Task.Delay(TimeSpan.FromSeconds(3));
        var consistency = await CheckConsistencyAsync();
        var onlineAtEnd = _attendees.Count(a => a.State == Ready);

        _stop.Cancel();
        foreach (var a in _attendees)
        {
            a.Abort();
        }

        await Task.WhenAny(Task.WhenAll(connections), Task.Delay(TimeSpan.FromSeconds(10)));
        await scheduler.WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { });

        var servers = options.Servers.Figures(cpuStart, cpuEnd, rss, seconds);
        static double Ms(long micros) => micros / 1000.0;
        double P(LongHistogram h, double percentile) => h.TotalCount == 0 ? double.NaN : Ms(h.GetValueAtPercentile(percentile));
        double Max(LongHistogram h) => h.TotalCount == 0 ? double.NaN : Ms(h.GetMaxValue());
        return new ConferenceResult(options.Label, options.Attendees, options.Urls.Length, options.Rooms.Count, options.Ramp.TotalSeconds, seconds,
            onlineAtEnd, _says, _whispers, _shouts, _moves, (_says + _whispers + _shouts + _moves) / seconds,
            _deliveries, _deliveries / seconds, _sayDeliveries, _sayDeliveries / seconds,
            P(_say, 50), P(_say, 99), Max(_say), P(_move, 50), P(_move, 99), Max(_move),
            P(_whisper, 50), P(_whisper, 99), P(_shout, 50), P(_shout, 99), P(_signIn, 50), P(_signIn, 99),
            _whispersReceived, _whispersTotal, _saysEchoed, _saysTotal,
            _moveTimeouts, _movesRefused, _arrivedElsewhere, _unexpectedCloses, _reconnects, _connectFailures,
            new(_closeCodes), new(_errors),
            FrameNames.Select((n, i) => (n, _frames[i])).Where(f => f.Item2 > 0).ToDictionary(f => f.n, f => f.Item2), consistency,
            ServerProcesses.CpuPercent(servers), ServerProcesses.RssKiB(servers), servers,
            (generatorEnd - generatorStart).TotalSeconds / seconds * 100);
    }

    // ---- what attendees do: one loop fires every attendee's due actions ----

    private enum Act { Move, Say, Whisper, Shout }

    private async Task ScheduleAsync()
    {
        var queue = new PriorityQueue<(Attendee Who, Act What), long>();
        var freq = (double)Stopwatch.Frequency;
        long Later(double meanSeconds) => Stopwatch.GetTimestamp() + (long)(-meanSeconds * Math.Log(1 - Random.Shared.NextDouble()) * freq);
        var lastWatch = Stopwatch.GetTimestamp();
        while (!_stop.IsCancellationRequested && !_quiet)
        {
            var now = Stopwatch.GetTimestamp();
            // Attendees that just signed in start their own clocks (a random phase each).
            while (_arrivedFirst.TryDequeue(out var a))
            {
                queue.Enqueue((a, Act.Move), Later(options.MoveEvery));
                queue.Enqueue((a, Act.Say), Later(options.SayEvery));
                queue.Enqueue((a, Act.Whisper), Later(options.WhisperEvery));
                queue.Enqueue((a, Act.Shout), Later(options.ShoutEvery));
            }

            while (queue.TryPeek(out var item, out var due) && due <= now)
            {
                queue.Dequeue();
                var (who, what) = item;
                if (who.State != Ready || who.Looking)
                {
                    queue.Enqueue(item, now + (long)(0.25 * freq)); // moving: the action waits for the arrival
                    continue;
                }

                switch (what)
                {
                    case Act.Move:
                        StartMove(who, now);
                        queue.Enqueue(item, Later(options.MoveEvery));
                        break;
                    case Act.Say:
                        var seq = who.SaySeq++;
                        Count(ref _saysTotal, ref _says, now);
                        who.Send(Line("", who.Index, seq));
                        queue.Enqueue(item, Later(options.SayEvery));
                        break;
                    case Act.Whisper:
                        var to = _attendees[Random.Shared.Next(_attendees.Length)];
                        if (to == who || to.State != Ready)
                        {
                            queue.Enqueue(item, now + (long)(0.1 * freq));
                            break;
                        }

                        Count(ref _whispersTotal, ref _whispers, now);
                        who.Send(Line($"/whisper {to.Name} ", who.Index, who.WhisperSeq++));
                        queue.Enqueue(item, Later(options.WhisperEvery));
                        break;
                    case Act.Shout:
                        CountInWindow(ref _shouts, now);
                        who.Send(Line("/shout ", who.Index, who.ShoutSeq++));
                        // Exponential gaps, but never inside the server's cooldown (the shout would be refused).
                        queue.Enqueue(item, Math.Max(Later(options.ShoutEvery), now + (long)((options.ShoutCooldown + 0.5) * freq)));
                        break;
                }
            }

            if (now - lastWatch > Stopwatch.Frequency)
            {
                lastWatch = now;
                foreach (var a in _attendees)
                {
                    a.CheckMoveTimeout(now);
                }
            }

            await Task.Delay(2);
        }
    }

    private void Count(ref long total, ref long inWindow, long now)
    {
        Interlocked.Increment(ref total);
        CountInWindow(ref inWindow, now);
    }

    private void CountInWindow(ref long inWindow, long now)
    {
        if (InWindow(now))
        {
            Interlocked.Increment(ref inWindow);
        }
    }

    /// <summary><c>PREFIX</c> + <c>bench SENDER SEQ NOW</c> + padding to the configured text length.</summary>
    private string Line(string prefix, int sender, long seq)
    {
        var text = $"bench {sender} {seq} {Stopwatch.GetTimestamp()} ";
        return prefix + text + _pad[..Math.Max(0, options.Text - text.Length)];
    }

    private void StartMove(Attendee who, long now)
    {
        var from = who.RoomIndex;
        var to = PickRoom(from);
        if (to == from)
        {
            return;
        }

        CountInWindow(ref _moves, now);
        Interlocked.Increment(ref _pending[to]);
        who.BeginMove(to, now);
        who.Send("/go " + options.Rooms[to].Id);
    }

    /// <summary>A random room other than <paramref name="except"/>, by weight, never one at 90% of its capacity.</summary>
    public int PickRoom(int except)
    {
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var total = 0.0;
            for (var i = 0; i < _weights.Length; i++)
            {
                total += i == except ? 0 : _weights[i];
            }

            var x = Random.Shared.NextDouble() * total;
            var pick = _weights.Length - 1;
            for (var i = 0; i < _weights.Length; i++)
            {
                if (i == except)
                {
                    continue;
                }

                x -= _weights[i];
                if (x < 0)
                {
                    pick = i;
                    break;
                }
            }

            if (pick == except)
            {
                continue;
            }

            if (options.Rooms[pick].Capacity is not { } cap || Volatile.Read(ref _occupancy[pick]) + Volatile.Read(ref _pending[pick]) < cap * 0.9)
            {
                return pick;
            }
        }

        return except; // everything near full: stay
    }

    // ---- what attendees see ----

    public void OnArrived(Attendee who, int room, long? moveStart, long? signInStart, long now)
    {
        Interlocked.Increment(ref _occupancy[room]);
        if (moveStart is { } m)
        {
            Record(_move, now - m);
        }
        else if (signInStart is { } s)
        {
            Record(_signIn, now - s);
            _arrivedFirst.Enqueue(who);
        }
    }

    public void OnLeft(int room) => Interlocked.Decrement(ref _occupancy[room]);

    public void OnMoveSettled(int target) => Interlocked.Decrement(ref _pending[target]);

    public void OnFrame(Attendee who, ReadOnlySpan<byte> type, ReadOnlySpan<byte> json, long now)
    {
        if (InWindow(now))
        {
            Interlocked.Increment(ref _deliveries);
        }

        var kind = FrameBytes.Length - 1;
        for (var i = 0; i < FrameBytes.Length - 1; i++)
        {
            if (type.SequenceEqual(FrameBytes[i]))
            {
                kind = i;
                break;
            }
        }

        Interlocked.Increment(ref _frames[kind]);
        if (type.SequenceEqual("say"u8))
        {
            if (Marker(json) is not var (sender, _, sent))
            {
                return;
            }

            if (sender == who.Index)
            {
                Interlocked.Increment(ref _saysEchoed);
                return;
            }

            if (InWindow(now))
            {
                Interlocked.Increment(ref _sayDeliveries);
            }

            if (InWindow(sent))
            {
                Record(_say, now - sent);
            }

            return;
        }

        if (type.SequenceEqual("whisper"u8))
        {
            if (Marker(json) is var (sender, _, sent) && sender != who.Index)
            {
                Interlocked.Increment(ref _whispersReceived);
                if (InWindow(sent))
                {
                    Record(_whisper, now - sent);
                }
            }

            return;
        }

        if (type.SequenceEqual("shout"u8))
        {
            if (Marker(json) is var (_, _, sent) && InWindow(sent))
            {
                Record(_shout, now - sent);
            }

            return;
        }

        if (type.SequenceEqual("error"u8))
        {
            var message = Json.StringProperty(json, "message"u8) ?? "?";
            _errors.AddOrUpdate(message.Length > 60 ? message[..60] : message, 1, (_, n) => n + 1);
        }
    }

    public void CountClose(int? code, string? reason) =>
        _closeCodes.AddOrUpdate(code is null ? "none (dropped)" : $"{code} {reason}", 1, (_, n) => n + 1);

    public void CountUnexpectedClose() => Interlocked.Increment(ref _unexpectedCloses);

    public void CountReconnect() => Interlocked.Increment(ref _reconnects);

    public void CountConnectFailure() => Interlocked.Increment(ref _connectFailures);

    public void CountMoveTimeout() => Interlocked.Increment(ref _moveTimeouts);

    public void CountMoveRefused() => Interlocked.Increment(ref _movesRefused);

    public void CountArrivedElsewhere() => Interlocked.Increment(ref _arrivedElsewhere);

    public bool Stopping => _stop.IsCancellationRequested;

    public VenueRoom RoomAt(int index) => options.Rooms[index];

    public int? IndexOf(string roomId) => _roomIndex.TryGetValue(roomId, out var i) ? i : null;

    private static void Record(LongHistogram histogram, long ticks)
    {
        var micros = Math.Max(1, ticks * 1_000_000 / Stopwatch.Frequency);
        lock (histogram)
        {
            histogram.RecordValue(Math.Min(micros, 600_000_000));
        }
    }

    /// <summary>The <c>bench SENDER SEQ TIMESTAMP</c> of a say, whisper or shout; null when the text has none.</summary>
    private static (int Sender, long Seq, long Sent)? Marker(ReadOnlySpan<byte> json)
    {
        var at = json.IndexOf("bench "u8);
        if (at < 0)
        {
            return null;
        }

        Span<long> parts = stackalloc long[3];
        var part = 0;
        var digits = 0;
        foreach (var b in json[(at + 6)..])
        {
            if (b is >= (byte)'0' and <= (byte)'9')
            {
                parts[part] = parts[part] * 10 + (b - '0');
                digits++;
            }
            else if (digits > 0 && ++part == 3)
            {
                break;
            }
            else
            {
                digits = 0;
            }
        }

        return part < 3 ? null : ((int)parts[0], parts[1], parts[2]);
    }

    // ---- the end-of-run check ----

    private async Task<ConsistencyResult> CheckConsistencyAsync()
    {
        // Where the generator has everyone, taken once: an attendee the server drops during the check stays in it.
        var online = _attendees.Select(a => (Who: a, Room: a.RoomIndex)).Where(a => a.Who.State == Ready && a.Room >= 0).ToList();
        var observers = options.LookAll ? online : online.GroupBy(a => a.Room).Select(g => g.First()).ToList();
        var looks = await Task.WhenAll(observers.Select(a => a.Who.LookAsync(TimeSpan.FromSeconds(15))));
        var examples = new List<string>();
        var seen = new Dictionary<string, List<int>>();
        var unanswered = 0;
        var countMismatches = 0;
        var wrongRoom = 0;
        var ghosts = 0;
        var lookedRooms = new HashSet<int>();
        List<(string Id, int Count)>? firstList = null;
        var listsDisagreeing = 0;
        for (var k = 0; k < observers.Count; k++)
        {
            if (looks[k] is not { } look)
            {
                unanswered++;
                examples.Add($"{observers[k].Who.Name} got no answer to /look");
                continue;
            }

            if (IndexOf(look.Id) is not { } room)
            {
                examples.Add($"/look by {observers[k].Who.Name} answered room '{look.Id}', not in the venue");
                continue;
            }

            if (room != observers[k].Room)
            {
                wrongRoom++;
                examples.Add($"{observers[k].Who.Name}'s /look answered {look.Id}, the generator had it in {options.Rooms[observers[k].Room].Id}");
            }

            firstList ??= look.Rooms;
            if (!firstList.SequenceEqual(look.Rooms))
            {
                listsDisagreeing++;
            }

            if (!lookedRooms.Add(room))
            {
                continue; // with --look-all: each room's occupants once
            }

            foreach (var name in look.Occupants)
            {
                if (!seen.TryGetValue(name, out var rooms))
                {
                    seen[name] = rooms = [];
                }

                rooms.Add(room);
            }

            var listed = look.Rooms.FirstOrDefault(r => string.Equals(r.Id, look.Id, StringComparison.OrdinalIgnoreCase));
            if (listed.Id is null || listed.Count != look.Occupants.Count)
            {
                countMismatches++;
                examples.Add($"{look.Id}: {look.Occupants.Count} occupants, the room list says {(listed.Id is null ? "nothing" : listed.Count.ToString(CultureInfo.InvariantCulture))}");
            }
        }

        // The rooms nobody looked at (no attendee there, by the generator's count) must be empty in the room list.
        var lists = firstList ?? [];
        foreach (var (id, count) in lists)
        {
            if (IndexOf(id) is { } i && !lookedRooms.Contains(i) && count != 0)
            {
                countMismatches++;
                examples.Add($"{id}: the room list says {count}, the generator has nobody there");
            }
        }

        var missing = 0;
        var doubled = 0;
        var onlineNames = online.ToDictionary(a => a.Who.Name);
        foreach (var (who, whereabouts) in online)
        {
            var a = (Name: who.Name, RoomIndex: whereabouts);
            if (!seen.TryGetValue(a.Name, out var rooms))
            {
                if (lookedRooms.Contains(a.RoomIndex))
                {
                    missing++;
                    examples.Add($"{a.Name} (in {options.Rooms[a.RoomIndex].Id}) is in no occupant list");
                }

                continue;
            }

            if (rooms.Count > 1)
            {
                doubled++;
                examples.Add($"{a.Name} is listed in {string.Join(", ", rooms.Select(r => options.Rooms[r].Id))}");
            }
            else if (rooms[0] != a.RoomIndex)
            {
                wrongRoom++;
                examples.Add($"{a.Name} is listed in {options.Rooms[rooms[0]].Id}, the generator had it in {options.Rooms[a.RoomIndex].Id}");
            }
        }

        foreach (var (name, rooms) in seen)
        {
            if (!onlineNames.ContainsKey(name))
            {
                ghosts++;
                examples.Add($"{name} is listed in {options.Rooms[rooms[0]].Id} but is not online");
            }
        }

        return new ConsistencyResult(online.Count, lookedRooms.Count, unanswered, lists.Sum(r => (long)r.Count),
            missing, doubled, ghosts, wrongRoom, countMismatches, listsDisagreeing, examples.Take(20).ToList());
    }
}
