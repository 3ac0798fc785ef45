using System.Text;
using System.Text.Json;

namespace RoomActors.Bench;

/// <summary>Turns one runner invocation's JSON results into the markdown table of bench/RESULTS.md.</summary>
internal static class Report
{
    public static async Task WriteAsync(string directory, string output, string header)
    {
        var results = Directory.GetFiles(directory, "*.json")
            .OrderBy(File.GetLastWriteTimeUtc)
            .Select(f => (Name: Path.GetFileNameWithoutExtension(f), Result: JsonSerializer.Deserialize<BenchResult>(File.ReadAllText(f))!))
            .ToList();

        // Files are named {scenario}.{server}.json.
        var scenarios = results.Select(r => r.Name.Split('.')[0]).Distinct().ToList();
        var servers = results.Select(r => r.Name.Split('.')[1]).Distinct().ToList();
        BenchResult? Find(string scenario, string server) => results.FirstOrDefault(r => r.Name == $"{scenario}.{server}").Result;

        var text = new StringBuilder(header).AppendLine().AppendLine();
        text.AppendLine("| scenario | server | deliveries/s | sends/s | p50 ms | p99 ms | max ms | lost | order violations | server CPU µs/delivery | server RSS MiB |");
        text.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var scenario in scenarios)
        {
            foreach (var server in servers)
            {
                if (Find(scenario, server) is { } r)
                {
                    text.AppendLine($"| {scenario} ({r.Rooms}×{r.Clients}, {r.Senders} senders, {r.Mode}) | {server} | {r.DeliveriesPerSecond:F0} | {r.SendsPerSecond:F0} | {r.P50Ms:F2} | {r.P99Ms:F2} | {r.MaxMs:F1} | {r.Lost} | {r.OrderViolations} | {r.ServerCpuMicrosPerDelivery:F2} | {r.ServerRssKiB / 1024.0:F0} |");
                }
            }
        }

        text.AppendLine().AppendLine("Ratios, roomactors / raw-kestrel (same run):").AppendLine();
        text.AppendLine("| scenario | deliveries/s | p99 latency | CPU per delivery |");
        text.AppendLine("|---|---:|---:|---:|");
        foreach (var scenario in scenarios)
        {
            if (Find(scenario, "roomactors") is { } ra && Find(scenario, "raw-kestrel") is { } raw)
            {
                text.AppendLine($"| {scenario} | {ra.DeliveriesPerSecond / raw.DeliveriesPerSecond:F2}× | {ra.P99Ms / raw.P99Ms:F2}× | {ra.ServerCpuMicrosPerDelivery / raw.ServerCpuMicrosPerDelivery:F2}× |");
            }
        }

        text.AppendLine().AppendLine("Budget (issue 5), roomactors against raw Kestrel in this run:").AppendLine();
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

        Line("chat deliveries/s", "≥ 1.1×", "chat", (ra, raw) => ra.DeliveriesPerSecond / raw.DeliveriesPerSecond, v => v >= 1.1);
        Line("chat server CPU per delivery", "≤ 1.0×", "chat", (ra, raw) => (ra.ServerCpuMicrosPerDelivery ?? 0) / (raw.ServerCpuMicrosPerDelivery ?? 1), v => v <= 1.0);
        Line("open loop p99 latency", "≤ 1.5×", "open-20k", (ra, raw) => ra.P99Ms / raw.P99Ms, v => v <= 1.5);
        Line("big room deliveries/s", "≥ 1.0×", "big-room", (ra, raw) => ra.DeliveriesPerSecond / raw.DeliveriesPerSecond, v => v >= 1.0);
        Line("many rooms deliveries/s", "≥ 0.9×", "many-rooms", (ra, raw) => ra.DeliveriesPerSecond / raw.DeliveriesPerSecond, v => v >= 0.9);
        var ours = results.Where(r => r.Name.EndsWith(".roomactors", StringComparison.Ordinal) && r.Result.Senders >= 2).ToList();
        text.AppendLine($"| 0 lost, 0 order violations (≥ 2 senders) | 0 / 0 | {ours.Sum(r => r.Result.Lost)} / {ours.Sum(r => r.Result.OrderViolations)} | {(ours.All(r => r.Result.Lost == 0 && r.Result.OrderViolations == 0) ? "yes" : "**no**")} |");

        await File.WriteAllTextAsync(output, text.ToString());
    }
}
