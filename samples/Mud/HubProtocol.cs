using System.Text.Json;
using System.Text.Json.Serialization;

namespace RoomActors.Mud;

/// <summary>
/// What the MUD's rooms say to each other (room calls, JSON): requests to the hub and the people room, and the hub's
/// one-way messages to venue rooms. Internal to the app: clients never see these.
/// </summary>
internal static class Wire
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>What clients get: every field, nulls included (samples/Mud/README.md).</summary>
    public static readonly JsonSerializerOptions ClientJson = new(JsonSerializerDefaults.Web);

    public static string Write<T>(T value) => JsonSerializer.Serialize(value, Json);

    public static string ToClient<T>(T value) => JsonSerializer.Serialize(value, ClientJson);

    public static T Read<T>(string json) => JsonSerializer.Deserialize<T>(json, Json)
        ?? throw new InvalidDataException($"expected a {typeof(T).Name}, got null");

    public static T Read<T>(RoomMessage? message) => Read<T>(message?.Text ?? throw new InvalidDataException($"no reply (expected a {typeof(T).Name})"));
}

/// <summary>A request or message between the MUD's rooms: <see cref="Op"/> says which; the other fields as it needs.</summary>
internal sealed record HubCall
{
    public required string Op { get; init; }
    public string? User { get; init; }
    public string? Name { get; init; }
    public string? Pronouns { get; init; }
    public string? Description { get; init; }
    public string? Room { get; init; }
    public string? Connection { get; init; }
    public bool Moderator { get; init; }
    public string? Text { get; init; }
    public string? Id { get; init; }
    public int Code { get; init; }
    public DateTimeOffset? Time { get; init; }
    public RoomInfo? Info { get; init; }
    public RoomCount[]? Rooms { get; init; }

    /// <summary>A census: the connections of the attendees in the room.</summary>
    public string[]? Connections { get; init; }
}

/// <summary>The hub's (or the people room's) answer.</summary>
internal sealed record HubReply
{
    public bool Ok { get; init; } = true;
    public int Code { get; init; }
    public string? Error { get; init; }
    public RoomInfo? Info { get; init; }
    public RoomCount[]? Rooms { get; init; }
    public bool Open { get; init; } = true;
    public string? From { get; init; }
    public string? User { get; init; }
    public string? Room { get; init; }
    public Profile? Profile { get; init; }

    /// <summary>The hub does not know the attendee's profile: sign in with the people room and ask again with it.</summary>
    public bool NeedProfile { get; init; }

    public static HubReply Refuse(string error, int code = 0) => new() { Ok = false, Error = error, Code = code };
}

/// <summary>A room of the venue as its occupants see it.</summary>
internal sealed record RoomInfo(string Id, string Name, string Description, ExitInfo[] Exits, int? Capacity);

internal sealed record ExitInfo(string Id, string Name);

/// <summary>One line of the room list.</summary>
internal sealed record RoomCount(string Id, string Name, int Count, int? Capacity);

/// <summary>An attendee's profile.</summary>
internal sealed record Profile(string Name, string Pronouns = "", string Description = "");
