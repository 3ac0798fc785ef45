using System.Text.Json;
using System.Text.Json.Serialization;

namespace RoomActors.Mud;

/// <summary>The venue map: its rooms, read from JSON (<see cref="MudOptions.Venue"/>).</summary>
public sealed record Venue(string Name, IReadOnlyList<VenueRoom> Rooms)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The first room: where attendees arrive and where an evacuation sends them.</summary>
    [JsonIgnore]
    public VenueRoom Entrance => Rooms[0];

    /// <summary>The room with this id or name (case-insensitive), or null.</summary>
    public VenueRoom? Find(string idOrName) =>
        Rooms.FirstOrDefault(r => string.Equals(r.Id, idOrName, StringComparison.OrdinalIgnoreCase))
        ?? Rooms.FirstOrDefault(r => string.Equals(r.Name, idOrName, StringComparison.OrdinalIgnoreCase));

    /// <summary>Reads and checks the venue file; the exception says what is wrong with it.</summary>
    public static Venue Load(string path)
    {
        var full = Path.IsPathRooted(path) ? path : Path.Combine(AppContext.BaseDirectory, path);
        if (!File.Exists(full))
        {
            throw new InvalidDataException($"The venue map {full} does not exist: set Mud:Venue to the path of a venue JSON file.");
        }

        return Parse(File.ReadAllText(full), full);
    }

    /// <summary>Parses and checks a venue map.</summary>
    public static Venue Parse(string json, string source = "the venue map")
    {
        Venue? venue;
        try
        {
            venue = JsonSerializer.Deserialize<Venue>(json, Json);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{source} is not valid JSON: {ex.Message}", ex);
        }

        if (venue?.Rooms is not { Count: > 0 })
        {
            throw new InvalidDataException($"{source} has no rooms: give it {{\"name\": ..., \"rooms\": [{{\"id\": ..., \"name\": ..., \"description\": ..., \"exits\": [...]}}]}}.");
        }

        var ids = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var room in venue.Rooms)
        {
            if (string.IsNullOrEmpty(room.Id) || room.Id.Length > 64 || !room.Id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            {
                throw new InvalidDataException($"{source}: room id '{room.Id}' must be 1-64 characters of letters, digits, '-', '_' or '.'.");
            }

            if (!ids.Add(room.Id))
            {
                throw new InvalidDataException($"{source}: room id '{room.Id}' appears twice.");
            }

            if (room.Capacity is < 1)
            {
                throw new InvalidDataException($"{source}: room '{room.Id}' has capacity {room.Capacity}; leave it out or make it at least 1.");
            }
        }

        foreach (var room in venue.Rooms)
        {
            if (room.Exits.FirstOrDefault(e => !ids.Contains(e)) is { } missing)
            {
                throw new InvalidDataException($"{source}: room '{room.Id}' has an exit to '{missing}', which is not a room of the map.");
            }
        }

        return venue;
    }
}

/// <summary>One room of the venue.</summary>
public sealed record VenueRoom(string Id, string Name, string Description, IReadOnlyList<string> Exits, int? Capacity = null)
{
    /// <summary>No exits when the JSON leaves them out.</summary>
    public IReadOnlyList<string> Exits { get; init; } = Exits ?? [];
}
