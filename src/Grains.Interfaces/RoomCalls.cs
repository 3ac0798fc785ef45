namespace RoomActors.Contracts;

/// <summary>What a call between rooms (or from the user directory to a room) asks of the target room.</summary>
public enum RoomCallKind
{
    /// <summary>A one-way message from another room: the target's room-message hook runs; no answer.</summary>
    Message = 0,

    /// <summary>A request from another room: the target's room-message hook runs and its reply is the answer.</summary>
    Request = 1,

    /// <summary>From the user directory: send the payload to every connection of the user in this room.</summary>
    UserSend = 2,

    /// <summary>From the user directory: close every connection of the user in this room.</summary>
    UserClose = 3,
}

/// <summary>A call to a room from another room or from the user directory (see <see cref="IRoomGrain.Call"/>).</summary>
[GenerateSerializer, Immutable]
public sealed record RoomCallEnvelope
{
    /// <summary>What is asked.</summary>
    [Id(0)] public RoomCallKind Kind { get; init; }

    /// <summary>The calling room's type; empty when the user directory calls.</summary>
    [Id(1)] public string FromType { get; init; } = "";

    /// <summary>The calling room's name; empty when the user directory calls.</summary>
    [Id(2)] public string FromName { get; init; } = "";

    /// <summary>The message (for <see cref="RoomCallKind.Message"/>, <see cref="RoomCallKind.Request"/>, <see cref="RoomCallKind.UserSend"/>).</summary>
    [Id(3)] public Payload? Payload { get; init; }

    /// <summary>The user, for <see cref="RoomCallKind.UserSend"/> and <see cref="RoomCallKind.UserClose"/>.</summary>
    [Id(4)] public string? UserId { get; init; }

    /// <summary>The close code, for <see cref="RoomCallKind.UserClose"/>.</summary>
    [Id(5)] public int CloseCode { get; init; }

    /// <summary>The close reason, for <see cref="RoomCallKind.UserClose"/>.</summary>
    [Id(6)] public string? CloseReason { get; init; }
}

/// <summary>A room's answer to a <see cref="RoomCallEnvelope"/>.</summary>
/// <param name="Reply">The reply to a request, or null when the hook did not reply.</param>
/// <param name="Error">Why the hook failed (its exception's message), or null.</param>
/// <param name="Count">For user calls: how many of the user's connections the room has (0: the directory's entry is stale).</param>
[GenerateSerializer, Immutable]
public sealed record RoomCallResult([property: Id(0)] Payload? Reply = null, [property: Id(1)] string? Error = null, [property: Id(2)] int Count = 0);

/// <summary>
/// Where one user's connections are, across the cluster: one grain per user id (key), durable, updated by the rooms when
/// a connection with that user joins (and at each start of a room with members) and when it closes.
/// </summary>
public interface IUserDirectory : IGrainWithStringKey
{
    /// <summary>A room accepted a connection of this user.</summary>
    Task Add(UserConnection connection);

    /// <summary>A connection of this user closed.</summary>
    Task Remove(UserConnection connection);

    /// <summary>The user's connections as the directory knows them.</summary>
    Task<UserConnection[]> Get();

    /// <summary>Sends <paramref name="payload"/> to every connection of the user, through the rooms that hold them. Returns how many got it.</summary>
    Task<int> Send(Payload payload);

    /// <summary>Closes every connection of the user, through the rooms that hold them. Returns how many closed.</summary>
    Task<int> Close(int code, string reason);
}
