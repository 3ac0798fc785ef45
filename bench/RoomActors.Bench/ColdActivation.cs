using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using HdrHistogram;

namespace RoomActors.Bench;

/// <summary>
/// Cold activation of rooms whose state lives in Redis, in two phases around a restart of the server:
/// <c>--phase populate</c> gives each of --rooms <c>counter</c> rooms a value (one <c>inc</c> over a WebSocket);
/// <c>--phase measure</c>, after the runner restarted the silo, reads every room once over HTTP — each read activates
/// the room and loads its state from Redis — and then once more (warm), one request at a time, and reports the
/// latency percentiles of both and how many rooms came back without their value.
/// </summary>
internal static class ColdActivation
{
    public static async Task<(string, object, string?)> RunAsync(ArgMap args)
    {
        var baseUrl = args.Get("url", "http://127.0.0.1:8080").TrimEnd('/');
        var rooms = args.Int("rooms", 1000);

        // Rooms activated from Redis before the measured ones, their state as theirs: the restarted process compiles and
        // tiers up its code on them (its first requests take hundreds of milliseconds, and the next few hundred meet the
        // JIT's background compiles on the one core), so that the measured rooms show what activating a room costs.
        var warmupRooms = args.Int("warmup-rooms", 1000);
        var prefix = args.Get("prefix", "cold");
        var label = args.Get("label", "cold");
        switch (args.Get("phase", "measure"))
        {
            case "populate":
                await PopulateAsync(baseUrl, rooms + warmupRooms, prefix);
                return ($"{label}: populated {rooms + warmupRooms} counter rooms", new { rooms = rooms + warmupRooms }, null);
            case "measure":
                var result = await MeasureAsync(baseUrl, rooms, warmupRooms, prefix, label);
                return (result.Summary(), result, args.GetValueOrDefault("json"));
            default:
                throw new BenchException("cold: --phase is populate or measure");
        }
    }

    private static async Task PopulateAsync(string baseUrl, int rooms, string prefix)
    {
        var wsBase = "ws" + baseUrl["http".Length..];
        using var gate = new SemaphoreSlim(32);
        await Task.WhenAll(Enumerable.Range(0, rooms).Select(async room =>
        {
            await gate.WaitAsync();
            try
            {
                using var socket = new ClientWebSocket();
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                await socket.ConnectAsync(new Uri($"{wsBase}/rooms/counter/{prefix}-{room}"), timeout.Token);
                await socket.SendAsync("inc"u8.ToArray(), WebSocketMessageType.Text, true, timeout.Token);
                var buffer = new byte[64];
                var reply = await socket.ReceiveAsync(buffer, timeout.Token);
                if (Encoding.UTF8.GetString(buffer, 0, reply.Count) != "1")
                {
                    throw new BenchException($"room {prefix}-{room} answered '{Encoding.UTF8.GetString(buffer, 0, reply.Count)}' to its first inc; use a fresh --prefix");
                }

                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);
            }
            finally
            {
                gate.Release();
            }
        }));
    }

    private static async Task<ColdResult> MeasureAsync(string baseUrl, int rooms, int warmupRooms, string prefix, string label)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var first = 0.0;
        for (var room = rooms; room < rooms + warmupRooms; room++)
        {
            var start = Stopwatch.GetTimestamp();
            await http.GetStringAsync($"{baseUrl}/rooms/counter/{prefix}-{room}");
            if (room == rooms)
            {
                first = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }
        }

        var cold = new LongHistogram(1, 60_000_000, 3);
        var warm = new LongHistogram(1, 60_000_000, 3);
        var missing = 0;
        foreach (var histogram in new[] { cold, warm })
        {
            for (var room = 0; room < rooms; room++)
            {
                var start = Stopwatch.GetTimestamp();
                var body = await http.GetStringAsync($"{baseUrl}/rooms/counter/{prefix}-{room}");
                histogram.RecordValue(Math.Max(1, Stopwatch.GetElapsedTime(start).Ticks / 10));
                if (body != "1" && histogram == cold)
                {
                    missing++;
                }
            }
        }

        static double Ms(long micros) => micros / 1000.0;
        return new ColdResult(label, rooms, warmupRooms, first,
            Ms(cold.GetValueAtPercentile(50)), Ms(cold.GetValueAtPercentile(99)), Ms(cold.GetMaxValue()),
            Ms(warm.GetValueAtPercentile(50)), Ms(warm.GetValueAtPercentile(99)), Ms(warm.GetMaxValue()), missing);
    }
}

/// <summary>What the cold-activation run saw, in milliseconds.</summary>
internal sealed record ColdResult(string Label, int Rooms, int WarmupRooms, double FirstRequestMs, double ColdP50Ms, double ColdP99Ms, double ColdMaxMs, double WarmP50Ms, double WarmP99Ms, double WarmMaxMs, int RoomsWithoutState)
{
    public string Summary() =>
        $"{Label}: first request after the restart {FirstRequestMs:F1} ms; then {WarmupRooms} rooms to warm up; {Rooms} rooms, cold p50 {ColdP50Ms:F2} ms, p99 {ColdP99Ms:F2} ms, max {ColdMaxMs:F1} ms; warm p50 {WarmP50Ms:F2} ms, p99 {WarmP99Ms:F2} ms; {RoomsWithoutState} rooms without their state";
}
