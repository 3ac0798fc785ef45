using System.Net;

namespace RoomActors.Gateway.Limits;

/// <summary>
/// The room-name flood guard (<see cref="GatewayOptions.NewRoomsPerMinute"/>): each client address may ask for at most
/// <c>limit</c> distinct rooms without a socket on this gateway within a sliding <c>window</c>. Asking again for a room
/// it asked for within the window costs nothing (a client reconnecting to its room, or polling it over HTTP, is not a
/// flood); a name counts again once its window has passed.
/// </summary>
/// <remarks>
/// Memory is bounded: an address keeps at most <c>limit</c> entries of 16 bytes (a 64-bit hash of the room, not its
/// name, and when it was first asked for), entries leave with their window, idle addresses are swept once per window,
/// and the whole gateway tracks at most <see cref="MaxTracked"/> entries: past that (a flood from very many addresses)
/// a further new room is refused for every address until entries expire, which is the point of the limit. One lock:
/// each call is O(1) amortized, the sweep O(entries) once per window.
/// </remarks>
internal sealed class NewRoomBudget(int limit, TimeSpan window, TimeProvider time)
{
    /// <summary>The most (address, room) entries tracked at once: about 16 MB of entries, plus the sets' overhead.</summary>
    public const int MaxTracked = 1_000_000;

    private readonly Lock _lock = new();
    private readonly Dictionary<IPAddress, Names> _addresses = new();
    private int _tracked;
    private long _lastSweep = time.GetTimestamp();

    /// <summary>Entries tracked now (for tests).</summary>
    internal int Tracked
    {
        get
        {
            lock (_lock)
            {
                return _tracked;
            }
        }
    }

    /// <summary>Null when <paramref name="address"/> may ask for the room; else how long until it may ask for a new one.</summary>
    public TimeSpan? TryAdmit(IPAddress address, string type, string name)
    {
        var key = KeyOf(type, name);
        var now = time.GetTimestamp();
        lock (_lock)
        {
            if (time.GetElapsedTime(_lastSweep, now) >= window)
            {
                Sweep(now);
            }

            _addresses.TryGetValue(address, out var names);
            if (names is not null)
            {
                Expire(names, now);
                if (names.Keys.Contains(key))
                {
                    return null;
                }

                if (names.Keys.Count >= limit)
                {
                    return window - time.GetElapsedTime(names.Order.Peek().At, now);
                }
            }

            if (_tracked >= MaxTracked)
            {
                Sweep(now);
                if (_tracked >= MaxTracked)
                {
                    return window;
                }
            }

            if (names is null)
            {
                _addresses[address] = names = new Names();
            }

            names.Order.Enqueue((key, now));
            names.Keys.Add(key);
            _tracked++;
            return null;
        }
    }

    /// <summary>Drops every expired entry and every address left without one.</summary>
    private void Sweep(long now)
    {
        _lastSweep = now;
        List<IPAddress>? empty = null;
        foreach (var (address, names) in _addresses)
        {
            Expire(names, now);
            if (names.Keys.Count == 0)
            {
                (empty ??= []).Add(address);
            }
        }

        foreach (var address in empty ?? [])
        {
            _addresses.Remove(address);
        }
    }

    private void Expire(Names names, long now)
    {
        while (names.Order.TryPeek(out var oldest) && time.GetElapsedTime(oldest.At, now) >= window)
        {
            names.Order.Dequeue();
            names.Keys.Remove(oldest.Key);
            _tracked--;
        }
    }

    /// <summary>A 64-bit hash of the room (two of .NET's per-process randomized hashes): a collision costs one room of budget.</summary>
    private static long KeyOf(string type, string name) =>
        ((long)HashCode.Combine(type, name) << 32) | (uint)HashCode.Combine(name, type, 0x5bd1e995);

    private sealed class Names
    {
        public readonly Queue<(long Key, long At)> Order = new();
        public readonly HashSet<long> Keys = [];
    }
}
