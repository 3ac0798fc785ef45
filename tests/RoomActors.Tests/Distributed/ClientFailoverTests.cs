using System.Collections.Concurrent;
using System.Diagnostics;
using RoomActors.Client;
using RoomActors.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RoomActors.Tests.Distributed;

/// <summary>
/// The failover figures with the .NET client library: a silo and then a gateway killed with SIGKILL under traffic, on
/// real processes. Each client knows both gateways (<see cref="RoomSocketOptions.FallbackServers"/>).
/// </summary>
[Collection(DistributedCollection.Name)]
public sealed class ClientFailoverTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Through_a_silo_SIGKILL_and_a_gateway_SIGKILL_clients_keep_one_history_and_lose_no_acknowledged_message()
    {
        await using var cluster = await ProcessCluster.StartAsync();
        var silo = await cluster.StartSiloAsync("silo-1");
        await cluster.StartSiloAsync("silo-2");
        var gatewayA = await cluster.StartGatewayAsync("gateway-a");
        var gatewayB = await cluster.StartGatewayAsync("gateway-b");

        var rooms = new List<LibraryMember[]>();
        for (var r = 0; r < 10; r++)
        {
            var name = "f-" + Guid.NewGuid().ToString("N")[..12];
            var members = new LibraryMember[4];
            for (var i = 0; i < members.Length; i++)
            {
                var (home, other) = i % 2 == 0 ? (gatewayA, gatewayB) : (gatewayB, gatewayA);
                members[i] = await LibraryMember.StartAsync(home.WebSocket!, other.WebSocket!, "broadcast", name);
            }

            rooms.Add(members);
        }

        try
        {
            // Two senders per room (one per gateway), 10 messages a second each, every send awaited for its ack.
            using var stop = new CancellationTokenSource();
            var sends = new ConcurrentBag<(LibraryMember Sender, string Text, Task<RoomAck> Ack)>();
            var traffic = rooms.SelectMany(members => members.Take(2)).Select((sender, s) => Task.Run(async () =>
            {
                for (var i = 1; i <= 300 && !stop.IsCancellationRequested; i++)
                {
                    var text = $"{s}-{i}";
                    sends.Add((sender, text, sender.Socket.SendAsync(text)));
                    await Task.Delay(100);
                }
            })).ToList();

            await Task.Delay(2000);
            var clock = Stopwatch.StartNew();
            await silo.KillAsync();
            await Task.Delay(8000);
            await gatewayA.KillAsync();
            await Task.Delay(6000);
            stop.Cancel();
            await Task.WhenAll(traffic);

            // Every send ends: acknowledged, or failed because its fate is unknown (a resync). None may hang.
            var outcomes = await Task.WhenAll(sends.Select(async send =>
            {
                try
                {
                    await send.Ack.WaitAsync(TimeSpan.FromSeconds(60));
                    return (send.Text, Acked: true);
                }
                catch (RoomResyncException)
                {
                    return (send.Text, Acked: false);
                }
            }));

            // Quiesce: one more acknowledged message per room; every member must see it.
            foreach (var members in rooms)
            {
                var end = "end-" + members[0].Socket.ConnectionId;
                await members[0].Socket.SendAsync(end).WaitAsync(TimeSpan.FromSeconds(60));
                await Task.WhenAll(members.Select(m => m.WaitForAsync(end, TimeSpan.FromSeconds(60))));
            }

            var diverged = 0;
            var duplicates = 0;
            foreach (var members in rooms)
            {
                var histories = members.Select(m => m.History()).ToList();
                if (!histories.All(h => h.SequenceEqual(histories[0])))
                {
                    diverged++;
                    output.WriteLine("diverged: " + string.Join(" | ", histories.Select(h => h.Count)));
                }

                var texts = histories[0].Select(h => h.Text).ToList();
                duplicates += texts.Count - texts.Distinct().Count();
            }

            // Each acknowledged message is in its room's history exactly once (sender s sends to room s / 2).
            var ackedNotOnce = outcomes.Count(o => o.Acked && rooms[int.Parse(o.Text.Split('-')[0]) / 2][0].History().Count(h => h.Text == o.Text) != 1);

            var acked = outcomes.Count(o => o.Acked);
            var unacked = outcomes.Length - acked;
            var resyncs = rooms.SelectMany(m => m).Sum(m => m.Resyncs);
            var longestGap = rooms.SelectMany(m => m).Max(m => m.LongestGap);
            output.WriteLine($"client library, silo SIGKILL then gateway SIGKILL: {outcomes.Length} sent, {acked} acknowledged, {unacked} failed as unknown (resync), "
                + $"{ackedNotOnce} acknowledged but missing, {duplicates} duplicates, {diverged} of {rooms.Count} rooms diverged, {resyncs} resyncs, "
                + $"longest gap at a client {longestGap.TotalSeconds:F1} s");
            Assert.Equal(0, diverged);
            Assert.Equal(0, duplicates);
            Assert.Equal(0, ackedNotOnce);
            Assert.Equal(0, resyncs);
            Assert.Equal(outcomes.Length, acked);
        }
        finally
        {
            foreach (var member in rooms.SelectMany(m => m))
            {
                await member.DisposeAsync();
            }
        }
    }
}
