using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using RoomActors.Documents;
using RoomActors.Testing;

namespace RoomActors.Tests.Documents;

/// <summary>
/// The document room's storage, through the test kit: each update is a record until a snapshot covers it, the covered
/// records go only after the snapshot is written, and a room brought back from storage serves the same document.
/// </summary>
public sealed class DocumentRoomTests
{
    [Fact]
    public async Task Updates_are_compacted_into_a_snapshot_and_a_restarted_room_serves_the_same_document()
    {
        await using var host = await RoomTestHost.StartAsync(new RoomTestHostOptions
        {
            ConfigureServices = services => services.Configure<DocumentOptions>(o => o.CompactAfterBytes = 200),
        });
        var name = "doc-" + Guid.NewGuid().ToString("N")[..8];
        await using var editor = await host.ConnectAsync("notes", name);
        await using var reader = await host.ConnectAsync("notes", name);
        var expected = "";
        for (var i = 0; i < 20; i++)
        {
            var piece = new string((char)('a' + i), 30);
            expected += piece;
            await editor.SendAsync(YTestUpdates.SyncUpdate(YTestUpdates.Insert(7, i * 30L, piece)));
            var relayed = await reader.NextAsync(); // after the turn's save (output gate)
            Assert.Equal(YTestUpdates.SyncUpdate(YTestUpdates.Insert(7, i * 30L, piece)), relayed.Data.ToArray());
        }

        var keys = await StoredKeysAsync(host, name);
        Assert.Contains("y:snapshot", keys);
        var log = keys.Count(k => k.StartsWith("y:u:", StringComparison.Ordinal));
        Assert.InRange(log, 1, 8); // 20 updates of 44 bytes: the snapshot holds all but the last few, whose records are kept

        await host.RestartRoomAsync("notes", name);
        var json = await host.RequestAsync("notes", name, query: "format=json");
        Assert.Equal(JsonSerializer.Serialize(new { text = expected }), System.Text.Encoding.UTF8.GetString(json.Body));

        // A new client's sync step 1 with an empty state vector gets the whole document as step 2.
        await using var late = await host.ConnectAsync("notes", name);
        await late.SendAsync(new byte[] { 0, 0, 1, 0 });
        var step2 = (await late.NextAsync()).Data.ToArray();
        Assert.Equal([0, 1], step2[..2]);
        var update = ReadBytesAfter(step2, 2);
        Assert.Equal(expected, YUpdate.ReadTexts(update)["text"]);
        Assert.Equal((await host.RequestAsync("notes", name)).Body, update); // the document itself, as the room keeps it

        // A client that has part of it gets the rest: the last piece, diffed against its state vector.
        var part = YTestUpdates.Insert(7, 0, expected[..570]);
        var partOf = YUpdate.StateVector(part);
        await late.SendAsync(YMessages.SyncStep1(partOf));
        byte[] frame;
        do
        {
            frame = (await late.NextAsync()).Data.ToArray(); // past the room's step 1 and awareness of the first answer
        }
        while (frame[0] != 0 || frame[1] != 1);

        var rest = ReadBytesAfter(frame, 2);
        Assert.True(rest.Length < 100, $"the rest of the document took {rest.Length} bytes");
        Assert.Equal(expected, YUpdate.ReadTexts(YUpdate.Merge([part, rest]))["text"]);
    }

    private static byte[] ReadBytesAfter(byte[] frame, int at)
    {
        var reader = new Lib0Reader(frame.AsSpan(at));
        return reader.ReadBytes("payload").ToArray();
    }

    private static async Task<IReadOnlyList<string>> StoredKeysAsync(RoomTestHost host, string name)
    {
        var storage = host.SiloServices.GetRequiredKeyedService<IGrainStorage>(RoomOptions.StorageName);
        var keys = new RoomStorage(storage, RoomGrainIds.Of("notes", name), new JsonSerializerOptions(JsonSerializerDefaults.Web));
        await keys.LoadIndexAsync();
        return keys.ListKeys("y:");
    }
}
