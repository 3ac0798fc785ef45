using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using RoomActors.Tests.Infrastructure;
using RoomActors.Tests.Protocol;

namespace RoomActors.Tests.Integration;

/// <summary>The key/value store and the output gate, on an all-in-one host whose storage fails on demand.</summary>
public sealed class StorageTests : IAsyncLifetime
{
    private AllInOneServer _server = null!;

    public async Task InitializeAsync() => _server = await AllInOneServer.StartAsync(
        builder => builder.Services.AddKeyedSingleton<IGrainStorage>(RoomOptions.StorageName, (sp, _) =>
            new FailingGrainStorage(ActivatorUtilities.CreateInstance<MemoryGrainStorage>(sp, RoomOptions.StorageName, new Orleans.Configuration.MemoryGrainStorageOptions()))),
        "--RoomActors:Gateway:RoomCallTimeout=00:00:01");

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static string NewName() => "r-" + Guid.NewGuid().ToString("N")[..12];

    [Fact]
    public async Task Put_get_delete_and_list_by_prefix_survive_a_new_activation()
    {
        var room = NewName();
        await using (var client = await TestClient.ConnectAsync(_server.Room("it-notes", room)))
        {
            await client.SendAsync("put user:ada first");
            Assert.Equal("put user:ada", await client.ReceiveTextAsync());
            await client.SendAsync("put user:bob second");
            await client.SendAsync("put topic:x third");
            await client.SendAsync("del topic:x");
            await client.SendAsync("put user:cy 3");
            for (var i = 0; i < 4; i++)
            {
                await client.ReceiveTextAsync();
            }

            await client.SendAsync("list user:");
            Assert.Equal("user:ada=first,user:bob=second,user:cy=3", await client.ReceiveTextAsync());
            await client.CloseAsync();
        }

        // Empty rooms are collected; force it so that the next client meets a new activation reading storage. The room
        // may not have handled the close yet (then it is not empty and stays): force again until it is gone.
        var management = _server.Grains.GetGrain<IManagementGrain>(0);
        var grain = (GrainReference)_server.Grains.GetGrain<IRoomGrain>(RoomGrainIds.Of("it-notes", room));
        for (var i = 0; i < 50 && await management.GetGrainActivationCount(grain) > 0; i++)
        {
            await management.ForceActivationCollection(TimeSpan.Zero);
            await Task.Delay(100);
        }

        Assert.Equal(0, await management.GetGrainActivationCount(grain));
        Assert.Equal(1, NotesRoom.Starts[room]); // still the first activation's count

        await using var again = await TestClient.ConnectAsync(_server.Room("it-notes", room));
        await again.SendAsync("get user:bob");
        Assert.Equal("user:bob=second", await again.ReceiveTextAsync());
        Assert.Equal(2, NotesRoom.Starts[room]); // a new activation answered, from storage
        await again.SendAsync("get topic:x");
        Assert.Equal("topic:x=<none>", await again.ReceiveTextAsync());
        await again.SendAsync("list");
        Assert.Equal("user:ada=first,user:bob=second,user:cy=3", await again.ReceiveTextAsync());
    }

    [Fact]
    public async Task A_failed_write_withholds_the_turn_s_messages_and_no_client_ever_sees_the_lost_change()
    {
        var room = NewName();

        // The watcher has joined once it hears its own increment (a socket is open before its join reaches the room, so
        // another client's message could otherwise be broadcast before the watcher is a member).
        await using var watcher = await TestClient.ConnectAsync(_server.Room("counter", room));
        await watcher.SendAsync("inc");
        Assert.Equal("1", await watcher.ReceiveTextAsync());
        await using var writer = await TestClient.ConnectAsync(_server.Room("counter", room));
        await writer.SendAsync("inc");
        Assert.Equal("2", await writer.ReceiveTextAsync());
        Assert.Equal("2", await watcher.ReceiveTextAsync());

        FailingGrainStorage.FailWrites[room] = true;
        try
        {
            var failedBefore = FailingGrainStorage.FailedWrites;
            await writer.SendAsync("inc");

            // The write fails (again and again as the gateway retries): nobody receives the "2" it would have sent.
            await GatewayTests.Eventually(() => FailingGrainStorage.FailedWrites > failedBefore);
            await Assert.ThrowsAsync<TimeoutException>(() => watcher.ReceiveAsync(TimeSpan.FromSeconds(2)));
            Assert.Empty(writer.Drain());

            // The room went back to its last durable state.
            using var http = new HttpClient();
            Assert.Equal("2", await http.GetStringAsync(new Uri(_server.Http, $"/rooms/counter/{room}")));
        }
        finally
        {
            FailingGrainStorage.FailWrites.TryRemove(room, out _);
        }

        // Storage is back: the gateway's retry goes through on a fresh activation; the increment happens once.
        Assert.Equal("3", await watcher.ReceiveTextAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal("3", await writer.ReceiveTextAsync());
        await writer.SendAsync("inc");
        Assert.Equal("4", await watcher.ReceiveTextAsync());
    }

    /// <summary>
    /// A turn writes the state, then its connections' records (which also carry the client ids it processed). Whichever of
    /// the two fails, as a crash between them would leave it, the gateway's retry of the same numbered message must apply
    /// it exactly once and acknowledge it: never acknowledged without its effect, never applied twice.
    /// </summary>
    [Theory]
    [InlineData("room-state")]
    [InlineData("connection:")]
    public async Task An_acknowledged_message_is_applied_once_when_one_write_of_its_turn_fails(string failing)
    {
        var room = NewName();
        await using var client = await V1Client.ConnectAsync(_server.Room("counter", room));
        await client.SendAsync("inc", id: 1);
        Assert.Equal("1", (await client.MessagesAsync(1))[0].Text);
        await client.SendAsync("inc", id: 2);
        Assert.Equal("2", (await client.MessagesAsync(1))[0].Text);

        // Each inc's turn writes the state and the connection's record (its latest client id): one of them fails once.
        FailingGrainStorage.FailOnce[(room, failing)] = true;
        await client.SendAsync("inc", id: 3);

        // The turn fails, its output is withheld, the gateway re-sends message 3 to a fresh activation: one ack.
        var frames = new List<Protocol.V1Frame>();
        while (!frames.Any(f => f.Kind == "ack" && f.Fields[0] == "3"))
        {
            frames.Add(await client.NextAsync(TimeSpan.FromSeconds(30)));
        }

        Assert.False(FailingGrainStorage.FailOnce.ContainsKey((room, failing)), $"no write of a '{failing}' record was made");
        // A failed state write left nothing durable: the retry applies the inc and broadcasts "3". A failed connection
        // write came after the state (with the client id) was durable: the retry only acknowledges, and the "3" that
        // turn would have broadcast is missing for everyone (as after a crash at that point), never doubled.
        Assert.Equal(failing == "room-state" ? ["3"] : [], frames.Where(f => f.Kind == "m").Select(f => f.Text));
        using var http = new HttpClient();
        Assert.Equal("3", await http.GetStringAsync(new Uri(_server.Http, $"/rooms/counter/{room}")));
        await client.SendAsync("inc", id: 4);
        Assert.Equal("4", (await client.MessagesAsync(1))[0].Text);
    }
}
