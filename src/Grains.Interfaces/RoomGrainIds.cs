namespace RoomActors.Contracts;

/// <summary>How a room type name and a room name become a grain id. Shared by gateways and rooms.</summary>
public static class RoomGrainIds
{
    /// <summary>The prefix of every room grain type: room type <c>chat</c> is grain type <c>room.chat</c>.</summary>
    public const string GrainTypePrefix = "room.";

    /// <summary>
    /// The grain property (in the cluster manifest) that says whether a room type handles HTTP requests; rooms
    /// that do not are never activated for one.
    /// </summary>
    public const string HandlesHttpProperty = "roomactors.http";

    /// <summary>The grain property that says whether a room type has a before-connect hook.</summary>
    public const string BeforeConnectProperty = "roomactors.before-connect";

    /// <summary>The grain type that hosts rooms of the given type name.</summary>
    public static GrainType GrainTypeOf(string roomType) => GrainType.Create(GrainTypePrefix + roomType);

    /// <summary>The grain id of the room (<paramref name="roomType"/>, <paramref name="roomName"/>).</summary>
    public static GrainId Of(string roomType, string roomName) =>
        GrainId.Create(GrainTypeOf(roomType), roomName);

    /// <summary>The room type name of a room grain type, or null when the grain type is not a room.</summary>
    public static string? RoomTypeOf(GrainType grainType)
    {
        var text = grainType.ToString();
        return text is not null && text.StartsWith(GrainTypePrefix, StringComparison.Ordinal)
            ? text[GrainTypePrefix.Length..]
            : null;
    }
}
