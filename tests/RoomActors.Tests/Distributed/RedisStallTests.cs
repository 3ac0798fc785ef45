using System.Collections.Concurrent;
using System.Diagnostics;
using RoomActors.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RoomActors.Tests.Distributed;

/// <summary>Redis frozen under traffic (SIGSTOP), on a real redis-server.</summary>
[Collection(DistributedCollection.Name)]
public sealed class RedisStallTests(ITestOutputHelper output)
{
    /// <summary>
    /// A state write that times out on the client side still runs when Redis comes back; the gateway re-sends the batch
    /// to a new activation, which must know from the state it reads that the message was applied (it used to apply it
    /// again: every counter room counted one inc twice).
    /// </summary>
    [Fact]
    public async Task Counters_count_each_inc_once_through_a_ten_second_Redis_stall()
    {
        await using var redis = await RedisServer.StartAsync();
        var service = "svc-" + Guid.NewGuid().ToString("N")[..8];
        await using var server = await AllInOneServer.StartAsync("--redis", redis.Address, "--cluster-id", service, "--service-id", service);
        var rooms = Enumerable.Range(0, 10).Select(_ => "c-" + Guid.NewGuid().ToString("N")[..12]).ToArray();
        var senders = new List<Recorder>();
        foreach (var room in rooms)
        {
            senders.Add(await Recorder.StartAsync(server.Room("counter", room)));
        }

        try
        {
            using var stop = new CancellationTokenSource();
            var sent = new ConcurrentDictionary<Recorder, int>();
            var traffic = senders.Select(sender => Task.Run(async () =>
            {
                for (var i = 1; i <= 400 && !stop.IsCancellationRequested; i++)
                {
                    await sender.Client.SendAsync("inc", id: i);
                    sent[sender] = i;
                    await Task.Delay(50);
                }
            })).ToList();

            await Task.Delay(1000);
            await redis.PauseAsync();
            await Task.Delay(10_000);
            await redis.ResumeAsync();
            await Task.Delay(2000);
            stop.Cancel();
            await Task.WhenAll(traffic);

            // Every inc acknowledged (bounded wait), applied once: the room holds exactly the number sent.
            using var http = new HttpClient();
            var deadline = Stopwatch.StartNew();
            while (senders.Any(s => s.AckedIds().Distinct().Count() < sent[s]) && deadline.Elapsed < TimeSpan.FromSeconds(60))
            {
                await Task.Delay(100);
            }

            var counted = new List<string>();
            for (var r = 0; r < rooms.Length; r++)
            {
                var sender = senders[r];
                Assert.Equal(Enumerable.Range(1, sent[sender]).Select(i => (long)i), sender.AckedIds().Distinct().Order());
                var value = long.Parse(await http.GetStringAsync(new Uri(server.Http, $"/rooms/counter/{rooms[r]}")));
                counted.Add($"{value}/{sent[sender]}");
                Assert.Equal(sent[sender], value);

                // What the client saw only grows, and none of it twice (a value whose broadcast was withheld may be missing).
                var values = sender.Texts().Select(long.Parse).ToList();
                Assert.Equal(values.Distinct().Order(), values);
            }

            output.WriteLine($"Redis frozen 10 s under traffic: counted/sent per room {string.Join(", ", counted)}");
        }
        finally
        {
            foreach (var sender in senders)
            {
                await sender.DisposeAsync();
            }
        }
    }
}
