namespace RoomActors;

/// <summary>One connection of a user: the room (type and name) that holds it and its id.</summary>
/// <param name="RoomType">The room's type.</param>
/// <param name="RoomName">The room's name.</param>
/// <param name="ConnectionId">The connection's id.</param>
[GenerateSerializer, Immutable]
public sealed record UserConnection([property: Id(0)] string RoomType, [property: Id(1)] string RoomName, [property: Id(2)] string ConnectionId);
