using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using RoomActors.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RoomActors.Tests.Distributed;

/// <summary>
/// Operations that must cost clients nothing, on real processes: a rolling restart of every silo, a gateway drained with
/// SIGTERM, a silo added under load.
/// </summary>
[Collection(DistributedCollection.Name)]
public sealed class ZeroDropTests(ITestOutputHelper output)
{
    private static string NewName() => "z-" + Guid.NewGuid().ToString("N")[..12];

    [Fact]
    public async Task Restarting_each_of_three_silos_in_turn_under_traffic_closes_no_socket_and_loses_duplicates_or_reorders_nothing()
    {
        await using var cluster = await ProcessCluster.StartAsync();
        var silos = new List<NodeProcess>();
        for (var i = 1; i <= 3; i++)
        {
            silos.Add(await cluster.StartSiloAsync($"silo-{i}"));
        }

        var gateways = new[] { await cluster.StartGatewayAsync("gateway-a"), await cluster.StartGatewayAsync("gateway-b") };

        // 8 broadcast rooms, each with a v1 sender on either gateway and a raw listener; 2 counter rooms (durable state).
        var rooms = new List<(Recorder[] Senders, TestClient Raw)>();
        for (var r = 0; r < 8; r++)
        {
            var name = NewName();
            rooms.Add((
                [await Recorder.StartAsync(gateways[0].Room("broadcast", name)), await Recorder.StartAsync(gateways[1].Room("broadcast", name))],
                await TestClient.ConnectAsync(gateways[r % 2].Room("broadcast", name))));
        }

        var counters = new List<(string Name, Recorder Sender)>();
        for (var c = 0; c < 2; c++)
        {
            var name = NewName();
            counters.Add((name, await Recorder.StartAsync(gateways[c % 2].Room("counter", name))));
        }

        try
        {
            using var stop = new CancellationTokenSource();
            var sent = new ConcurrentDictionary<Recorder, int>();
            var senders = rooms.SelectMany(r => r.Senders).Concat(counters.Select(c => c.Sender)).ToList();
            var traffic = senders.Select(sender => Task.Run(async () =>
            {
                // 10 messages a second, each with a client id; bounded in count.
                for (var i = 1; i <= 600 && !stop.IsCancellationRequested; i++)
                {
                    await sender.Client.SendAsync(counters.Any(c => c.Sender == sender) ? "inc" : $"{sender.Id[..6]}-{i}", id: i);
                    sent[sender] = i;
                    await Task.Delay(100);
                }
            })).ToList();

            // One silo after another: SIGTERM, wait for a clean exit, start its replacement, let traffic flow.
            var restarts = new List<string>();
            for (var i = 0; i < silos.Count; i++)
            {
                await Task.Delay(1500);
                var stopping = Stopwatch.StartNew();
                Assert.Equal(0, await silos[i].StopAsync("TERM"));
                var stopped = stopping.Elapsed;
                silos[i] = await cluster.StartSiloAsync($"silo-{i + 1} again");
                restarts.Add($"silo-{i + 1}: exited {stopped.TotalSeconds:F1} s after SIGTERM, replacement up {stopping.Elapsed.TotalSeconds:F1} s after");
            }

            await Task.Delay(1500);
            stop.Cancel();
            await Task.WhenAll(traffic);

            // Quiesce: an acknowledged last message per sender, seen by every client of its room.
            foreach (var (roomSenders, _) in rooms)
            {
                foreach (var sender in roomSenders)
                {
                    await sender.Client.SendAsync("end " + sender.Id, id: 100_000);
                }
            }

            foreach (var (roomSenders, raw) in rooms)
            {
                foreach (var end in roomSenders.Select(s => "end " + s.Id))
                {
                    foreach (var recorder in roomSenders)
                    {
                        await recorder.WaitForAsync(end, TimeSpan.FromSeconds(60));
                    }
                }

                // The raw listener saw the same history up to the last end (it cannot resume, but nothing made it need to).
                var v1History = roomSenders[0].Texts();
                var lastEnd = v1History.FindLastIndex(t => t.StartsWith("end ", StringComparison.Ordinal));
                var rawHistory = await SkipUntilAsync(raw, v1History[lastEnd]);
                Assert.Equal(v1History.Take(lastEnd + 1).TakeLast(rawHistory.Count), rawHistory);
            }

            foreach (var line in restarts)
            {
                output.WriteLine(line);
            }

            // No socket closed.
            Assert.All(senders, s => Assert.False(s.Dropped.IsCompleted, $"{s.Id} was closed: {s.Closed}"));
            Assert.All(rooms, r => Assert.Equal(WebSocketState.Open, r.Raw.Socket.State));

            var jumps = 0;
            foreach (var (roomSenders, _) in rooms)
            {
                // One history: both clients saw the same numbered messages.
                var history = roomSenders[0].Numbered();
                Assert.Equal(history, roomSenders[1].Numbered());

                // Every message sent was acknowledged and is in the history once, each sender's in the order sent.
                foreach (var sender in roomSenders)
                {
                    var mine = history.Select(m => m.Item2).Where(t => t.StartsWith(sender.Id[..6] + "-", StringComparison.Ordinal)).ToList();
                    Assert.Equal(Enumerable.Range(1, sent[sender]).Select(i => $"{sender.Id[..6]}-{i}"), mine);
                    Assert.Equal(Enumerable.Range(1, sent[sender]).Select(i => (long)i).Append(100_000), sender.AckedIds().Order());
                }

                // Numbers only grow. Each new activation skips one: the number it starts from marks a point a client can
                // resume from, and no message carries it (ReplayBuffer.Restore). Counted for the report.
                Assert.All(history.Zip(history.Skip(1)), p => Assert.True(p.Second.Item1 > p.First.Item1, $"{p.Second} after {p.First}"));
                jumps += history.Zip(history.Skip(1)).Count(p => p.Second.Item1 != p.First.Item1 + 1);
            }

            using var http = new HttpClient();
            foreach (var (name, sender) in counters)
            {
                // Every inc counted once: the values seen are 1..n in order, and the room holds n.
                var deadline = Stopwatch.StartNew();
                while (sender.AckedIds().Length < sent[sender] && deadline.Elapsed < TimeSpan.FromSeconds(30))
                {
                    await Task.Delay(50);
                }

                Assert.Equal(Enumerable.Range(1, sent[sender]).Select(i => i.ToString()), sender.Texts());
                Assert.Equal(sent[sender].ToString(), await http.GetStringAsync(new Uri(gateways[0].Http!, $"/rooms/counter/{name}")));
            }

            output.WriteLine($"rolling restart of 3 silos: {sent.Values.Sum()} messages sent by {senders.Count} clients, all acknowledged and delivered once in order; 0 sockets closed; {jumps} jumps in the rooms' numbers");
        }
        catch
        {
            foreach (var node in cluster.Nodes)
            {
                output.WriteLine($"{node.Name}:\n{node.Log}");
            }

            throw;
        }
        finally
        {
            foreach (var (roomSenders, raw) in rooms)
            {
                foreach (var sender in roomSenders)
                {
                    await sender.DisposeAsync();
                }

                await raw.DisposeAsync();
            }

            foreach (var (_, sender) in counters)
            {
                await sender.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_gateway_drained_with_SIGTERM_closes_its_clients_with_1012_and_they_resume_on_another_losing_nothing()
    {
        await using var cluster = await ProcessCluster.StartAsync();
        await cluster.StartSiloAsync("silo-1");
        var drained = await cluster.StartGatewayAsync("gateway-a");
        var survivor = await cluster.StartGatewayAsync("gateway-b");

        await using var scenario = await GatewayLossScenario.StartAsync(drained, survivor);
        var draining = Stopwatch.StartNew();
        Task<int> exit = Task.FromResult(-1);
        var resumed = await scenario.RunAsync(() =>
        {
            draining.Restart();
            exit = drained.StopAsync("TERM"); // the movers hear 1012 while the gateway drains
            return Task.CompletedTask;
        });
        Assert.Equal(0, await exit);

        output.WriteLine($"gateway drain: {scenario.Movers.Count} clients closed with {scenario.Movers[0].Closed.Status} and resumed on the other gateway, "
            + $"the last {resumed.Max().TotalSeconds:F1} s after SIGTERM; {scenario.Stayer.Texts().Count} messages each");
        Assert.All(scenario.Movers, m => Assert.Equal((WebSocketCloseStatus)CloseCodes.ServiceRestart, m.Closed.Status));
        scenario.AssertOneHistory();
    }

    [Fact]
    public async Task A_silo_added_under_load_takes_new_rooms_while_the_old_ones_stay_where_they_are()
    {
        await using var cluster = await ProcessCluster.StartAsync();
        var first = await cluster.StartSiloAsync("silo-1");
        var gateway = await cluster.StartGatewayAsync("gateway");
        await using var observer = await ClusterObserver.StartAsync(cluster);

        // Load on the first silo: 10 rooms with traffic.
        var busy = new List<TestClient>();
        for (var r = 0; r < 10; r++)
        {
            busy.Add(await TestClient.ConnectAsync(gateway.Room("echo", NewName())));
        }

        using var stop = new CancellationTokenSource();
        var traffic = busy.Select(client => Task.Run(async () =>
        {
            for (var i = 0; i < 2000 && !stop.IsCancellationRequested; i++)
            {
                await client.SendAsync($"load {i}");
                await client.ReceiveAsync();
                await Task.Delay(10);
            }
        })).ToList();

        var newRooms = new List<TestClient>();
        try
        {
            var second = await cluster.StartSiloAsync("silo-2");
            var added = Stopwatch.StartNew();
            var secondAddress = "";
            var placedThere = 0;

            // New rooms, a few at a time, until some live on the new silo (bounded: 30 s, 300 rooms).
            while (placedThere == 0 && added.Elapsed < TimeSpan.FromSeconds(30) && newRooms.Count < 300)
            {
                for (var i = 0; i < 10; i++)
                {
                    var client = await TestClient.ConnectAsync(gateway.Room("echo", NewName()));
                    await client.SendAsync("hello");
                    Assert.Equal("hello", (await client.ReceiveAsync()).Text);
                    newRooms.Add(client);
                }

                var bySilo = await observer.RoomActivationsBySiloAsync();
                secondAddress = bySilo.Keys.FirstOrDefault(k => k.Contains($":{second.SiloPort}:", StringComparison.Ordinal)) ?? "";
                placedThere = secondAddress == "" ? 0 : bySilo[secondAddress];
            }

            var firstAddress = (await observer.RoomActivationsBySiloAsync()).Keys.Single(k => k.Contains($":{first.SiloPort}:", StringComparison.Ordinal));
            var onFirst = (await observer.RoomActivationsBySiloAsync())[firstAddress];
            output.WriteLine($"silo added under load: {placedThere} of the first {newRooms.Count} new rooms placed on it, the first within {added.Elapsed.TotalSeconds:F1} s; {onFirst} rooms on the first silo");
            Assert.True(placedThere > 0, $"none of {newRooms.Count} new rooms was placed on the new silo within {added.Elapsed.TotalSeconds:F0} s");

            // The busy rooms did not move (no rebalancing by default) and kept answering.
            Assert.True(onFirst >= busy.Count, $"the first silo holds {onFirst} rooms, fewer than the {busy.Count} busy ones");
            stop.Cancel();
            await Task.WhenAll(traffic);
            Assert.All(busy, c => Assert.Equal(WebSocketState.Open, c.Socket.State));
        }
        finally
        {
            stop.Cancel();
            foreach (var client in busy.Concat(newRooms))
            {
                await client.DisposeAsync();
            }
        }
    }

    /// <summary>Reads until <paramref name="text"/>; returns what it read, <paramref name="text"/> last.</summary>
    private static async Task<List<string>> SkipUntilAsync(TestClient client, string text)
    {
        var read = new List<string>();
        while (read.LastOrDefault() != text)
        {
            try
            {
                read.Add((await client.ReceiveAsync(TimeSpan.FromSeconds(30))).Text);
            }
            catch (TimeoutException ex)
            {
                throw new TimeoutException($"'{text}' never came; {read.Count} messages before, the last: {string.Join(" | ", read.TakeLast(5))}", ex);
            }
        }

        return read;
    }
}
