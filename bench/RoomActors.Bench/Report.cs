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
        var results = files.Where(f => !NameOf(f).StartsWith("idle.", StringComparison.Ordinal) && !NameOf(f).StartsWith("cold.", StringComparison.Ordinal))
            .Select(f => (Name: NameOf(f), Result: JsonSerializer.Deserialize<BenchResult>(File.ReadAllText(f))!))
            .ToList();
        var idle = files.Where(f => NameOf(f).StartsWith("idle.", StringComparison.Ordinal))
            .Select(f => (Server: NameOf(f)["idle.".Length..], Result: JsonSerializer.Deserialize<IdleResult>(File.ReadAllText(f))!))
            .ToList();
        var cold = files.Where(f => NameOf(f).StartsWith("cold.", StringComparison.Ordinal))
            .Select(f => (Server: NameOf(f)["cold.".Length..], Result: JsonSerializer.Deserialize<ColdResult>(File.ReadAllText(f))!))
            .ToList();

        // Files are named {scenario}.{server}.json.
        var scenarios = results.Select(r => r.Name.Split('.')[0]).Distinct().ToList();
        var servers = results.Select(r => r.Name.Split('.')[1]).Distinct().ToList();
        BenchResult? Find(string scenario, string server) => results.FirstOrDefault(r => r.Name == $"{scenario}.{server}").Result;

        var text = new StringBuilder(header).AppendLine().AppendLine();
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

        foreach (var baseline in new[] { "raw-kestrel", "signalr" })
        {
            text.AppendLine().AppendLine($"Ratios, roomactors / {baseline} (same run):").AppendLine();
            text.AppendLine("| scenario | deliveries/s | p99 latency | CPU per delivery |");
            text.AppendLine("|---|---:|---:|---:|");
            foreach (var scenario in scenarios)
            {
                if (Find(scenario, "roomactors") is { } ra && Find(scenario, baseline) is { } other)
                {
                    text.AppendLine($"| {scenario} | {ra.DeliveriesPerSecond / other.DeliveriesPerSecond:F2}× | {ra.P99Ms / other.P99Ms:F2}× | {ra.ServerCpuMicrosPerDelivery / other.ServerCpuMicrosPerDelivery:F2}× |");
                }
            }
        }

        if (Find("chat-v1", "roomactors") is { } enveloped && Find("chat", "roomactors") is { } plain)
        {
            text.AppendLine().AppendLine("The roomactors.v1 envelope (`m SEQ\\n` on every frame both ways), chat-v1 / chat, roomactors both:").AppendLine();
            text.AppendLine("| deliveries/s | p99 latency | CPU per delivery |");
            text.AppendLine("|---:|---:|---:|");
            text.AppendLine($"| {enveloped.DeliveriesPerSecond / plain.DeliveriesPerSecond:F2}× | {enveloped.P99Ms / plain.P99Ms:F2}× | {enveloped.ServerCpuMicrosPerDelivery / plain.ServerCpuMicrosPerDelivery:F2}× |");
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
            text.AppendLine().AppendLine("Cold activation (counter rooms with their state in Redis, first request after a silo restart, one at a time; then the same request warm):").AppendLine();
            text.AppendLine("| server | rooms | cold p50 ms | cold p99 ms | cold max ms | warm p50 ms | warm p99 ms | rooms without their state |");
            text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var (server, r) in cold)
            {
                text.AppendLine($"| {server} | {r.Rooms} | {r.ColdP50Ms:F2} | {r.ColdP99Ms:F2} | {r.ColdMaxMs:F1} | {r.WarmP50Ms:F2} | {r.WarmP99Ms:F2} | {r.RoomsWithoutState} |");
            }
        }

        text.AppendLine().AppendLine("Budget (issue 5), roomactors against the baselines in this run:").AppendLine();
        text.AppendLine("| line | target | measured | met |");
        text.AppendLine("|---|---|---:|---|");
        void Line(string line, string target, string scenario, Func<BenchResult, BenchResult, double> measure, Func<double, bool> met, string format = "F2")
        {
            if (Find(scenario, "roomactors") is { } ra && Find(scenario, "raw-kestrel") is { } raw)
            {
                var value = measure(ra, raw);
                text.AppendLine($"| {line} | {target} | {value.ToString(format)}× | {(met(value) ? "yes" : "**no**")} |");
            }
        }

        void SignalRLine(string scenario)
        {
            if (Find(scenario, "roomactors") is { } ra && Find(scenario, "signalr") is { } sr)
            {
                var value = ra.DeliveriesPerSecond / sr.DeliveriesPerSecond;
                if (ra.Mode.StartsWith("open", StringComparison.Ordinal))
                {
                    // An open loop delivers what is offered: the ratio is 1 by construction; latency tells them apart.
                    text.AppendLine($"| {scenario} deliveries/s vs SignalR | ≥ 1.4× | {value:F2}× (open loop: offered load; p99 {ra.P99Ms / sr.P99Ms:F2}× SignalR's) | n/a |");
                    return;
                }

                text.AppendLine($"| {scenario} deliveries/s vs SignalR | ≥ 1.4× | {value:F2}× | {(value >= 1.4 ? "yes" : "**no**")} |");
            }
        }

        Line("chat deliveries/s", "≥ 1.1×", "chat", (ra, raw) => ra.DeliveriesPerSecond / raw.DeliveriesPerSecond, v => v >= 1.1);
        Line("chat server CPU per delivery", "≤ 1.0×", "chat", (ra, raw) => (ra.ServerCpuMicrosPerDelivery ?? 0) / (raw.ServerCpuMicrosPerDelivery ?? 1), v => v <= 1.0);
        Line("open loop p99 latency", "≤ 1.5×", "open-20k", (ra, raw) => ra.P99Ms / raw.P99Ms, v => v <= 1.5);
        Line("big room deliveries/s", "≥ 1.0×", "big-room", (ra, raw) => ra.DeliveriesPerSecond / raw.DeliveriesPerSecond, v => v >= 1.0);
        Line("many rooms deliveries/s", "≥ 0.9×", "many-rooms", (ra, raw) => ra.DeliveriesPerSecond / raw.DeliveriesPerSecond, v => v >= 0.9);
        foreach (var scenario in scenarios)
        {
            SignalRLine(scenario);
        }

        if (idle.FirstOrDefault(i => i.Server == "roomactors").Result is { } ourIdle)
        {
            text.AppendLine($"| idle connection, server memory | ≤ 16 KiB | {ourIdle.KiBPerConnection:F1} KiB | {(ourIdle.KiBPerConnection <= 16 ? "yes" : "**no**")} |");
        }

        var ours = results.Where(r => r.Name.EndsWith(".roomactors", StringComparison.Ordinal) && r.Result.Senders >= 2).ToList();
        text.AppendLine($"| 0 lost, 0 order violations (≥ 2 senders) | 0 / 0 | {ours.Sum(r => r.Result.Lost)} / {ours.Sum(r => r.Result.OrderViolations)} | {(ours.All(r => r.Result.Lost == 0 && r.Result.OrderViolations == 0) ? "yes" : "**no**")} |");

        text.AppendLine().AppendLine("How these are measured, what each change bought, and for a line not met the gap, what was tried and what is")
            .AppendLine("next: [bench/README.md](README.md). Runs on a shared 2-core machine vary by about ±10%; compare ratios within one run.");

        await File.WriteAllTextAsync(output, text.ToString());
    }
}
