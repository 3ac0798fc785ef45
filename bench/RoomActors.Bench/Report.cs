using System.Text;
using System.Text.Json;

namespace RoomActors.Bench;

/// <summary>Turns one runner invocation's JSON results into the markdown table of bench/RESULTS.md.</summary>
internal static class Report
{
    public static async Task WriteAsync(string directory, string output, string header)
    {
        var files = Directory.GetFiles(directory, "*.json").OrderBy(File.GetLastWriteTimeUtc).ToList();
        static string NameOf(string file) => Path.GetFileNameWithoutExtension(file);
        static bool Special(string name) => name.StartsWith("idle.", StringComparison.Ordinal) || name.StartsWith("cold.", StringComparison.Ordinal) || name.StartsWith("conference", StringComparison.Ordinal) || name.StartsWith("venue", StringComparison.Ordinal) || name.StartsWith("docs-", StringComparison.Ordinal) || name.StartsWith("scale.", StringComparison.Ordinal);
        var results = files.Where(f => !Special(NameOf(f)))
            .Select(f => (Name: NameOf(f), Result: JsonSerializer.Deserialize<BenchResult>(File.ReadAllText(f), new JsonSerializerOptions { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals })!))
            .ToList();
        var idle = files.Where(f => NameOf(f).StartsWith("idle.", StringComparison.Ordinal))
            .Select(f => (Server: NameOf(f)["idle.".Length..], Result: JsonSerializer.Deserialize<IdleResult>(File.ReadAllText(f))!))
            .ToList();
        var cold = files.Where(f => NameOf(f).StartsWith("cold.", StringComparison.Ordinal))
            .Select(f => (Server: NameOf(f)["cold.".Length..], Result: JsonSerializer.Deserialize<ColdResult>(File.ReadAllText(f))!))
            .ToList();
        var conference = files.Where(f => NameOf(f).StartsWith("conference", StringComparison.Ordinal))
            .Select(f => JsonSerializer.Deserialize<ConferenceResult>(File.ReadAllText(f), new JsonSerializerOptions { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals })!)
            .ToList();

        // Files are named {scenario}.{server}.json, or {scenario}.{server}.r{round}.json with bench/run --repeat: each round
        // runs every server once, so that round k of two servers ran minutes apart at most.
        static string ServerOf(string name) => name.Split('.')[1];
        var scenarios = results.Select(r => r.Name.Split('.')[0]).Distinct().ToList();
        var servers = results.Select(r => ServerOf(r.Name)).Distinct().ToList();
        List<(int Round, BenchResult Result)> Rounds(string scenario, string server) =>
            [.. results.Where(r => r.Name == $"{scenario}.{server}" || r.Name.StartsWith($"{scenario}.{server}.r", StringComparison.Ordinal))
                .Select(r => (Round(r.Name), r.Result)).OrderBy(r => r.Item1)];
        List<BenchResult> Runs(string scenario, string server) => [.. Rounds(scenario, server).Select(r => r.Result)];
        static int Round(string name) => name.Split('.') is [_, _, var round] && int.TryParse(round.AsSpan(1), out var k) ? k : 0;

        // The median run: by deliveries/s in a closed loop, by p99 latency in an open one (it delivers what is offered).
        BenchResult? Find(string scenario, string server) => Runs(scenario, server) is { Count: > 0 } runs
            ? runs.OrderBy(r => r.Mode.StartsWith("open", StringComparison.Ordinal) ? r.P99Ms : r.DeliveriesPerSecond).ElementAt(runs.Count / 2)
            : null;

        // A ratio of two servers: the median of the rounds' ratios (each round's two runs against each other), with their
        // range when there are several.
        (double Median, string Range) Ratio(string scenario, string ours, string baseline, Func<BenchResult, BenchResult, double> measure)
        {
            // Round k against round k (a round a server failed has no pair); with no round in common, the median runs.
            var values = Rounds(scenario, ours).Join(Rounds(scenario, baseline), a => a.Round, b => b.Round, (a, b) => measure(a.Result, b.Result))
                .Order().ToList();
            if (values.Count == 0)
            {
                return (measure(Find(scenario, ours)!, Find(scenario, baseline)!), "");
            }

            return (values[values.Count / 2], values.Count > 1 ? $" ({values[0]:F2}–{values[^1]:F2} in {values.Count} rounds)" : "");
        }

        string RatioText(string scenario, string ours, string baseline, Func<BenchResult, BenchResult, double> measure)
        {
            var (median, range) = Ratio(scenario, ours, baseline, measure);
            return $"{median:F2}×{range}";
        }

        var rounds = results.Max(r => (int?)Round(r.Name)) ?? 0;

        var text = new StringBuilder(header).AppendLine().AppendLine();
        if (results.Count > 0)
        {
            text.AppendLine("| scenario | server | deliveries/s | sends/s | p50 ms | p99 ms | max ms | lost | order violations | server CPU µs/delivery | server RSS MiB | CPU % server / generator |");
            text.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var scenario in scenarios)
            {
                foreach (var server in servers)
                {
                    if (Find(scenario, server) is { } r)
                    {
                        text.AppendLine($"| {scenario} ({r.Rooms}×{r.Clients}, {r.Senders} senders, {r.Mode}) | {server} | {r.DeliveriesPerSecond:F0} | {r.SendsPerSecond:F0} | {r.P50Ms:F2} | {r.P99Ms:F2} | {r.MaxMs:F1} | {r.Lost} | {r.OrderViolations} | {r.ServerCpuMicrosPerDelivery:F2} | {r.ServerRssKiB / 1024.0:F0} | {r.ServerCpuPercent:F0} / {r.GeneratorCpuPercent:F0} |");
                    }
                }
            }

            // The all-in-one against each baseline (a baseline not in this run, e.g. workerd when npm could not install it, is left out); the cluster (redis, 2 silos, 2 gateways) against SignalR's Redis backplane on 2 servers.
            foreach (var (ours, baseline) in new[] { ("roomactors", "raw-kestrel"), ("roomactors", "signalr"), ("roomactors", "workerd"), ("roomactors-cluster", "signalr-redis") })
            {
                var pairs = scenarios.Where(s => Find(s, ours) is not null && Find(s, baseline) is not null).ToList();
                if (pairs.Count == 0)
                {
                    continue;
                }

                text.AppendLine().AppendLine($"Ratios, {ours} / {baseline} (same run{(rounds > 1 ? $"; the median of the {rounds} rounds' ratios" : "")}):").AppendLine();
                text.AppendLine("| scenario | deliveries/s | p99 latency | CPU per delivery |");
                text.AppendLine("|---|---:|---:|---:|");
                foreach (var scenario in pairs)
                {
                    text.AppendLine($"| {scenario} | {RatioText(scenario, ours, baseline, (a, b) => a.DeliveriesPerSecond / b.DeliveriesPerSecond)} | {RatioText(scenario, ours, baseline, (a, b) => a.P99Ms / b.P99Ms)} | {RatioText(scenario, ours, baseline, (a, b) => (a.ServerCpuMicrosPerDelivery ?? double.NaN) / (b.ServerCpuMicrosPerDelivery ?? double.NaN))} |");
                }
            }

            var clustered = results.Where(r => r.Result.Servers is { Count: > 1 }).ToList();
            foreach (var (name, r) in clustered)
            {
                text.AppendLine().AppendLine($"{name.Replace('.', '/')}, per process (CPU % of a core over the window, RSS at its end): {string.Join(", ", r.Servers!.Select(s => $"{s.Name} {s.CpuPercent:F0}% {s.RssKiB / 1024} MiB{(s.Exited ? " (**exited during the run**)" : "")}"))}.");
            }

            if (clustered.Count > 0)
            {
                text.AppendLine().AppendLine("| line | target | measured | met |");
                text.AppendLine("|---|---|---:|---|");
                foreach (var server in clustered.Select(r => ServerOf(r.Name)).Distinct())
                {
                    var runs = results.Where(r => ServerOf(r.Name) == server && r.Result.Senders >= 2).ToList();
                    var ok = runs.All(r => r.Result.Lost == 0 && r.Result.OrderViolations == 0 && r.Result.ClosedDuringRun == 0);
                    text.AppendLine($"| {server}: 0 lost, 0 order violations (≥ 2 senders), no connection closed | 0 / 0 / 0 | {runs.Sum(r => r.Result.Lost)} / {runs.Sum(r => r.Result.OrderViolations)} / {runs.Sum(r => r.Result.ClosedDuringRun)} | {(ok ? "yes" : "**no**")} |");
                }
            }

            if (Find("chat-v1", "roomactors") is { } enveloped && Find("chat", "roomactors") is { } plain)
            {
                text.AppendLine().AppendLine("The roomactors.v1 envelope (`m SEQ\\n` on every frame both ways), chat-v1 / chat, roomactors both:").AppendLine();
                text.AppendLine("| deliveries/s | p99 latency | CPU per delivery |");
                text.AppendLine("|---:|---:|---:|");
                text.AppendLine($"| {enveloped.DeliveriesPerSecond / plain.DeliveriesPerSecond:F2}× | {enveloped.P99Ms / plain.P99Ms:F2}× | {enveloped.ServerCpuMicrosPerDelivery / plain.ServerCpuMicrosPerDelivery:F2}× |");
            }
        }

        if (idle.Count > 0)
        {
            text.AppendLine().AppendLine("Idle density (connections held idle past RoomActors' hibernation time, then one message woke each of the first rooms):").AppendLine();
            text.AppendLine("| server | idle connections | source addresses | connect s | server RSS before → after MiB | KiB per connection | closed while idle | rooms woke | first failure |");
            text.AppendLine("|---|---:|---:|---:|---|---:|---:|---:|---|");
            foreach (var (server, r) in idle)
            {
                text.AppendLine($"| {server} | {r.Connected} / {r.Requested} | {r.Sources} | {r.ConnectSeconds:F1} | {r.RssBeforeKiB / 1024} → {r.RssAfterKiB / 1024} | {r.KiBPerConnection:F1} | {r.ClosedWhileIdle} | {r.WokenRooms} / {r.WakeRooms} | {r.FirstError ?? "none"} |");
            }
        }

        if (cold.Count > 0)
        {
            text.AppendLine().AppendLine("Cold activation (counter rooms with their state in Redis, one request each after a silo restart, one at a time, once the process has warmed up on other rooms activated the same way; then the same request warm):").AppendLine();
            text.AppendLine("| server | rooms | first request after the restart ms | warm-up rooms | cold p50 ms | cold p99 ms | cold max ms | warm p50 ms | warm p99 ms | rooms without their state |");
            text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var (server, r) in cold)
            {
                text.AppendLine($"| {server} | {r.Rooms} | {r.FirstRequestMs:F1} | {r.WarmupRooms} | {r.ColdP50Ms:F2} | {r.ColdP99Ms:F2} | {r.ColdMaxMs:F1} | {r.WarmP50Ms:F2} | {r.WarmP99Ms:F2} | {r.RoomsWithoutState} |");
            }
        }

        if (results.Any(r => ServerOf(r.Name) == "roomactors") || idle.Count > 0)
        {
            text.AppendLine().AppendLine("Budget (issue 15; issue 5's SignalR lines), roomactors against the baselines in this run:").AppendLine();
            text.AppendLine("| line | target | measured | met |");
            text.AppendLine("|---|---|---:|---|");
            void Line(string line, string target, string scenario, Func<BenchResult, BenchResult, double> measure, Func<double, bool> met)
            {
                if (Find(scenario, "roomactors") is not null && Find(scenario, "raw-kestrel") is not null)
                {
                    var (value, range) = Ratio(scenario, "roomactors", "raw-kestrel", measure);
                    text.AppendLine($"| {line} | {target} | {value:F2}×{range} | {(met(value) ? "yes" : "**no**")} |");
                }
            }

            void SignalRLine(string scenario)
            {
                if (Find(scenario, "roomactors") is { } ra && Find(scenario, "signalr") is not null)
                {
                    var (value, range) = Ratio(scenario, "roomactors", "signalr", (a, b) => a.DeliveriesPerSecond / b.DeliveriesPerSecond);
                    if (ra.Mode.StartsWith("open", StringComparison.Ordinal))
                    {
                        // An open loop delivers what is offered: the ratio is 1 by construction; latency tells them apart.
                        text.AppendLine($"| {scenario} deliveries/s vs SignalR | ≥ 1.4× | {value:F2}× (open loop: offered load; p99 {RatioText(scenario, "roomactors", "signalr", (a, b) => a.P99Ms / b.P99Ms)} SignalR's) | n/a |");
                        return;
                    }

                    text.AppendLine($"| {scenario} deliveries/s vs SignalR | ≥ 1.4× | {value:F2}×{range} | {(value >= 1.4 ? "yes" : "**no**")} |");
                }
            }

            Line("chat deliveries/s", "≥ 1.2×", "chat", (ra, raw) => ra.DeliveriesPerSecond / raw.DeliveriesPerSecond, v => v >= 1.2);
            Line("chat server CPU per delivery", "≤ 1.0×", "chat", (ra, raw) => (ra.ServerCpuMicrosPerDelivery ?? 0) / (raw.ServerCpuMicrosPerDelivery ?? 1), v => v <= 1.0);
            Line("open loop p99 latency", "≤ 1.0×", "open-20k", (ra, raw) => ra.P99Ms / raw.P99Ms, v => v <= 1.0);
            Line("big room deliveries/s", "≥ 1.3×", "big-room", (ra, raw) => ra.DeliveriesPerSecond / raw.DeliveriesPerSecond, v => v >= 1.3);
            Line("many rooms deliveries/s", "≥ 1.0×", "many-rooms", (ra, raw) => ra.DeliveriesPerSecond / raw.DeliveriesPerSecond, v => v >= 1.0);
            foreach (var scenario in scenarios)
            {
                SignalRLine(scenario);
            }

            if (idle.FirstOrDefault(i => i.Server == "roomactors").Result is { } ourIdle)
            {
                text.AppendLine($"| idle connection, server memory | ≤ 12 KiB | {ourIdle.KiBPerConnection:F1} KiB | {(ourIdle.KiBPerConnection <= 12 ? "yes" : "**no**")} |");
            }

            if (cold.FirstOrDefault(c => c.Server == "roomactors").Result is { } ourCold)
            {
                text.AppendLine($"| cold activation from Redis, p99 | ≤ 5 ms | {ourCold.ColdP99Ms:F2} ms | {(ourCold.ColdP99Ms <= 5 ? "yes" : "**no**")} |");
            }

            var ours = results.Where(r => ServerOf(r.Name) == "roomactors" && r.Result.Senders >= 2).ToList();
            text.AppendLine($"| 0 lost, 0 order violations (≥ 2 senders) | 0 / 0 | {ours.Sum(r => r.Result.Lost)} / {ours.Sum(r => r.Result.OrderViolations)} | {(ours.All(r => r.Result.Lost == 0 && r.Result.OrderViolations == 0) ? "yes" : "**no**")} |");
        }

        Documents(text, files);
        Conference(text, conference);
        Scale(text, files.Where(f => NameOf(f).StartsWith("scale.", StringComparison.Ordinal))
            .Select(f => JsonSerializer.Deserialize<ScaleResult>(File.ReadAllText(f), new JsonSerializerOptions { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals })!)
            .ToList());

        text.AppendLine().AppendLine("How these are measured, what each change bought, and for a line not met the gap, what was tried and what is")
            .AppendLine("next: [bench/README.md](README.md). Runs on a shared 2-core machine vary by about ±10%; compare ratios within one run.");

        await File.WriteAllTextAsync(output, text.ToString());
    }

    /// <summary>
    /// The documents section: docs-editors (closed loop), docs-editors-open and docs-sync against each server, and the
    /// ratios RoomActors / y-websocket (the reference server, run in the same invocation).
    /// </summary>
    private static void Documents(StringBuilder text, List<string> files)
    {
        var options = new JsonSerializerOptions { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };
        static (string Scenario, string Server) Split(string file)
        {
            var name = Path.GetFileNameWithoutExtension(file);
            return (name[..name.IndexOf('.', StringComparison.Ordinal)], name[(name.IndexOf('.', StringComparison.Ordinal) + 1)..]);
        }

        var editors = files.Where(f => Path.GetFileName(f).StartsWith("docs-editors", StringComparison.Ordinal))
            .Select(f => (Key: Split(f), Result: JsonSerializer.Deserialize<DocsEditorsResult>(File.ReadAllText(f), options)!)).ToList();
        var syncs = files.Where(f => Path.GetFileName(f).StartsWith("docs-sync.", StringComparison.Ordinal))
            .Select(f => (Key: Split(f), Result: JsonSerializer.Deserialize<DocsSyncResult>(File.ReadAllText(f), options)!)).ToList();
        if (editors.Count == 0 && syncs.Count == 0)
        {
            return;
        }

        static string F(double? value, string format) => value is { } v && !double.IsNaN(v) ? v.ToString(format, System.Globalization.CultureInfo.InvariantCulture) : "–";
        text.AppendLine().AppendLine("Documents (Yjs over the y-websocket protocol: RoomActors' `doc` room against y-websocket 1.5.4's own Node server, `bin/server.js`; real Yjs updates of bench/yjs; latency from an editor's send to each other editor's receipt, the sender's echo not counted):").AppendLine();
        if (editors.Count > 0)
        {
            text.AppendLine("| scenario | server | updates/s (at every other editor) | deliveries/s | p50 ms | p99 ms | max ms | lost | duplicates | out of order | not recognised | echoes | server CPU % | server CPU µs/update | server RSS MiB | generator CPU % |");
            text.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var ((scenario, server), r) in editors)
            {
                var load = r.Mode == "closed" ? $"window {r.Window}" : r.Mode;
                text.AppendLine($"| {scenario} ({r.Editors} editors, {load}) | {server} | {F(r.UpdatesPerSecond, "F0")} | {F(r.DeliveriesPerSecond, "F0")} | {F(r.P50Ms, "F2")} | {F(r.P99Ms, "F2")} | {F(r.MaxMs, "F1")} | {r.Lost} | {r.Duplicates} | {r.OutOfOrder} | {r.Unrecognised} | {r.Echoes} | {F(r.ServerCpuPercent, "F0")} | {F(r.ServerCpuMicrosPerUpdate, "F1")} | {(r.ServerRssKiB ?? 0) / 1024} | {F(r.GeneratorCpuPercent, "F0")} |");
            }

            foreach (var ((scenario, server), r) in editors.Where(e => e.Result.Stalls > 0 || e.Result.EditorsExhausted > 0 || e.Result.EditorsClosed > 0 || e.Result.LongestPauseMs > 1000))
            {
                text.AppendLine().AppendLine($"**{scenario}/{server}**: {r.Stalls} stalls (no update of an editor's window reached everyone within 10 s), {r.EditorsExhausted} editors ran out of precomputed updates before the end (the rate is then understated), {r.EditorsClosed} editors closed by the server{(r.FirstClose is null ? "" : $" (first: {r.FirstClose.Replace("|", "/", StringComparison.Ordinal)})")}; the longest stretch of the window in which no update reached every editor: {r.LongestPauseMs / 1000:F1} s.");
            }
        }

        if (syncs.Count > 0)
        {
            text.AppendLine().AppendLine("| scenario | server | document bytes | new clients | connect → step 2 p50 ms | p99 ms | max ms | step 2 bytes | whole document | server CPU ms per sync | server RSS MiB | load s |");
            text.AppendLine("|---|---|---:|---:|---:|---:|---:|---|---|---:|---:|---:|");
            foreach (var ((scenario, server), r) in syncs)
            {
                var sizes = r.MinStep2Bytes == r.MaxStep2Bytes ? $"{r.MaxStep2Bytes}" : $"{r.MinStep2Bytes}–{r.MaxStep2Bytes}";
                text.AppendLine($"| {scenario} | {server} | {r.DocumentBytes} | {r.Clients} | {F(r.P50Ms, "F2")} | {F(r.P99Ms, "F2")} | {F(r.MaxMs, "F1")} | {sizes} | {(r.Complete == r.Clients ? "yes" : $"**{r.Complete} of {r.Clients}**")} | {F(r.ServerCpuMsPerSync, "F1")} | {(r.ServerRssKiB ?? 0) / 1024} | {F(r.LoadSeconds, "F2")} |");
            }
        }

        var ratios = new List<string>();
        foreach (var ((scenario, server), ra) in editors.Where(e => e.Key.Server == "roomactors"))
        {
            if (editors.FirstOrDefault(e => e.Key == (scenario, "y-websocket")).Result is { } yws)
            {
                ratios.Add($"| {scenario} | {ra.UpdatesPerSecond / yws.UpdatesPerSecond:F2}× | {ra.DeliveriesPerSecond / yws.DeliveriesPerSecond:F2}× | {ra.P50Ms / yws.P50Ms:F2}× | {ra.P99Ms / yws.P99Ms:F2}× | {F(ra.ServerCpuMicrosPerUpdate / yws.ServerCpuMicrosPerUpdate, "F2")}× |");
            }
        }

        foreach (var ((scenario, server), ra) in syncs.Where(e => e.Key.Server == "roomactors"))
        {
            if (syncs.FirstOrDefault(e => e.Key == (scenario, "y-websocket")).Result is { } yws)
            {
                ratios.Add($"| {scenario} | | | {ra.P50Ms / yws.P50Ms:F2}× | {ra.P99Ms / yws.P99Ms:F2}× | {F(ra.ServerCpuMsPerSync / yws.ServerCpuMsPerSync, "F2")}× (per sync) |");
            }
        }

        if (ratios.Count > 0)
        {
            text.AppendLine().AppendLine("Ratios, roomactors / y-websocket (same run; an open loop's rates are the offered load, its latencies tell the servers apart):").AppendLine();
            text.AppendLine("| scenario | updates/s | deliveries/s | p50 latency | p99 latency | server CPU per update |");
            text.AppendLine("|---|---:|---:|---:|---:|---:|");
            ratios.ForEach(line => text.AppendLine(line));
        }
    }

    /// <summary>The scale section: as many connections as several gateways' descriptor limits allow, a message per room per second.</summary>
    private static void Scale(StringBuilder text, List<ScaleResult> runs)
    {
        if (runs.Count == 0)
        {
            return;
        }

        static string F(double? value, string format) => value is { } v && !double.IsNaN(v) ? v.ToString(format, System.Globalization.CultureInfo.InvariantCulture) : "–";
        text.AppendLine().AppendLine("Scale (RoomActors on redis-server, one silo and several standalone gateways; rooms of 10 clients spread over every gateway, from 4 source addresses; open loop; memory summed over the server processes):").AppendLine();
        text.AppendLine("| run | held at the end / connected / target | gateways | generators | connect s | messages per room/s | deliveries/s | p50 ms | p99 ms | max ms | lost | duplicates | order violations | server CPU % | server RSS before → connected → end MiB | KiB per connection held (added) | stopped by |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|");
        foreach (var r in runs)
        {
            text.AppendLine($"| {r.Label} | {r.Connected - r.ClosedDuringRun} / {r.Connected} / {r.Requested} | {r.Gateways} | {r.Generators} | {r.ConnectSeconds:F1} | {r.MessagesPerRoomPerSecond:F2} | {r.DeliveriesPerSecond:F0} | {F(r.P50Ms, "F2")} | {F(r.P99Ms, "F2")} | {F(r.MaxMs, "F1")} | {r.Lost} | {r.Duplicates} | {r.OrderViolations} | {F(r.ServerCpuPercent, "F0")} | {r.RssBeforeKiB / 1024} → {r.RssConnectedKiB / 1024} → {(r.ServerRssKiB ?? 0) / 1024} | {F(r.KiBPerConnection, "F1")} ({F(r.KiBPerConnectionAdded, "F1")}) | {r.StoppedBy.Replace("|", "/", StringComparison.Ordinal)} |");
        }

        foreach (var r in runs)
        {
            text.AppendLine().AppendLine($"{r.Label}, per process (CPU % of a core over the window, RSS at its end): {string.Join(", ", r.Servers.Select(s => $"{s.Name} {F(s.CpuPercent, "F0")}% {s.RssKiB / 1024} MiB{(s.Exited ? " (**exited during the run**)" : "")}"))}; generators {r.GeneratorCpuPercent:F0}%.");
        }
    }

    /// <summary>The conference section: the MUD's attendees (all-in-one and cluster), latencies, rates and the final check.</summary>
    private static void Conference(StringBuilder text, List<ConferenceResult> runs)
    {
        if (runs.Count == 0)
        {
            return;
        }

        static string F(double value, string format = "F1") => double.IsNaN(value) ? "–" : value.ToString(format, System.Globalization.CultureInfo.InvariantCulture);
        text.AppendLine().AppendLine("Conference (the MUD, samples/Mud: attendees move every 30 s, say something every 20 s, whisper every 120 s and shout every 600 s on average; latency from the sender's send to each other attendee in the room, a move from `/go` to the new room's `room` message):").AppendLine();
        text.AppendLine("| run | attendees online / signed up | rooms | gateways | messages/s | deliveries/s (say) | say p50 ms | say p99 ms | move p50 ms | move p99 ms | whisper p99 ms | shout p99 ms | server CPU % | server RSS MiB | generator CPU % | room lists |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        foreach (var r in runs)
        {
            var check = r.Consistency.Ok
                ? $"OK (sum of counts {r.Consistency.SumOfCounts})"
                : $"**{r.Consistency.Summary().Replace("|", "/", StringComparison.Ordinal)}**";
            text.AppendLine($"| {r.Label} | {r.OnlineAtEnd} / {r.Attendees} | {r.Rooms} | {r.Gateways} | {F(r.MessagesPerSecond)} | {F(r.DeliveriesPerSecond, "F0")} ({F(r.SayDeliveriesPerSecond, "F0")}) | {F(r.SayP50Ms, "F2")} | {F(r.SayP99Ms, "F2")} | {F(r.MoveP50Ms, "F2")} | {F(r.MoveP99Ms, "F2")} | {F(r.WhisperP99Ms, "F2")} | {F(r.ShoutP99Ms, "F2")} | {F(r.ServerCpuPercent ?? double.NaN, "F0")} | {(r.ServerRssKiB ?? 0) / 1024} | {F(r.GeneratorCpuPercent, "F0")} | {check} |");
        }

        foreach (var r in runs.Where(r => r.Servers.Count > 1 || r.Servers.Any(s => s.Exited)))
        {
            text.AppendLine().AppendLine($"{r.Label}, per process (CPU % of a core over the window, RSS at its end): {string.Join(", ", r.Servers.Select(s => $"{s.Name} {F(s.CpuPercent, "F0")}% {s.RssKiB / 1024} MiB{(s.Exited ? " (**exited during the run**)" : "")}"))}.");
        }

        foreach (var r in runs.Where(r => r.MoveTimeouts + r.MovesRefused + r.ArrivedElsewhere + r.UnexpectedCloses + r.ConnectFailures > 0 || r.Errors.Count > 0))
        {
            text.AppendLine().AppendLine($"{r.Label}: move timeouts {r.MoveTimeouts}, moves refused {r.MovesRefused}, arrived elsewhere {r.ArrivedElsewhere}, unexpected closes {r.UnexpectedCloses}, connect failures {r.ConnectFailures}; close codes: {string.Join(", ", r.CloseCodes.Select(c => $"{c.Key} ×{c.Value}"))}; errors: {(r.Errors.Count == 0 ? "none" : string.Join(", ", r.Errors.Select(e => $"\"{e.Key}\" ×{e.Value}")))}.");
        }

        text.AppendLine().AppendLine("| line | target | measured | met |");
        text.AppendLine("|---|---|---:|---|");
        foreach (var r in runs)
        {
            var met = r.SayP99Ms < 50 && r.Consistency.Ok;
            text.AppendLine($"| {r.Label}: say delivery p99, room lists consistent | < 50 ms, yes | {F(r.SayP99Ms, "F2")} ms, {(r.Consistency.Ok ? "yes" : "no")} | {(met ? "yes" : "**no**")} |");
        }
    }
}
