using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace RoomActors.Contracts;

/// <summary>
/// The rooms activated in this process, for a gateway in the same process (the all-in-one host, or a silo that also
/// serves sockets): it hands a room its batches on the room's own scheduler, as a turn like any other, without an Orleans
/// message and response per batch. Registered by the silo; absent in a gateway-only process.
/// </summary>
/// <remarks>
/// A room is here from the end of its activation to the start of its deactivation. A gateway that finds it here may
/// still reach it as it leaves: the room then answers through Orleans (see <see cref="ILocalRoom.Receive"/>).
/// </remarks>
internal sealed class LocalRooms
{
    private readonly ConcurrentDictionary<GrainId, ILocalRoom> _rooms = new();

    public void Add(GrainId id, ILocalRoom room) => _rooms[id] = room;

    /// <summary>Removes <paramref name="room"/> (not a newer activation of the same id).</summary>
    public void Remove(GrainId id, ILocalRoom room) => _rooms.TryRemove(KeyValuePair.Create(id, room));

    public bool TryGet(GrainId id, [NotNullWhen(true)] out ILocalRoom? room) => _rooms.TryGetValue(id, out room);
}

/// <summary>A room activation that takes a co-hosted gateway's batches directly.</summary>
internal interface ILocalRoom
{
    /// <summary>
    /// Receives <paramref name="batch"/> as <see cref="IRoomGrain.Receive"/> does, queued on the room's scheduler; callable
    /// from any thread. A room that is leaving passes the batch on through <paramref name="viaOrleans"/>, which reaches the
    /// room's next activation.
    /// </summary>
    Task<ReceiveResult> Receive(InboundBatch batch, IRoomGrain viaOrleans);
}
