using System.Reflection;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Metadata;
using Orleans.Serialization;
using Orleans.Storage;

namespace RoomActors;

/// <summary>
/// What an operator can do to a room (the operator endpoints of <c>RoomActors.Hosting</c> call it; every room implements
/// it). Each method runs between the room's turns (its turn gate), never in the middle of one.
/// </summary>
internal interface IRoomOperations : IGrainWithStringKey
{
    /// <summary>
    /// The room as it is now: its connections, state size, last turn and alarm. Read-only: it runs no hook and does not
    /// count as activity (an inspected room still hibernates on time).
    /// </summary>
    Task<RoomInspection> Inspect();

    /// <summary>Makes the room leave memory now, as hibernation does after <see cref="RoomOptions.HibernateAfter"/>.</summary>
    /// <param name="requestedBy">Who asked (the operator's address), for the room's log. Also keeps the method from being one
    /// without parameters, which the Orleans Dashboard's grain-state view calls on whatever grain it shows.</param>
    Task<HibernateAnswer> Hibernate(string requestedBy);

    /// <summary>
    /// Closes one connection as the room's own <see cref="Connection.Close"/> would, in a turn of its own (its close hook
    /// runs). False when the room has no such connection.
    /// </summary>
    Task<bool> CloseConnection(string connectionId, int code, string reason, string requestedBy);
}

/// <summary>Reads a room's durable records without activating it (for a room that is not in memory).</summary>
internal interface IStoredRoomReader : IGrainWithIntegerKey
{
    /// <summary>The room as its storage has it: its connections, alarm and state size; <see cref="RoomInspection.Awake"/> false.</summary>
    Task<RoomInspection> Read(GrainId room);
}

/// <summary>One room as an operator sees it.</summary>
/// <param name="Awake">True when the room is in memory; false when this was read from its storage (hibernated, or never started).</param>
/// <param name="Silo">The silo the room is active on (awake only).</param>
/// <param name="LastTurn">When the room's last turn ended, or it started (awake only: not stored).</param>
/// <param name="Alarm">When the room's alarm fires next; null when none is set.</param>
/// <param name="StateBytes">The size of the room's typed state as stored (serialized); null for a room without one.</param>
/// <param name="StorageKeys">How many keys the room's key/value storage holds.</param>
/// <param name="Epoch">The room's latest activation epoch (deliveries are numbered within it).</param>
/// <param name="Connections">The room's connections, oldest first.</param>
[GenerateSerializer, Immutable]
internal sealed record RoomInspection(
    [property: Id(0)] bool Awake,
    [property: Id(1)] string? Silo,
    [property: Id(2)] DateTimeOffset? LastTurn,
    [property: Id(3)] DateTimeOffset? Alarm,
    [property: Id(4)] long? StateBytes,
    [property: Id(5)] int StorageKeys,
    [property: Id(6)] long Epoch,
    [property: Id(7)] ConnectionInspection[] Connections);

/// <summary>One connection of a room, as an operator sees it.</summary>
/// <param name="Id">The connection id.</param>
/// <param name="Tags">Its tags, its id first.</param>
/// <param name="Gateway">The gateway that holds its socket (the gateway's Orleans observer id).</param>
/// <param name="User">Its user (verified by a ticket, or named by the connect hook), or null.</param>
/// <param name="Connected">False while the room waits for its client to resume (its socket ended without the client leaving).</param>
/// <param name="Joined">When the room accepted it.</param>
/// <param name="DetachedSince">When its socket ended, while it waits for a resume.</param>
/// <param name="LastPing">When its client last sent the gateway's auto-response request, if ever (as the room last heard).</param>
/// <param name="StateBytes">The size of its per-connection state (JSON).</param>
[GenerateSerializer, Immutable]
internal sealed record ConnectionInspection(
    [property: Id(0)] string Id,
    [property: Id(1)] string[] Tags,
    [property: Id(2)] string Gateway,
    [property: Id(3)] string? User,
    [property: Id(4)] bool Connected,
    [property: Id(5)] DateTimeOffset Joined,
    [property: Id(6)] DateTimeOffset? DetachedSince,
    [property: Id(7)] DateTimeOffset? LastPing,
    [property: Id(8)] int StateBytes)
{
    /// <summary>A connection from its durable record (the same record whether the room is awake or asleep).</summary>
    public static ConnectionInspection Of(ConnectionRecord record, DateTimeOffset? lastPing) => new(
        record.Id,
        record.Tags.Length > 0 && record.Tags[0] == record.Id ? record.Tags : [record.Id, .. record.Tags],
        record.Gateway,
        record.User ?? record.UserId,
        record.DetachedAt == 0,
        new DateTimeOffset(record.Joined, TimeSpan.Zero),
        record.DetachedAt == 0 ? null : new DateTimeOffset(record.DetachedAt, TimeSpan.Zero),
        lastPing,
        record.State?.Length ?? 0);
}

/// <summary>What a forced hibernation did.</summary>
[GenerateSerializer]
internal enum HibernateOutcome
{
    /// <summary>The room leaves memory; its connections are durable and it wakes at the next event.</summary>
    Hibernating,

    /// <summary>The room had no connections: it leaves memory as any empty room does.</summary>
    Deactivating,

    /// <summary>
    /// Refused: some connections wait for their clients to resume, and what those missed is kept in memory only (leaving
    /// memory would make them resync). Try again after the resume window.
    /// </summary>
    ResumePending,

    /// <summary>Refused: the room has no storage (a bare test host), so its connections would be lost.</summary>
    NotDurable,
}

/// <summary>The answer to a forced hibernation.</summary>
/// <param name="Outcome">What happened.</param>
/// <param name="Connections">The room's connections.</param>
/// <param name="Detached">How many of them wait for a resume.</param>
[GenerateSerializer, Immutable]
internal sealed record HibernateAnswer([property: Id(0)] HibernateOutcome Outcome, [property: Id(1)] int Connections, [property: Id(2)] int Detached);

/// <summary>
/// Reads a room's records from the <c>roomactors</c> grain storage without activating the room, so that inspecting a
/// hibernated room does not wake it (no start hook, no new epoch). What it reads is what the room wrote at the end of its
/// last turn that changed it: the same records the room takes back when it wakes.
/// </summary>
[StatelessWorker]
internal sealed class StoredRoomReader : Grain, IStoredRoomReader
{
    /// <summary>
    /// The record name Orleans' <c>IGrainRuntime.GetStorage</c> gives a grain's typed state: where <see cref="Room{TState}"/>
    /// kept its state before it wrote <see cref="Room.StateRecordName"/>.
    /// </summary>
    private const string LegacyStateRecord = "state";

    private static readonly MethodInfo StateBytesOfType =
        typeof(StoredRoomReader).GetMethod(nameof(ReadStateBytesAsync), BindingFlags.NonPublic | BindingFlags.Static)!;

    // The rooms' default JSON settings; a room that changed its JsonOptions' naming would be read with these (web
    // defaults read any casing).
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<RoomInspection> Read(GrainId room)
    {
        if (ServiceProvider.GetKeyedService<IGrainStorage>(RoomOptions.StorageName) is not { } storage)
        {
            return new RoomInspection(false, null, null, null, null, 0, 0, []); // no storage: a room keeps nothing outside memory
        }

        var membership = new RoomStorage(storage, room, Json, Room.MembershipIndex, Room.MembershipPrefix);
        await membership.LoadIndexAsync();
        var records = await membership.ListAsync<ConnectionRecord>();
        var keys = new RoomStorage(storage, room, Json);
        await keys.LoadIndexAsync();
        var system = new GrainState<RoomSystemState>();
        await storage.ReadStateAsync(Room.SystemRecord, room, system);
        return new RoomInspection(
            Awake: false,
            Silo: null,
            LastTurn: null,
            Alarm: system.State?.AlarmAt,
            StateBytes: await StateBytesAsync(storage, room),
            StorageKeys: keys.ListKeys().Count,
            Epoch: system.State?.Epoch ?? 0,
            Connections: [.. records.Select(r => r.Value).OfType<ConnectionRecord>().OrderBy(r => r.Joined).Select(r => ConnectionInspection.Of(r, null))]);
    }

    /// <summary>The serialized size of the room's typed state, as its class declares it (<see cref="Room{TState}"/>); null without one.</summary>
    private async Task<long?> StateBytesAsync(IGrainStorage storage, GrainId room)
    {
        var record = new GrainState<StateRecord>();
        await storage.ReadStateAsync(Room.StateRecordName, room, record);
        if (record.RecordExists && record.State is { } stored)
        {
            return stored.State.Length;
        }

        if (!ServiceProvider.GetRequiredService<GrainClassMap>().TryGetGrainClass(room.Type, out var roomClass))
        {
            return null;
        }

        for (var type = roomClass; type is not null; type = type.BaseType)
        {
            if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Room<>))
            {
                var read = (Task<long>)StateBytesOfType.MakeGenericMethod(type.GetGenericArguments()[0])
                    .Invoke(null, [storage, room, ServiceProvider.GetRequiredService<Serializer>()])!;
                return await read;
            }
        }

        return null;
    }

    /// <summary>As <see cref="Room{TState}"/> loads a state stored before <see cref="Room.StateRecordName"/>, or a new one when none was stored.</summary>
    private static async Task<long> ReadStateBytesAsync<TState>(IGrainStorage storage, GrainId room, Serializer serializer)
        where TState : new()
    {
        var state = new GrainState<TState>();
        await storage.ReadStateAsync(LegacyStateRecord, room, state);
        return serializer.SerializeToArray(state.State ?? new TState()).Length;
    }
}
