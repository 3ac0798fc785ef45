using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using RoomActors.Contracts;
using RoomActors.Gateway;
using RoomActors.Gateway.Sockets;

namespace RoomActors.Hosting;

/// <summary>
/// The room inspector behind <c>/operator/rooms…</c>: lists the rooms in memory by type (Orleans' management grain), shows
/// one room, makes one hibernate, closes one connection. A room that is not in memory is read from its storage instead
/// of being woken; only closing one of its connections wakes it (its close hook must run).
/// </summary>
internal sealed partial class RoomInspector(IGrainFactory grains, RoomTypeCatalog catalog, ILogger<RoomInspector> logger)
{
    /// <summary>The most room names listed per type unless <c>?limit=</c> says otherwise.</summary>
    public const int DefaultLimit = 1000;

    /// <summary>The close code of a connection an operator closes unless <c>?code=</c> says otherwise: 1008 policy violation (final: clients do not reconnect on their own).</summary>
    public const int DefaultCloseCode = CloseCodes.PolicyViolation;

    /// <summary>The close reason of a connection an operator closes unless <c>?reason=</c> says otherwise.</summary>
    public const string DefaultCloseReason = "closed by an operator";

    /// <summary>
    /// How long the inspector waits for a room (or its storage) to answer: a room answers between its turns, so one whose
    /// turn runs long answers late. A timeout is a 504 (see <see cref="RoomActorsOperatorExtensions"/>).
    /// </summary>
    public static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(10);

    /// <summary>How long a forced hibernation waits for the room to leave memory before it answers 202 (still leaving).</summary>
    private static readonly TimeSpan HibernateWait = TimeSpan.FromSeconds(10);

    /// <summary>The longest close reason a WebSocket close frame carries, in UTF-8 bytes.</summary>
    private const int MaxReasonBytes = 123;

    private IManagementGrain Management => grains.GetGrain<IManagementGrain>(0);

    /// <summary>The room types of the cluster (from its manifest).</summary>
    public IEnumerable<string> Types => catalog.Types.Keys;

    /// <summary>The rooms in memory of each of <paramref name="types"/>, names in ordinal order, at most <paramref name="limit"/> per type.</summary>
    public async Task<RoomListing> ListAsync(IEnumerable<string> types, int limit)
    {
        var lists = await Task.WhenAll(types.Select(async type =>
        {
            var ids = await Management.GetActiveGrains(RoomGrainIds.GrainTypeOf(type));
            var names = ids.Select(id => id.Key.ToString()).Distinct().Order(StringComparer.Ordinal).ToList();
            return new RoomTypeRooms(type, names.Count, [.. names.Take(limit)], names.Count > limit);
        }));
        return new RoomListing(lists, limit);
    }

    /// <summary>One room: asked itself when it is in memory, else read from its storage (it stays asleep).</summary>
    public async Task<RoomDetail> InspectAsync(string type, string name)
    {
        var id = RoomGrainIds.Of(type, name);
        var inspection = await IsAwakeAsync(id)
            ? await grains.GetGrain<IRoomOperations>(id).Inspect().WaitAsync(CallTimeout)
            : await grains.GetGrain<IStoredRoomReader>(0).Read(id).WaitAsync(CallTimeout);
        return RoomDetail.Of(type, name, inspection);
    }

    public async Task<IResult> HibernateAsync(HttpContext http, string type, string name)
    {
        var id = RoomGrainIds.Of(type, name);
        Log.Action(logger, "hibernate", type, name, http.Connection.RemoteIpAddress?.ToString());
        if (!await IsAwakeAsync(id))
        {
            return Results.Json(new HibernateResult(type, name, "asleep", "The room is not in memory (hibernated, or not started): nothing to do.", null), Json.Options);
        }

        var answer = await grains.GetGrain<IRoomOperations>(id).Hibernate(Who(http)).WaitAsync(CallTimeout);
        if (answer.Outcome is HibernateOutcome.Hibernating or HibernateOutcome.Deactivating)
        {
            // Answer once it is out of memory: a look right after the answer then reads it from storage, where a look during
            // its deactivation would be forwarded to a new activation and wake it again.
            var gone = await LeftMemoryAsync(id);
            var detail = answer.Outcome == HibernateOutcome.Hibernating
                ? $"The room {(gone ? "left" : "is leaving")} memory with its {answer.Connections} connections; their sockets stay open and the next event wakes it."
                : $"The room has no connections: it {(gone ? "left" : "is leaving")} memory as any empty room does.";
            return Results.Json(new HibernateResult(type, name, gone ? "hibernated" : "hibernating", detail, answer.Connections), Json.Options,
                statusCode: gone ? StatusCodes.Status200OK : StatusCodes.Status202Accepted);
        }

        return answer.Outcome switch
        {
            HibernateOutcome.ResumePending => Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Clients may still resume",
                detail: $"{answer.Detached} of the room's {answer.Connections} connections wait for their clients to resume, and what they "
                    + "missed is kept in memory only: hibernating now would make them resync. Try again after RoomActors:Rooms:ResumeWindow."),
            _ => Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Connections are not durable",
                detail: "This room has no grain storage, so its connections would be lost; it stays in memory."),
        };
    }

    public async Task<IResult> CloseAsync(HttpContext http, string type, string name, string connectionId, int? code, string? reason)
    {
        var closeCode = code ?? DefaultCloseCode;
        var closeReason = reason ?? DefaultCloseReason;
        if (!CloseCodes.IsSendable(closeCode))
        {
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid close code",
                detail: $"Close code {closeCode} cannot be sent: use 1000-1003, 1007-1014 or 3000-4999 (default {DefaultCloseCode}).");
        }

        if (Encoding.UTF8.GetByteCount(closeReason) > MaxReasonBytes)
        {
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Close reason too long",
                detail: $"A close reason is at most {MaxReasonBytes} bytes of UTF-8 (a WebSocket close frame's limit).");
        }

        var id = RoomGrainIds.Of(type, name);

        // A room that is asleep is woken only when it has the connection (its close hook must run).
        if (!await IsAwakeAsync(id) && !(await grains.GetGrain<IStoredRoomReader>(0).Read(id).WaitAsync(CallTimeout)).Connections.Any(c => c.Id == connectionId))
        {
            return NoConnection(type, name, connectionId);
        }

        Log.Action(logger, $"close connection {connectionId} ({closeCode} {closeReason}) of", type, name, http.Connection.RemoteIpAddress?.ToString());
        return await grains.GetGrain<IRoomOperations>(id).CloseConnection(connectionId, closeCode, closeReason, Who(http)).WaitAsync(CallTimeout)
            ? Results.Json(new CloseResult(type, name, connectionId, closeCode, closeReason), Json.Options)
            : NoConnection(type, name, connectionId);
    }

    /// <summary>Null when (<paramref name="type"/>, <paramref name="name"/>) is a room; else the answer, as the gateway gives it.</summary>
    public IResult? Validate(string type, string? name)
    {
        if (!catalog.Contains(type))
        {
            return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown room type",
                detail: $"There is no room type '{type}'. Known types: {string.Join(", ", catalog.Types.Keys)}.");
        }

        if (name is not null && !RoomRoute.IsValidName(name))
        {
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid room name",
                detail: $"A room name is 1-{RoomRoute.MaxNameLength} characters of A-Z a-z 0-9 . _ ~ -.");
        }

        return null;
    }

    /// <summary>
    /// True when the room is in memory on some silo: each silo checks its own activations (no activation is created). A
    /// room that leaves memory at this very moment may be woken by the call that follows; nothing else does.
    /// </summary>
    private async Task<bool> IsAwakeAsync(GrainId room) =>
        await Management.GetGrainActivationCount((GrainReference)(object)grains.GetGrain<IRoomGrain>(room)) > 0;

    /// <summary>Waits (at most <see cref="HibernateWait"/>) until no silo has the room in memory; false if it is still there.</summary>
    private async Task<bool> LeftMemoryAsync(GrainId room)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        while (await IsAwakeAsync(room))
        {
            if (System.Diagnostics.Stopwatch.GetElapsedTime(started) > HibernateWait)
            {
                return false;
            }

            await Task.Delay(50);
        }

        return true;
    }

    private static string Who(HttpContext http) => $"from {http.Connection.RemoteIpAddress}";

    private static IResult NoConnection(string type, string name, string connectionId) =>
        Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such connection",
            detail: $"Room {type}/{name} has no connection '{connectionId}'.");

    private static partial class Log
    {
        [LoggerMessage(EventId = 4102, Level = LogLevel.Information, Message = "Operator from {Remote}: {Action} room {RoomType}/{RoomName}.")]
        public static partial void Action(ILogger logger, string action, string roomType, string roomName, string? remote);
    }
}

/// <summary>The rooms of one type in memory.</summary>
/// <param name="Type">The room type.</param>
/// <param name="Active">How many are in memory.</param>
/// <param name="Rooms">Their names, in ordinal order, at most the listing's limit.</param>
/// <param name="Truncated">True when there are more than listed.</param>
internal sealed record RoomTypeRooms(string Type, int Active, string[] Rooms, bool Truncated);

/// <summary>The answer of <c>GET /operator/rooms</c>.</summary>
/// <param name="Types">Every room type (or the one asked for), with its rooms in memory.</param>
/// <param name="Limit">The most names listed per type.</param>
internal sealed record RoomListing(RoomTypeRooms[] Types, int Limit);

/// <summary>The answer of <c>GET /operator/rooms/{type}/{name}</c> (see <see cref="RoomInspection"/>).</summary>
internal sealed record RoomDetail(
    string Type,
    string Name,
    bool Awake,
    string? Silo,
    DateTimeOffset? LastTurn,
    DateTimeOffset? Alarm,
    long? StateBytes,
    int StorageKeys,
    long Epoch,
    ConnectionInspection[] Connections)
{
    public static RoomDetail Of(string type, string name, RoomInspection room) => new(type, name, room.Awake, room.Silo, room.LastTurn,
        room.Alarm, room.StateBytes, room.StorageKeys, room.Epoch, room.Connections);
}

/// <summary>The answer of a forced hibernation.</summary>
internal sealed record HibernateResult(string Type, string Name, string Result, string Detail, int? Connections);

/// <summary>The answer of a closed connection.</summary>
internal sealed record CloseResult(string Type, string Name, string Closed, int Code, string Reason);

/// <summary>The JSON settings of the operator endpoints.</summary>
internal static class Json
{
    public static readonly System.Text.Json.JsonSerializerOptions Options = new(System.Text.Json.JsonSerializerDefaults.Web)
    {
        // Served as application/json, never inside HTML: ids such as "sys.client/hosted-…+…" stay readable.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}
