using System.Net;
using System.Net.WebSockets;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using RoomActors.Gateway.Auth;
using RoomActors.Tests.Infrastructure;
using RoomActors.Tests.Integration;

namespace RoomActors.Tests.Operations;

/// <summary>
/// <c>/metrics</c> of the all-in-one host over real HTTP: every RoomActors instrument is exported under the Prometheus
/// name of the README's table once it has something to report, and the numbers move with the traffic. The server has
/// auth on, a small outbound byte limit, quick hibernation and alarm retries, and storage that fails on demand, so that
/// each rare event can be caused in a second.
/// </summary>
public sealed class MetricsTests : IAsyncLifetime
{
    private const string Key = "metrics-test-signing-key-of-32-bytes!!";
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(20) };
    private AllInOneServer _server = null!;

    public async Task InitializeAsync() => _server = await AllInOneServer.StartAsync(
        builder => builder.Services.AddKeyedSingleton<IGrainStorage>(RoomOptions.StorageName, (sp, _) =>
            new FailingGrainStorage(ActivatorUtilities.CreateInstance<MemoryGrainStorage>(sp, RoomOptions.StorageName, new Orleans.Configuration.MemoryGrainStorageOptions()))),
        $"--RoomActors:Auth:SigningKey={Key}",
        "--RoomActors:Gateway:OutboundQueueBytes=65536",
        "--RoomActors:Gateway:RoomCallTimeout=00:00:01",
        "--RoomActors:Rooms:HibernateAfter=00:00:01",
        "--RoomActors:Rooms:AlarmRetryBase=00:00:00.100");

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    private static string NewName() => "m-" + Guid.NewGuid().ToString("N")[..12];

    private Uri Room(string type, string name, string query = "") =>
        _server.Room(type, name, $"?ticket={RoomTickets.Create(Key, "ada", "*", DateTimeOffset.UtcNow.AddMinutes(5))}{query}");

    private Task<PrometheusText> ScrapeAsync() => PrometheusText.ScrapeAsync(_http, _server.Http);

    /// <summary>Scrapes until <paramref name="condition"/> holds (the exporter caches a scrape for 300 ms), or fails after 20 s.</summary>
    private async Task<PrometheusText> ScrapeUntilAsync(Func<PrometheusText, bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var scrape = await ScrapeAsync();
            if (condition(scrape))
            {
                return scrape;
            }

            Assert.True(DateTime.UtcNow < deadline, $"{what} did not show in /metrics within 20 s. Last scrape:\n{scrape.Text}");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task The_counts_move_with_the_messages_that_flow_through_a_room()
    {
        const int clients = 3, messages = 40;
        var room = NewName();
        var members = await TestClient.JoinRelayAsync(Enumerable.Range(0, clients).Select(_ => Room("it-relay", room)));
        try
        {
            // The exporter caches a scrape for 300 ms: one taken just before the clients joined can still be served.
            var before = await ScrapeUntilAsync(
                s => s.Sum("roomactors_gateway_connections", ("roomactors_protocol", "raw")) >= clients
                    && s.Sum("roomactors_rooms_active", ("roomactors_room_type", "it-relay")) >= 1,
                "the members' connections and their room");

            for (var i = 0; i < messages; i++)
            {
                await members[0].SendAsync($"n{i}"); // one sender: its messages reach everyone in the order sent
            }

            foreach (var member in members)
            {
                for (var i = 0; i < messages; i++)
                {
                    Assert.Equal($"n{i}", await member.ReceiveTextAsync());
                }
            }

            // Every message in, and each to every member out; at least one message turn and one batch call per message
            // batch (other tests' servers in this process may add to the same meters, never subtract).
            var after = await ScrapeUntilAsync(
                s => s.Sum("roomactors_gateway_messages_delivered_total") - before.Sum("roomactors_gateway_messages_delivered_total") >= clients * messages,
                "the deliveries");
            Assert.True(Delta("roomactors_gateway_messages_received_total") >= messages, after.Text);
            var turns = Delta("roomactors_room_turn_duration_seconds_count", ("roomactors_room_type", "it-relay"), ("roomactors_turn_kind", "message"));
            Assert.InRange(turns, 1, double.MaxValue);
            Assert.True(Delta("roomactors_gateway_room_call_duration_seconds_count") >= turns, after.Text);
            Assert.True(Delta("roomactors_room_turn_duration_seconds_sum", ("roomactors_room_type", "it-relay")) > 0, after.Text);

            double Delta(string name, params (string, string)[] labels) => after.Sum(name, labels) - before.Sum(name, labels);
        }
        finally
        {
            foreach (var member in members)
            {
                await member.DisposeAsync();
            }
        }

        // The sockets are gone: the gauge goes back down.
        await ScrapeUntilAsync(s => s.Sum("roomactors_gateway_connections", ("roomactors_protocol", "raw")) < clients, "the closed connections");
    }

    [Fact]
    public async Task Every_instrument_is_exported_under_its_table_name_once_it_has_something_to_report()
    {
        // Auth refusal: no ticket.
        using (var refused = await _http.GetAsync(new Uri(_server.Http, $"/rooms/counter/{NewName()}")))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        // Resync: a roomactors.v1 resume with a token that is not one (4403).
        await using (var resume = await TestClient.ConnectAsync(Room("it-relay", NewName(), "&resume=not-a-token&seq=0"), subprotocol: "roomactors.v1"))
        {
            Assert.Equal((WebSocketCloseStatus)CloseCodes.ResumeRefused, (await resume.WaitClosedAsync()).Status);
        }

        // Overflow: a broadcast larger than the outbound byte limit closes its recipient with 1008.
        await using (var flooded = await TestClient.ConnectAsync(Room("it-relay", NewName())))
        {
            Assert.StartsWith("welcome ", await flooded.ReceiveTextAsync());
            await flooded.SendAsync(new string('x', 100_000));
            Assert.Equal(WebSocketCloseStatus.PolicyViolation, (await flooded.WaitClosedAsync()).Status);
        }

        // Alarm: the hook fails once (a failed run and a retry), then runs.
        var alarmRoom = NewName();
        await using (var alarm = await TestClient.ConnectAsync(Room("it-alarm", alarmRoom)))
        {
            await alarm.SendAsync("fail 1");
            Assert.Equal("failing", await alarm.ReceiveTextAsync());
            await alarm.SendAsync("set 10");
            Assert.Equal("set", await alarm.ReceiveTextAsync());
            Assert.Equal("alarm retry=1", await alarm.ReceiveTextAsync());
        }

        // Hibernation and wake: a room with a connection and no traffic for a second leaves memory; a message brings it back.
        var sleepy = NewName();
        await using (var sleeper = await TestClient.ConnectAsync(Room("counter", sleepy)))
        {
            await ScrapeUntilAsync(s => s.Sum("roomactors_room_hibernations_total", ("roomactors_room_type", "counter")) >= 1, "the hibernation");

            // This room, not only another counter room of the test, has left memory: the next message wakes it.
            var local = _server.App.Services.GetRequiredService<LocalRooms>();
            await GatewayTests.Eventually(() => !local.TryGet(RoomGrainIds.Of("counter", sleepy), out _), TimeSpan.FromSeconds(20));
            await sleeper.SendAsync("inc");
            Assert.Equal("1", await sleeper.ReceiveTextAsync());

            // A failed write: the turn's output is held back until storage works again.
            FailingGrainStorage.FailWrites[sleepy] = true;
            var failed = FailingGrainStorage.FailedWrites;
            try
            {
                await sleeper.SendAsync("inc");
                await GatewayTests.Eventually(() => FailingGrainStorage.FailedWrites > failed);
            }
            finally
            {
                FailingGrainStorage.FailWrites.TryRemove(sleepy, out _);
            }

            Assert.Equal("2", await sleeper.ReceiveTextAsync(TimeSpan.FromSeconds(20)));
        }

        // Waits for this test's own wake: the alarm and write-failure counters are process-wide (other tests' rooms count
        // there too), so a reading the exporter cached before the wake could satisfy them.
        var scrape = await ScrapeUntilAsync(
            s => s.Has("roomactors_room_alarm_runs_total") && s.Has("roomactors_room_storage_write_failures_total")
                && s.Sum("roomactors_room_wakes_total", ("roomactors_room_type", "counter")) >= 1,
            "the alarm, the failed write and the wake");
        var types = scrape.Types;
        (string Name, string Kind)[] table =
        [
            ("roomactors_gateway_connections", "gauge"),
            ("roomactors_gateway_messages_received_total", "counter"),
            ("roomactors_gateway_messages_delivered_total", "counter"),
            ("roomactors_gateway_room_call_duration_seconds", "histogram"),
            ("roomactors_gateway_overflow_closes_total", "counter"),
            ("roomactors_gateway_resyncs_total", "counter"),
            ("roomactors_gateway_auth_refusals_total", "counter"),
            ("roomactors_rooms_active", "gauge"),
            ("roomactors_room_hibernations_total", "counter"),
            ("roomactors_room_wakes_total", "counter"),
            ("roomactors_room_turn_duration_seconds", "histogram"),
            ("roomactors_room_storage_write_duration_seconds", "histogram"),
            ("roomactors_room_storage_write_failures_total", "counter"),
            ("roomactors_room_alarm_runs_total", "counter"),
            ("roomactors_room_alarm_retries_total", "counter"),
        ];
        var missing = table.Where(t => types.GetValueOrDefault(t.Name) != t.Kind).Select(t => $"{t.Name} ({t.Kind})").ToList();
        Assert.True(missing.Count == 0, $"not in /metrics as the table says: {string.Join(", ", missing)}\n{scrape.Text}");

        // The tags name what happened.
        Assert.True(scrape.Sum("roomactors_gateway_auth_refusals_total", ("roomactors_reason", "missing")) >= 1);
        Assert.True(scrape.Sum("roomactors_gateway_resyncs_total", ("roomactors_close_code", "4403")) >= 1);
        Assert.True(scrape.Sum("roomactors_gateway_overflow_closes_total") >= 1);
        Assert.True(scrape.Sum("roomactors_room_alarm_runs_total", ("roomactors_outcome", "failed")) >= 1);
        Assert.True(scrape.Sum("roomactors_room_alarm_runs_total", ("roomactors_outcome", "ok")) >= 1);
        Assert.True(scrape.Sum("roomactors_room_alarm_retries_total") >= 1);
        Assert.True(scrape.Sum("roomactors_room_wakes_total", ("roomactors_room_type", "counter")) >= 1);
        Assert.True(scrape.Sum("roomactors_room_storage_write_failures_total") >= 1);
        Assert.True(scrape.Sum("roomactors_room_storage_write_duration_seconds_count") >= 1);
        foreach (var kind in new[] { "connect", "message", "alarm", "close" })
        {
            Assert.True(scrape.Sum("roomactors_room_turn_duration_seconds_count", ("roomactors_turn_kind", kind)) >= 1, $"no {kind} turn in:\n{scrape.Text}");
        }

        // Orleans', ASP.NET Core's and Kestrel's meters are per host (this process runs many): ManagementPortTests checks
        // them on a process of its own. The runtime's are process-wide.
        Assert.Contains(types.Keys, n => n.StartsWith("dotnet_gc_", StringComparison.Ordinal));
    }
}
