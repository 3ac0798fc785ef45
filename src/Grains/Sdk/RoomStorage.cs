using System.Text.Json;
using Orleans.Storage;

namespace RoomActors;

/// <summary>
/// A room's key/value store, for data too large to rewrite whole: each key is its own record in the room's grain
/// storage (memory in the all-in-one mode, Redis in distributed mode). <see cref="Put{T}"/> and
/// <see cref="Delete"/> take effect at once in the room's view and are written at the end of the turn, before the
/// turn's messages leave the room (output gate). Values are JSON.
/// </summary>
public sealed class RoomStorage
{
    private readonly string IndexRecord;
    private readonly string KeyPrefix;

    private readonly IGrainStorage _storage;
    private readonly GrainId _room;
    private readonly JsonSerializerOptions _json;
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly HashSet<string> _dirty = new(StringComparer.Ordinal);
    private GrainState<KeyIndex> _index = new();
    private bool _indexDirty;

    internal RoomStorage(IGrainStorage storage, GrainId room, JsonSerializerOptions json, string indexRecord = "kv-index", string keyPrefix = "kv:")
    {
        IndexRecord = indexRecord;
        KeyPrefix = keyPrefix;
        _storage = storage;
        _room = room;
        _json = json;
    }

    /// <summary>The value stored under <paramref name="key"/>, or default when there is none.</summary>
    public async Task<T?> GetAsync<T>(string key)
    {
        var entry = await LoadAsync(key);
        return entry.State.State?.Json is { } json ? JsonSerializer.Deserialize<T>(json, _json) : default;
    }

    /// <summary>Stores <paramref name="value"/> under <paramref name="key"/> (durable at the end of the turn).</summary>
    public void Put<T>(string key, T value)
    {
        ValidateKey(key);
        var entry = _entries.TryGetValue(key, out var known) ? known : _entries[key] = new Entry(new GrainState<StoredValue>(), Loaded: false);
        entry.State.State = new StoredValue { Json = JsonSerializer.SerializeToUtf8Bytes(value, _json) };
        _dirty.Add(key);
        if (Keys.Add(key))
        {
            _indexDirty = true;
        }
    }

    /// <summary>Removes <paramref name="key"/> (durable at the end of the turn). Nothing happens when it is absent.</summary>
    public void Delete(string key)
    {
        ValidateKey(key);
        if (!Keys.Remove(key))
        {
            return;
        }

        _indexDirty = true;
        var entry = _entries.TryGetValue(key, out var known) ? known : _entries[key] = new Entry(new GrainState<StoredValue>(), Loaded: false);
        entry.State.State = new StoredValue();
        _dirty.Add(key);
    }

    /// <summary>The keys that start with <paramref name="prefix"/>, in ordinal order.</summary>
    public IReadOnlyList<string> ListKeys(string prefix = "") =>
        Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();

    /// <summary>The keys and values that start with <paramref name="prefix"/>, in ordinal key order.</summary>
    public async Task<IReadOnlyList<KeyValuePair<string, T?>>> ListAsync<T>(string prefix = "")
    {
        var result = new List<KeyValuePair<string, T?>>();
        foreach (var key in ListKeys(prefix))
        {
            result.Add(new(key, await GetAsync<T>(key)));
        }

        return result;
    }

    private HashSet<string> Keys => (_index.State ??= new KeyIndex()).Keys;

    internal bool HasChanges => _dirty.Count > 0 || _indexDirty;

    internal async Task LoadIndexAsync()
    {
        _index = new GrainState<KeyIndex>();
        await _storage.ReadStateAsync(IndexRecord, _room, _index);
        _index.State ??= new KeyIndex();
    }

    /// <summary>Writes every changed key, then the index; the turn's output waits for it.</summary>
    internal async Task FlushAsync()
    {
        if (!HasChanges)
        {
            return;
        }

        var writes = new List<Task>();
        foreach (var key in _dirty)
        {
            var entry = _entries[key];
            if (entry.State.State?.Json is null)
            {
                writes.Add(entry.State.RecordExists ? Timed(() => _storage.ClearStateAsync(KeyPrefix + key, _room, entry.State)) : Task.CompletedTask);
            }
            else
            {
                writes.Add(WriteAsync(key, entry));
            }
        }

        await Task.WhenAll(writes);
        _dirty.Clear();
        if (_indexDirty)
        {
            await Timed(() => _storage.WriteStateAsync(IndexRecord, _room, _index));
            _indexDirty = false;
        }
    }

    private async Task WriteAsync(string key, Entry entry)
    {
        if (!entry.Loaded && entry.State.ETag is null)
        {
            // A blind put of a key never read: learn its ETag first so the write is not taken for a conflict.
            var current = new GrainState<StoredValue>();
            await _storage.ReadStateAsync(KeyPrefix + key, _room, current);
            entry.State.ETag = current.ETag;
            entry.State.RecordExists = current.RecordExists;
        }

        await Timed(() => _storage.WriteStateAsync(KeyPrefix + key, _room, entry.State));
        _entries[key] = entry with { Loaded = true };
    }

    private async Task<Entry> LoadAsync(string key)
    {
        ValidateKey(key);
        if (_entries.TryGetValue(key, out var entry) && (entry.Loaded || _dirty.Contains(key)))
        {
            return entry;
        }

        var state = new GrainState<StoredValue>();
        if (Keys.Contains(key))
        {
            await _storage.ReadStateAsync(KeyPrefix + key, _room, state);
        }

        state.State ??= new StoredValue();
        return _entries[key] = new Entry(state, Loaded: true);
    }

    private static void ValidateKey(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        if (key.Length > 512)
        {
            throw new ArgumentException($"Key of {key.Length} characters exceeds the limit of 512.", nameof(key));
        }
    }

    private static Task Timed(Func<Task> write) => RoomMetrics.WriteAsync(write);

    /// <summary>Drops everything not yet written (the turn failed): the next activation reads storage again.</summary>
    internal void Discard()
    {
        _entries.Clear();
        _dirty.Clear();
        _indexDirty = false;
    }

    private sealed record Entry(GrainState<StoredValue> State, bool Loaded);
}

/// <summary>One stored value, as JSON.</summary>
[GenerateSerializer]
internal sealed class StoredValue
{
    /// <summary>The value's JSON; null when deleted.</summary>
    [Id(0)] public byte[]? Json { get; set; }
}

/// <summary>The keys of a room's store.</summary>
[GenerateSerializer]
internal sealed class KeyIndex
{
    /// <summary>Every key.</summary>
    [Id(0)] public HashSet<string> Keys { get; set; } = new(StringComparer.Ordinal);
}
