using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;
using RoomActors.Tests.Infrastructure;

namespace RoomActors.Tests.Integration;

/// <summary>
/// The rooms' key/value store and connection set on the all-in-one host's real storage provider: the key index is
/// paged (adding a key rewrites one page, not every key), a new key is written without a read, records written before
/// pages or the binary format existed still load.
/// </summary>
public sealed class RoomStorageIndexTests : IAsyncLifetime
{
    private AllInOneServer _server = null!;

    public async Task InitializeAsync() => _server = await AllInOneServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private IGrainStorage Storage => _server.App.Services.GetRequiredKeyedService<IGrainStorage>(RoomOptions.StorageName);

    private static GrainId NewRoom() => GrainId.Create("room.test", Guid.NewGuid().ToString("N"));

    private static RoomStorage Open(IGrainStorage storage, GrainId room) => new(storage, room, new JsonSerializerOptions(JsonSerializerDefaults.Web));

    [Fact]
    public async Task Adding_a_key_to_a_store_of_hundreds_writes_one_index_page_and_reads_nothing()
    {
        var room = NewRoom();
        var spy = new RecordingStorage(Storage);
        var store = Open(spy, room);
        await store.LoadIndexAsync();
        for (var i = 0; i < 300; i++)
        {
            store.Put($"k{i:D4}", i);
        }

        await store.FlushAsync();
        Assert.Equal(3, store.PageCount); // 128 + 128 + 44
        Assert.DoesNotContain(spy.Reads, r => r.StartsWith("kv:", StringComparison.Ordinal)); // new keys: no read first

        spy.Clear();
        store.Put("k0300", 300);
        await store.FlushAsync();
        Assert.Equal(["kv-index:2", "kv:k0300"], spy.Writes.Order().ToArray()); // the page with room, and the record
        Assert.Empty(spy.Reads);

        spy.Clear();
        store.Delete("k0005");
        await store.FlushAsync();
        Assert.Equal(["kv-index"], spy.Writes.ToArray()); // the record is cleared, and page 0 (where k0005 is) rewritten
        Assert.Equal(["kv:k0005"], spy.Clears.ToArray());

        // A new activation reads every page and lists every key with its value.
        var again = Open(Storage, room);
        await again.LoadIndexAsync();
        var all = await again.ListAsync<int>("k");
        Assert.Equal(300, all.Count);
        Assert.DoesNotContain(all, kv => kv.Key == "k0005");
        Assert.All(all, kv => Assert.Equal(int.Parse(kv.Key[1..]), kv.Value));

        // The freed place on page 0 is taken by the next new key.
        spy.Clear();
        var third = Open(spy, room);
        await third.LoadIndexAsync();
        third.Put("k0301", 301);
        await third.FlushAsync();
        Assert.Contains("kv-index", spy.Writes);
        Assert.Equal(3, third.PageCount);
    }

    [Fact]
    public async Task A_store_written_before_pages_loads_and_grows_without_rewriting_its_old_index_per_key()
    {
        var room = NewRoom();
        var legacy = new GrainState<KeyIndex> { State = new KeyIndex() };
        for (var i = 0; i < 200; i++)
        {
            var record = new GrainState<StoredValue> { State = new StoredValue { Json = JsonSerializer.SerializeToUtf8Bytes(i) } };
            await Storage.WriteStateAsync($"kv:old{i:D3}", room, record);
            legacy.State.Keys.Add($"old{i:D3}");
        }

        await Storage.WriteStateAsync("kv-index", room, legacy); // one page of 200 keys, no page count

        var spy = new RecordingStorage(Storage);
        var store = Open(spy, room);
        await store.LoadIndexAsync();
        Assert.Equal(200, store.ListKeys("old").Count);
        Assert.Equal(42, await store.GetAsync<int>("old042"));

        store.Put("new1", 1);
        await store.FlushAsync();
        Assert.Equal(["kv-index", "kv-index:1", "kv:new1"], spy.Writes.Order().ToArray()); // page 0 once, for the page count
        spy.Clear();
        store.Put("new2", 2);
        await store.FlushAsync();
        Assert.Equal(["kv-index:1", "kv:new2"], spy.Writes.Order().ToArray());

        var again = Open(Storage, room);
        await again.LoadIndexAsync();
        Assert.Equal(202, again.ListKeys().Count);
        Assert.Equal(2, await again.GetAsync<int>("new2"));
    }

    [Fact]
    public async Task A_record_left_by_a_turn_that_failed_before_its_index_page_is_taken_over_by_the_next_put()
    {
        var room = NewRoom();
        var orphan = new GrainState<StoredValue> { State = new StoredValue { Json = JsonSerializer.SerializeToUtf8Bytes("lost") } };
        await Storage.WriteStateAsync("kv:orphan", room, orphan); // written, but no index lists it

        var store = Open(Storage, room);
        await store.LoadIndexAsync();
        Assert.Empty(store.ListKeys());
        store.Put("orphan", "kept");
        await store.FlushAsync(); // the blind write meets the old record's ETag, reads it and writes again

        var again = Open(Storage, room);
        await again.LoadIndexAsync();
        Assert.Equal("kept", await again.GetAsync<string>("orphan"));
    }

    [Fact]
    public void Records_are_binary_with_a_marker_and_json_records_written_before_still_read()
    {
        var services = _server.App.Services;
        var records = RoomRecordSerializer.Create(services);
        var json = services.GetRequiredService<IGrainStorageSerializer>();
        var value = new StoredValue { Json = [1, 2, 3, 250] };

        var binary = records.Serialize(value).ToArray();
        Assert.Equal([0, (byte)'R'], binary[..2]);
        Assert.Equal(value.Json, records.Deserialize<StoredValue>(new BinaryData(binary))!.Json);

        var old = json.Serialize(value); // how every record was written before
        Assert.Equal((byte)'{', old.ToArray()[0]);
        Assert.Equal(value.Json, records.Deserialize<StoredValue>(old)!.Json);
    }

    /// <summary>The real storage underneath; it only notes which records were read, written and cleared.</summary>
    private sealed class RecordingStorage(IGrainStorage inner) : IGrainStorage
    {
        public ConcurrentQueue<string> Reads { get; private set; } = new();

        public ConcurrentQueue<string> Writes { get; private set; } = new();

        public ConcurrentQueue<string> Clears { get; private set; } = new();

        public void Clear()
        {
            Reads = new();
            Writes = new();
            Clears = new();
        }

        public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            Reads.Enqueue(stateName);
            return inner.ReadStateAsync(stateName, grainId, grainState);
        }

        public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            Writes.Enqueue(stateName);
            return inner.WriteStateAsync(stateName, grainId, grainState);
        }

        public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            Clears.Enqueue(stateName);
            return inner.ClearStateAsync(stateName, grainId, grainState);
        }
    }
}
