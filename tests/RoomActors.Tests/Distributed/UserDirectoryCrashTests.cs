using System.Text.Json;
using RoomActors.Tests.Infrastructure;

namespace RoomActors.Tests.Distributed;

/// <summary>
/// The user directory (how rooms reach a user wherever they are: whispers, bans) through a crash, on the conference MUD
/// as real processes: redis-server, 2 silos, a standalone gateway. The silo that holds a user's directory entry is
/// killed; whispers and a ban must still reach that user, and the directory must list exactly the user's live connection.
/// </summary>
[Collection(DistributedCollection.Name)]
public sealed class UserDirectoryCrashTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Whispers_and_a_ban_reach_a_user_after_the_silo_holding_their_directory_entry_is_killed()
    {
        await using var cluster = await ProcessCluster.StartAsync(app: "samples/Mud");
        string[] settings = ["--Mud:Moderators:0=mod"];
        await cluster.StartSiloAsync("silo1", false, settings);
        await cluster.StartSiloAsync("silo2", false, settings);
        var gateway = await cluster.StartGatewayAsync("gateway");
        await using var observer = await ClusterObserver.StartAsync(cluster);

        await using var ada = await ArriveAsync(gateway, "ada", "cafe");
        await using var bob = await ArriveAsync(gateway, "bob", "garden");
        await using var mod = await ArriveAsync(gateway, "mod", "entrance");
        await ada.SendAsync("/whisper bob hello");
        Assert.Equal("hello", (await NextAsync(bob, "whisper", Bound)).GetProperty("text").GetString());

        // Kill the silo that holds bob's directory entry (and whatever rooms it had: they come back from Redis).
        var directory = observer.Client.GetGrain<IUserDirectory>("bob");
        var address = await observer.Client.GetGrain<IManagementGrain>(0).GetActivationAddress(directory);
        Assert.NotNull(address);
        await cluster.SiloAt(address.ToString()).KillAsync();

        // Whisper until one reaches bob (the cluster first declares the silo dead); each try is a new line.
        var reached = false;
        for (var attempt = 1; !reached && attempt <= 20; attempt++)
        {
            await ada.SendAsync($"/whisper bob try {attempt}");
            try
            {
                var whisper = await NextAsync(bob, "whisper", TimeSpan.FromSeconds(3));
                reached = whisper.GetProperty("text").GetString()!.StartsWith("try ", StringComparison.Ordinal);
            }
            catch (TimeoutException)
            {
                // Not yet: the silo is not declared dead, or the rooms are coming back. Try again.
            }
        }

        Assert.True(reached, "no whisper reached bob within 20 tries after the kill");

        // The directory, brought back from Redis, lists bob's one connection: in the garden.
        var entries = await directory.Get();
        var entry = Assert.Single(entries);
        Assert.Equal(("mud", "garden"), (entry.RoomType, entry.RoomName));

        // A ban reaches bob through it, and his entry goes with his connection.
        await mod.SendAsync("/ban bob spam");
        var (status, reason, _) = await bob.WaitClosedAsync(Bound);
        Assert.Equal(4003, (int?)status);
        Assert.Equal("banned: spam", reason);
        var deadline = DateTime.UtcNow + Bound;
        while ((await directory.Get()).Length > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }

        Assert.Empty(await directory.Get());
    }

    private static async Task<TestClient> ArriveAsync(NodeProcess gateway, string name, string room)
    {
        var client = await TestClient.ConnectAsync(gateway.Room("mud", room, $"?name={name}"));
        await NextAsync(client, "room", Bound);
        return client;
    }

    /// <summary>The next JSON message of <paramref name="type"/> (others are skipped), within <paramref name="timeout"/>.</summary>
    private static async Task<JsonElement> NextAsync(TestClient client, string type, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"no {type} message within {timeout.TotalSeconds} s");
            }

            var message = JsonDocument.Parse(await client.ReceiveTextAsync(left)).RootElement;
            if (message.GetProperty("type").GetString() == type)
            {
                return message;
            }
        }
    }
}
