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

    // The index of keys, in pages of at most PageSize keys (page 0 is the index record itself, so stores written before
    // pages existed load as one page): adding or removing a key rewrites one page, not every key the room has.
    private readonly List<GrainState<KeyIndex>> _pages = new();
    private readonly Dictionary<string, int> _pageOf = new(StringComparer.Ordinal);
    private readonly HashSet<int> _dirtyPages = new();

    /// <summary>Keys per index page: a page written for one added or removed key stays a few kilobytes.</summary>
    internal const int PageSize = 128;

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
        var added = AddKey(key);
        if (!_entries.TryGetValue(key, out var entry))
        {
            // A key the index did not list has no record (unless a turn that wrote one failed before its index page):
            // it is written without reading it first.
            entry = _entries[key] = new Entry(new GrainState<StoredValue>(), Loaded: added, Fresh: added);
        }

        entry.State.State = new StoredValue { Json = JsonSerializer.SerializeToUtf8Bytes(value, _json) };
        _dirty.Add(key);
    }

    /// <summary>Removes <paramref name="key"/> (durable at the end of the turn). Nothing happens when it is absent.</summary>
    public void Delete(string key)
    {
        ValidateKey(key);
        if (!RemoveKey(key))
        {
            return;
        }

        var entry = _entries.TryGetValue(key, out var known) ? known : _entries[key] = new Entry(new GrainState<StoredValue>(), Loaded: false);
        entry.State.State = new StoredValue();
        _dirty.Add(key);
    }

    /// <summary>The keys that start with <paramref name="prefix"/>, in ordinal order.</summary>
    public IReadOnlyList<string> ListKeys(string prefix = "") =>
        _pageOf.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();

    /// <summary>The keys and values that start with <paramref name="prefix"/>, in ordinal key order.</summary>
    public async Task<IReadOnlyList<KeyValuePair<string, T?>>> ListAsync<T>(string prefix = "")
    {
        // Read at once, not one after the other: a room with thousands of records (a big room's connections coming back
        // after a crash) would otherwise wait for thousands of round trips to storage.
        var keys = ListKeys(prefix);
        var values = await Task.WhenAll(keys.Select(GetAsync<T>));
        return keys.Select((key, i) => new KeyValuePair<string, T?>(key, values[i])).ToList();
    }

    internal bool HasChanges => _dirty.Count > 0 || _dirtyPages.Count > 0;

    /// <summary>How many index pages the store has (for tests).</summary>
    internal int PageCount => _pages.Count;

    internal async Task LoadIndexAsync()
    {
        _pages.Clear();
        _pageOf.Clear();
        _dirtyPages.Clear();
        var first = new GrainState<KeyIndex>();
        await _storage.ReadStateAsync(IndexRecord, _room, first);
        first.State ??= new KeyIndex();
        var more = Enumerable.Range(1, Math.Max(0, first.State.Pages - 1)).Select(_ => new GrainState<KeyIndex>()).ToList();
        await Task.WhenAll(more.Select((page, i) => _storage.ReadStateAsync(PageRecord(i + 1), _room, page)));
        _pages.Add(first);
        _pages.AddRange(more);
        for (var i = 0; i < _pages.Count; i++)
        {
            _pages[i].State ??= new KeyIndex();
            foreach (var key in Page(i).Keys)
            {
                _pageOf.TryAdd(key, i);
            }
        }
    }

    private bool AddKey(string key)
    {
        if (_pageOf.ContainsKey(key))
        {
            return false;
        }

        if (_pages.Count == 0)
        {
            _pages.Add(new GrainState<KeyIndex> { State = new KeyIndex() });
        }

        var page = _pages.FindIndex(p => p.State!.Keys.Count < PageSize);
        if (page < 0)
        {
            page = _pages.Count;
            _pages.Add(new GrainState<KeyIndex> { State = new KeyIndex() });
            Page(0).Pages = _pages.Count;
            _dirtyPages.Add(0);
        }

        Page(page).Keys.Add(key);
        _pageOf[key] = page;
        _dirtyPages.Add(page);
        return true;
    }

    private bool RemoveKey(string key)
    {
        if (!_pageOf.Remove(key, out var page))
        {
            return false;
        }

        Page(page).Keys.Remove(key);
        _dirtyPages.Add(page);
        return true;
    }

    private KeyIndex Page(int page) => _pages[page].State!;

    private string PageRecord(int page) => page == 0 ? IndexRecord : $"{IndexRecord}:{page}";

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
        if (_dirtyPages.Count > 0)
        {
            await Task.WhenAll(_dirtyPages.Select(page => Timed(() => _storage.WriteStateAsync(PageRecord(page), _room, _pages[page]))));
            _dirtyPages.Clear();
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

        try
        {
            await Timed(() => _storage.WriteStateAsync(KeyPrefix + key, _room, entry.State));
        }
        catch (InconsistentStateException) when (entry.Fresh)
        {
            // Policy: a key the index did not list, yet its record exists (a turn wrote it and failed before its index
            // page): that record was never part of the store, so this write takes it over, once.
            var current = new GrainState<StoredValue>();
            await _storage.ReadStateAsync(KeyPrefix + key, _room, current);
            entry.State.ETag = current.ETag;
            entry.State.RecordExists = current.RecordExists;
            await Timed(() => _storage.WriteStateAsync(KeyPrefix + key, _room, entry.State));
        }

        _entries[key] = entry with { Loaded = true, Fresh = false };
    }

    private async Task<Entry> LoadAsync(string key)
    {
        ValidateKey(key);
        if (_entries.TryGetValue(key, out var entry) && (entry.Loaded || _dirty.Contains(key)))
        {
            return entry;
        }

        var state = new GrainState<StoredValue>();
        if (_pageOf.ContainsKey(key))
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
        _dirtyPages.Clear();
    }

    /// <param name="State">The record.</param>
    /// <param name="Loaded">Its ETag is known (read, written, or known not to exist).</param>
    /// <param name="Fresh">Added to the index by this activation and not written yet.</param>
    private sealed record Entry(GrainState<StoredValue> State, bool Loaded, bool Fresh = false);
}

/// <summary>One stored value, as JSON.</summary>
[GenerateSerializer]
internal sealed class StoredValue
{
    /// <summary>The value's JSON; null when deleted.</summary>
    [Id(0)] public byte[]? Json { get; set; }
}

/// <summary>A page of the keys of a room's store (page 0 also says how many pages there are).</summary>
[GenerateSerializer]
internal sealed class KeyIndex
{
    /// <summary>The keys of this page.</summary>
    [Id(0)] public HashSet<string> Keys { get; set; } = new(StringComparer.Ordinal);

    /// <summary>On page 0: how many pages the index has (0 or 1: only this one).</summary>
    [Id(1)] public int Pages { get; set; }
}
