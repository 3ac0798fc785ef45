namespace RoomActors.Mud;

/// <summary>The MUD's settings: configuration section <c>Mud</c>.</summary>
public sealed class MudOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Mud";

    /// <summary>The venue map (JSON): a path, relative to the app's folder unless absolute. Default <c>venue.json</c>.</summary>
    public string Venue { get; set; } = "venue.json";

    /// <summary>Moderators: user ids (with auth on) or names (dev mode), besides tickets with the claim <c>mod</c>=<c>true</c>.</summary>
    public List<string> Moderators { get; set; } = [];

    /// <summary>How long a user waits between two shouts. Default 10 s.</summary>
    public TimeSpan ShoutCooldown { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How many messages a room keeps for arrivals. Default 50.</summary>
    public int History { get; set; } = 50;

    /// <summary>
    /// How often a venue room with attendees tells the hub who is there (a census), so that the hub drops anyone it still
    /// counts there whose leave never reached it (the room's silo crashed between the close and the message). Default 30 s.
    /// </summary>
    public TimeSpan CensusInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How often, at most, the hub sends the room list (live occupancy) to the venue's rooms while it changes: every
    /// attendee gets it, so a venue of many thousands may want it less often. Default 1 s.
    /// </summary>
    public TimeSpan RoomListInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest line, in characters: longer ones are refused, never cut. Default 1,000.</summary>
    public int MaxText { get; set; } = 1000;
}
