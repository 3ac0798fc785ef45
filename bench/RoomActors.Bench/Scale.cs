using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using HdrHistogram;

namespace RoomActors.Bench;

/// <summary>How one of a scale run's generators connected (its <c>ready</c> line).</summary>
internal sealed record PartReady(int Connected, double ConnectSeconds, int Failures, string? FirstFailure, double? FirstFailureSeconds, int Closed);

/// <summary>
/// The scale run: more connections than one process may hold (its descriptor limit), so it starts several generators,
/// each this program's traffic mode (<see cref="BenchRun"/>, <c>--part true</c>) with its share of the rooms, every
/// room's clients spread over all the entry points (<c>--url-template</c>, comma-separated) and over the source
/// addresses 127.0.0.1…N. The generators connect at once (spread over <c>--ramp</c>; one that fails 50 connects makes
/// no more); when all are connected they are told to go together and measure the same window, while this process reads
/// the server processes' CPU and memory around it. Their results are merged: rates and counts added, the latency
/// histograms merged. The report says where the run stopped: the first failed connect, a server process or generator
/// that died, connections the server closed, or else the connection target reached.
/// </summary>
internal static class Scale
{
    public static async Task<(string, object, string?)> RunAsync(ArgMap args)
    {
        var inv = CultureInfo.InvariantCulture;
        var templates = args.Get("url-template", "ws://127.0.0.1:8080/rooms/broadcast/{room}");
        var gateways = templates.Split(',', StringSplitOptions.RemoveEmptyEntries).Length;
        var perRoom = args.Int("clients", 10);
        var connections = args.Int("connections", 10_000) / perRoom * perRoom;
        var limit = DescriptorLimit();
        var perGenerator = (limit - args.Int("headroom", 1000)) / perRoom * perRoom;
        var rooms = connections / perRoom;
        var generators = args.Int("generators", (connections + perGenerator - 1) / Math.Max(1, perGenerator));
        if (rooms < 1 || perGenerator < perRoom || generators < 1 || (rooms + generators - 1) / generators * perRoom > perGenerator)
        {
            throw new BenchException($"scale: {connections} connections in rooms of {perRoom} over {generators} generators do not fit a descriptor limit of {limit} per process");
        }

        var servers = ServerProcesses.Parse(args);
        var label = args.Get("label", "scale");
        var warmup = TimeSpan.FromSeconds(args.Seconds("warmup", 10));
        var duration = TimeSpan.FromSeconds(args.Seconds("duration", 10));
        var sources = args.Int("sources", 4);
        var rssBefore = servers.RssKiB().Sum(r => r ?? 0);
        var directory = Directory.CreateTempSubdirectory("roomactors-scale-");
        var parts = new List<Part>();
        try
        {
            for (var g = 0; g < generators; g++)
            {
                var share = rooms / generators + (g < rooms % generators ? 1 : 0);
                parts.Add(Part.Start(g + 1, Path.Combine(directory.FullName, $"part{g + 1}.json"),
                [
                    "--url-template", templates, "--rooms", share.ToString(inv), "--clients", perRoom.ToString(inv),
                    "--senders", args.Get("senders", "1"), "--mode", "open", "--rate", args.Get("rate", "1"), "--payload", args.Get("payload", "64"),
                    "--sources", sources.ToString(inv), "--read-buffer", args.Get("read-buffer", "4096"), "--ramp", args.Get("ramp", "0"),
                    "--warmup", warmup.TotalSeconds.ToString(inv), "--duration", duration.TotalSeconds.ToString(inv),
                    "--protocol", args.Get("protocol", "ws"), "--keep-going", "true", "--part", "true", "--label", $"{label}/g{g + 1}",
                ]));
            }

            // The ramp: every generator connects its share; a generator that dies meanwhile is reported, the others go on.
            await Task.WhenAll(parts.Select(p => p.WaitReadyAsync()));
            var ready = parts.Where(p => p.Ready is not null).ToList();
            var connected = ready.Sum(p => p.Ready!.Connected);
            var closedInRamp = ready.Sum(p => p.Ready!.Closed);
            var connectSeconds = ready.Count == 0 ? 0 : ready.Max(p => p.Ready!.ConnectSeconds);
            var rssConnected = servers.RssKiB().Sum(r => r ?? 0);
            var exitedInRamp = servers.Exited().ToList();
            Console.WriteLine($"{label}: {connected} of {connections} connected in {connectSeconds:F1} s by {ready.Count} of {generators} generators, {closedInRamp} of them closed again; " +
                              $"server RSS {rssBefore / 1024} -> {rssConnected / 1024} MiB{(exitedInRamp.Count > 0 ? "; exited: " + string.Join(", ", exitedInRamp) : "")}; measuring");

            foreach (var part in ready)
            {
                await part.GoAsync();
            }

            var figures = await new MeasuredWindow().RunAsync(servers, warmup, duration, new CancellationTokenSource(), [], "generators");
            var results = new List<BenchResult>();
            foreach (var part in ready)
            {
                if (await part.ResultAsync() is { } result)
                {
                    results.Add(result);
                }
            }

            var failures = ready.Sum(p => p.Ready!.Failures);
            var first = ready.Where(p => p.Ready!.FirstFailure is not null).MinBy(p => p.Ready!.FirstFailureSeconds);
            var closed = results.Sum(r => r.ClosedDuringRun);
            var dead = parts.Where(p => p.ExitCode is { } code && (p.Ready is null || code != 0)).Select(p => $"generator {p.Number} exited with {p.ExitCode}: {p.LastError ?? "no message"}").ToList();
            var exited = figures.Servers.Where(s => s.Exited).Select(s => s.Name).ToList();
            var stoppedBy =
                exitedInRamp.Count > 0 ? $"{string.Join(", ", exitedInRamp)} exited while connecting" :
                exited.Count > 0 ? $"{string.Join(", ", exited)} exited during the run" :
                dead.Count > 0 ? dead[0] :
                first is not null ? $"{failures} connects failed, the first after {first.Ready!.FirstFailureSeconds:F1} s: {first.Ready.FirstFailure}" :
                closed > 0 ? $"{closed} connections closed by the server after their upgrade ({closedInRamp} while connecting), e.g. {results.First(r => r.FirstClose is not null).FirstClose}" :
                $"target reached: {connected} connections";

            var histogram = new LongHistogram(1, 60_000_000, 3);
            foreach (var values in results.SelectMany(r => r.LatencyValues ?? []))
            {
                histogram.RecordValueWithCount(values[0], values[1]);
            }

            static double Ms(long micros) => micros / 1000.0;
            var seconds = duration.TotalSeconds;
            var deliveries = results.Sum(r => r.Deliveries);
            var rss = figures.ServerRssKiB;
            var held = connected - closed; // open at the end of the window
            var scale = new ScaleResult(label, gateways, generators, perGenerator, limit, sources, perRoom,
                double.Parse(args.Get("senders", "1"), inv) * double.Parse(args.Get("rate", "1"), inv), connections, connected, connectSeconds, failures,
                closed, stoppedBy, seconds, results.Sum(r => r.Sends), deliveries, results.Sum(r => r.SendsPerSecond), deliveries / seconds,
                histogram.TotalCount == 0 ? double.NaN : Ms(histogram.GetValueAtPercentile(50)),
                histogram.TotalCount == 0 ? double.NaN : Ms(histogram.GetValueAtPercentile(99)),
                histogram.TotalCount == 0 ? double.NaN : Ms(histogram.GetMaxValue()),
                results.Sum(r => r.Lost), results.Sum(r => r.Duplicates), results.Sum(r => r.OrderViolations), figures.ServerCpuPercent, rssBefore, rssConnected, rss,
                held > 0 && rss is { } end ? end / (double)held : null,
                held > 0 && rss is { } after ? (after - rssBefore) / (double)held : null,
                figures.Servers, results.Sum(r => r.GeneratorCpuPercent ?? 0));
            return (scale.Summary(), scale, args.GetValueOrDefault("json"));
        }
        finally
        {
            foreach (var part in parts)
            {
                part.Dispose();
            }

            directory.Delete(recursive: true);
        }
    }

    /// <summary>The histogram's recorded values as (value, count) pairs, for a scale run to merge.</summary>
    public static List<long[]> Values(LongHistogram histogram) =>
        histogram.RecordedValues().Select(v => new[] { v.ValueIteratedTo, v.CountAtValueIteratedTo }).ToList();

    /// <summary>This process's open-file limit (its children inherit it), from /proc/self/limits.</summary>
    private static int DescriptorLimit()
    {
        var line = File.ReadLines("/proc/self/limits").First(l => l.StartsWith("Max open files", StringComparison.Ordinal));
        return int.Parse(line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)[0], CultureInfo.InvariantCulture);
    }

    /// <summary>One generator process: its <c>ready</c> line, its go, its result file.</summary>
    private sealed class Part : IDisposable
    {
        private readonly Process _process;
        private readonly string _json;
        private readonly TaskCompletionSource<PartReady?> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly Task _output;
        private readonly Task _errors;

        private Part(int number, Process process, string json)
        {
            Number = number;
            _process = process;
            _json = json;
            _output = Task.Run(ReadOutputAsync);
            _errors = Task.Run(ReadErrorsAsync);
        }

        public int Number { get; }

        public PartReady? Ready { get; private set; }

        public string? LastError { get; private set; }

        public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

        public static Part Start(int number, string json, string[] args)
        {
            var start = new ProcessStartInfo(Environment.ProcessPath!)
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            start.ArgumentList.Add(typeof(Scale).Assembly.Location);
            foreach (var arg in args.Append("--json").Append(json))
            {
                start.ArgumentList.Add(arg);
            }

            return new Part(number, Process.Start(start) ?? throw new BenchException("could not start a generator"), json);
        }

        public async Task WaitReadyAsync() => Ready = await _ready.Task;

        public async Task GoAsync()
        {
            await _process.StandardInput.WriteLineAsync("go");
            await _process.StandardInput.FlushAsync();
        }

        /// <summary>The generator's result once it exited (bounded); null when it died or wrote none.</summary>
        public async Task<BenchResult?> ResultAsync()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
            try
            {
                await _process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill();
                LastError ??= "did not finish within 120 s of the window's end";
                return null;
            }

            await Task.WhenAll(_output, _errors);
            return File.Exists(_json)
                ? JsonSerializer.Deserialize<BenchResult>(await File.ReadAllTextAsync(_json), new JsonSerializerOptions { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals })
                : null;
        }

        private async Task ReadOutputAsync()
        {
            while (await _process.StandardOutput.ReadLineAsync() is { } line)
            {
                if (line.StartsWith("ready ", StringComparison.Ordinal))
                {
                    _ready.TrySetResult(JsonSerializer.Deserialize<PartReady>(line["ready ".Length..]));
                }
                else
                {
                    Console.WriteLine($"  g{Number}: {line}");
                }
            }

            _ready.TrySetResult(null); // it exited before it was connected
        }

        private async Task ReadErrorsAsync()
        {
            while (await _process.StandardError.ReadLineAsync() is { } line)
            {
                Console.Error.WriteLine($"  g{Number}: {line}");
                LastError = line;
            }
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill();
            }

            _process.Dispose();
        }
    }
}

/// <summary>What the scale run saw. Rates per second of the measured window; memory summed over the server processes.</summary>
internal sealed record ScaleResult(
    string Label, int Gateways, int Generators, int PerGenerator, int DescriptorLimit, int Sources, int ClientsPerRoom,
    double MessagesPerRoomPerSecond, int Requested, int Connected, double ConnectSeconds, int ConnectFailures, int ClosedDuringRun,
    string StoppedBy, double Seconds, long Sends, long Deliveries, double SendsPerSecond, double DeliveriesPerSecond,
    double P50Ms, double P99Ms, double MaxMs, long Lost, long Duplicates, int OrderViolations, double? ServerCpuPercent,
    long RssBeforeKiB, long RssConnectedKiB, long? ServerRssKiB, double? KiBPerConnection, double? KiBPerConnectionAdded,
    List<ServerFigure> Servers, double GeneratorCpuPercent)
{
    public string Summary()
    {
        var inv = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.Append(inv, $"{Label}: {Connected} of {Requested} connections ({Connected - ClosedDuringRun} held at the end) over {Gateways} gateways ({Generators} generator{(Generators == 1 ? "" : "s")} of up to {PerGenerator} each, descriptor limit {DescriptorLimit}; {Sources} source addresses), connected in {ConnectSeconds:F1} s\n");
        text.Append(inv, $"  {MessagesPerRoomPerSecond:F2} messages per room per second: {SendsPerSecond:F0} sends/s, {DeliveriesPerSecond:F0} deliveries/s, p50 {P50Ms:F2} ms, p99 {P99Ms:F2} ms, max {MaxMs:F1} ms, lost {Lost}, duplicates {Duplicates}, order violations {OrderViolations}\n");
        text.Append(inv, $"  server RSS {RssBeforeKiB / 1024} MiB before, {RssConnectedKiB / 1024} MiB connected, {(ServerRssKiB / 1024)?.ToString(inv) ?? "?"} MiB at the window's end: {KiBPerConnection?.ToString("F1", inv) ?? "?"} KiB per connection held ({KiBPerConnectionAdded?.ToString("F1", inv) ?? "?"} KiB added); ");
        text.Append(inv, $"server CPU {ServerCpuPercent?.ToString("F0", inv) ?? "?"}% of a core ({string.Join(", ", Servers.Select(s => $"{s.Name} {s.CpuPercent:F0}% {s.RssKiB / 1024} MiB{(s.Exited ? " EXITED" : "")}"))}); generators {GeneratorCpuPercent:F0}%\n");
        text.Append(inv, $"  stopped by: {StoppedBy}");
        return text.ToString();
    }
}
