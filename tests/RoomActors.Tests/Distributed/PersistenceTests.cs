using System.Net;
using RoomActors.Tests.Infrastructure;
using RoomActors.Tests.Integration;

namespace RoomActors.Tests.Distributed;

/// <summary>
/// In-process all-in-one hosts in Redis mode. Two hosts with different cluster ids but one service id share room
/// state in Redis while each has its own activation of a room: real duplicate activations.
/// </summary>
[Collection(DistributedCollection.Name)]
public sealed class PersistenceTests
{
    [Fact]
    public async Task A_duplicate_activation_with_a_stale_etag_loses_cleanly_and_never_shows_its_lost_write()
    {
        await using var redis = await RedisServer.StartAsync();
        var service = "svc-" + Guid.NewGuid().ToString("N")[..8];
        await using var a = await AllInOneServer.StartAsync("--redis", redis.Address, "--cluster-id", "a-" + service, "--service-id", service);
        await using var b = await AllInOneServer.StartAsync("--redis", redis.Address, "--cluster-id", "b-" + service, "--service-id", service);
        var room = "r-" + Guid.NewGuid().ToString("N")[..12];

        await using var onA = await TestClient.ConnectAsync(a.Room("counter", room));
        await onA.SendAsync("inc");
        Assert.Equal("1", await onA.ReceiveTextAsync());

        // B's activation of the same room reads 1 and writes 2: A's activation now holds a stale ETag.
        await using var onB = await TestClient.ConnectAsync(b.Room("counter", room));
        await onB.SendAsync("inc");
        Assert.Equal("2", await onB.ReceiveTextAsync());

        // A's activation increments its stale 1 to 2 and fails to write it: that "2" is never delivered. The
        // activation stops serving; the gateway's retry reaches a fresh activation that reads 2 and writes 3.
        await onA.SendAsync("inc");
        Assert.Equal("3", await onA.ReceiveTextAsync());
        Assert.Empty(onA.Drain());

        using var http = new HttpClient();
        var value = await http.GetStringAsync(new Uri(a.Http, $"/rooms/counter/{room}"));
        Assert.Equal("3", value);
    }

    [Fact]
    public async Task Room_state_is_in_redis_at_the_end_of_the_turn_that_changed_it()
    {
        await using var redis = await RedisServer.StartAsync();
        var service = "svc-" + Guid.NewGuid().ToString("N")[..8];
        var room = "r-" + Guid.NewGuid().ToString("N")[..12];
        await using (var first = await AllInOneServer.StartAsync("--redis", redis.Address, "--cluster-id", "one-" + service, "--service-id", service))
        {
            await using var client = await TestClient.ConnectAsync(first.Room("counter", room));
            for (var i = 1; i <= 5; i++)
            {
                await client.SendAsync("inc");
                Assert.Equal(i.ToString(), await client.ReceiveTextAsync());
            }

            // No graceful deactivation: the host is stopped with the room still active; the writes were per turn.
        }

        await using var second = await AllInOneServer.StartAsync("--redis", redis.Address, "--cluster-id", "two-" + service, "--service-id", service);
        using var http = new HttpClient();
        var response = await http.GetAsync(new Uri(second.Http, $"/rooms/counter/{room}"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("5", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Key_value_records_survive_a_restart_of_every_process_on_redis()
    {
        await using var redis = await RedisServer.StartAsync();
        var service = "svc-" + Guid.NewGuid().ToString("N")[..8];
        var room = "r-" + Guid.NewGuid().ToString("N")[..12];
        await using (var first = await AllInOneServer.StartAsync("--redis", redis.Address, "--cluster-id", "one-" + service, "--service-id", service))
        {
            await using var client = await TestClient.ConnectAsync(first.Room("it-notes", room));
            foreach (var command in new[] { "put user:ada first", "put user:bob second", "put topic:x third", "del topic:x" })
            {
                await client.SendAsync(command);
                Assert.Equal(command[..(command.IndexOf(' ', 4) is var i and > 0 ? i : command.Length)], await client.ReceiveTextAsync());
            }
        }

        await using var second = await AllInOneServer.StartAsync("--redis", redis.Address, "--cluster-id", "two-" + service, "--service-id", service);
        await using var again = await TestClient.ConnectAsync(second.Room("it-notes", room));
        await again.SendAsync("list");
        Assert.Equal("user:ada=first,user:bob=second", await again.ReceiveTextAsync());
        await again.SendAsync("get topic:x");
        Assert.Equal("topic:x=<none>", await again.ReceiveTextAsync());
    }

    [Fact]
    public async Task Closed_connections_and_deleted_keys_leave_no_record_in_redis()
    {
        await using var redis = await RedisServer.StartAsync();
        var service = "svc-" + Guid.NewGuid().ToString("N")[..8];
        var room = "r-" + Guid.NewGuid().ToString("N")[..12];
        await using var server = await AllInOneServer.StartAsync("--redis", redis.Address, "--cluster-id", "one-" + service, "--service-id", service);

        // 50 connections come and go (each heard its own inc, so the room knew it); one stays.
        await using var stayer = await TestClient.ConnectAsync(server.Room("counter", room));
        for (var i = 1; i <= 50; i++)
        {
            await using var visitor = await TestClient.ConnectAsync(server.Room("counter", room));
            await visitor.SendAsync("inc");
            Assert.Equal(i.ToString(), await visitor.ReceiveTextAsync());
            await visitor.CloseAsync();
        }

        await using (var notes = await TestClient.ConnectAsync(server.Room("it-notes", room)))
        {
            foreach (var command in new[] { "put a 1", "del a" })
            {
                await notes.SendAsync(command);
                await notes.ReceiveTextAsync();
            }
        }

        // The closes reach the room after the sockets end: wait (bounded) until only the stayer's record is left.
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        string[] records;
        do
        {
            await Task.Delay(100);
            records = (await redis.CommandAsync("--scan", "--pattern", $"*{room}*")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        }
        while (records.Count(r => r.Contains("connection:", StringComparison.Ordinal)) > 1 && deadline.Elapsed < TimeSpan.FromSeconds(20));

        Assert.Single(records, r => r.Contains("connection:", StringComparison.Ordinal));
        Assert.DoesNotContain(records, r => r.Contains("kv:a", StringComparison.Ordinal));
    }
}
