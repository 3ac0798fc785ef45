using System.Text.Json;
using RoomActors.Bench;

namespace RoomActors.Tests.Bench;

/// <summary>bench/run's report: one run per server, or rounds (<c>--repeat</c>) reduced to medians.</summary>
public sealed class ReportTests : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("roomactors-report-");

    public void Dispose() => _directory.Delete(recursive: true);

    [Fact]
    public async Task Rounds_give_each_server_its_median_run_and_each_ratio_the_median_of_the_rounds_ratios()
    {
        // Round by round, roomactors / raw-kestrel: 60/80 = 0.75, 66/60 = 1.10, 63/70 = 0.90, so the median ratio is 0.90
        // (0.75–1.10); p99: 1.50, 0.80, 1.10. The table's rows are each server's median run by deliveries/s.
        Write("many-rooms.raw-kestrel.r1", 80_000, p99: 100);
        Write("many-rooms.roomactors.r1", 60_000, p99: 150);
        Write("many-rooms.raw-kestrel.r2", 60_000, p99: 120);
        Write("many-rooms.roomactors.r2", 66_000, p99: 96);
        Write("many-rooms.raw-kestrel.r3", 70_000, p99: 110);
        Write("many-rooms.roomactors.r3", 63_000, p99: 121);

        var text = await ReportAsync();

        Assert.Contains("| many-rooms (2000×2, 2 senders, closed) | roomactors | 63000 |", text);
        Assert.Contains("| many-rooms (2000×2, 2 senders, closed) | raw-kestrel | 70000 |", text);
        Assert.Contains("| many-rooms | 0.90× (0.75–1.10 in 3 rounds) | 1.10× (0.80–1.50 in 3 rounds) |", text);
        Assert.Contains("| many rooms deliveries/s | ≥ 1.0× | 0.90× (0.75–1.10 in 3 rounds) | **no** |", text);
        Assert.Contains("| 0 lost, 0 order violations (≥ 2 senders) | 0 / 0 | 0 / 0 | yes |", text);
    }

    [Fact]
    public async Task A_round_one_server_missed_is_left_out_of_the_ratios()
    {
        // Round 2 of raw-kestrel failed (no file): the ratio pairs round 1 with round 1 and round 3 with round 3 only.
        Write("many-rooms.raw-kestrel.r1", 80_000, p99: 100);
        Write("many-rooms.roomactors.r1", 60_000, p99: 150);
        Write("many-rooms.roomactors.r2", 90_000, p99: 96);
        Write("many-rooms.raw-kestrel.r3", 70_000, p99: 110);
        Write("many-rooms.roomactors.r3", 77_000, p99: 121);

        var text = await ReportAsync();

        // 0.75 and 1.10: the upper of the two is the median of two; 90/70 (round 2 against round 3) would be 1.29.
        Assert.Contains("| many rooms deliveries/s | ≥ 1.0× | 1.10× (0.75–1.10 in 2 rounds) | yes |", text);
    }

    [Fact]
    public async Task One_run_per_server_reports_its_ratio_without_rounds()
    {
        Write("many-rooms.raw-kestrel", 80_000, p99: 100);
        Write("many-rooms.roomactors", 84_000, p99: 90);

        var text = await ReportAsync();

        Assert.Contains("| many-rooms | 1.05× | 0.90× |", text);
        Assert.Contains("| many rooms deliveries/s | ≥ 1.0× | 1.05× | yes |", text);
        Assert.DoesNotContain("rounds", text);
    }

    private void Write(string name, double deliveriesPerSecond, double p99)
    {
        var result = new BenchResult(name, 2000, 2, 2, "closed", 10, (long)(deliveriesPerSecond * 5), (long)(deliveriesPerSecond * 10),
            deliveriesPerSecond / 2, deliveriesPerSecond, p99 / 2, p99, p99 * 1.2, 0, 0, 1e6 / deliveriesPerSecond, 400_000, 100, 70);
        File.WriteAllText(Path.Combine(_directory.FullName, name + ".json"), JsonSerializer.Serialize(result));
    }

    private async Task<string> ReportAsync()
    {
        var output = Path.Combine(_directory.FullName, "RESULTS.md");
        await Report.WriteAsync(_directory.FullName, output, "# Benchmark results");
        return await File.ReadAllTextAsync(output);
    }
}
