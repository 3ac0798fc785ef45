using RoomActors.Mud;

namespace RoomActors.Tests.Mud;

/// <summary>The venue map is data, checked when it is loaded (at the hub's start and on /reload).</summary>
public sealed class VenueTests
{
    [Fact]
    public void The_shipped_venue_has_at_least_ten_rooms_whose_exits_all_lead_somewhere()
    {
        var venue = Venue.Load("venue.json");
        Assert.True(venue.Rooms.Count >= 10);
        Assert.Equal("entrance", venue.Entrance.Id);
        Assert.All(venue.Rooms.SelectMany(r => r.Exits), exit => Assert.NotNull(venue.Find(exit)));
        Assert.Equal("theater", venue.Find("main theater")?.Id);
    }

    [Theory]
    [InlineData("{", "not valid JSON")]
    [InlineData("""{"name":"x","rooms":[]}""", "has no rooms")]
    [InlineData("""{"name":"x","rooms":[{"id":"a","name":"A","description":"","exits":["b"]}]}""", "exit to 'b', which is not a room")]
    [InlineData("""{"name":"x","rooms":[{"id":"a","name":"A","description":"","exits":[]},{"id":"A","name":"B","description":"","exits":[]}]}""", "appears twice")]
    [InlineData("""{"name":"x","rooms":[{"id":"a b","name":"A","description":"","exits":[]}]}""", "must be 1-64 characters")]
    [InlineData("""{"name":"x","rooms":[{"id":"a","name":"A","description":"","exits":[],"capacity":0}]}""", "capacity 0")]
    public void A_bad_map_is_refused_with_what_is_wrong(string json, string expected)
    {
        var error = Assert.Throws<InvalidDataException>(() => Venue.Parse(json));
        Assert.Contains(expected, error.Message);
    }

    [Theory]
    [InlineData("hello", "say", "", "hello")]
    [InlineData("/me waves", "me", "", "waves")]
    [InlineData("/w Bob  hi there", "whisper", "Bob", "hi there")]
    [InlineData("/go Main Theater", "go", "Main Theater", "")]
    [InlineData("/look", "look", "", "")]
    [InlineData("/ban Bob spamming links", "ban", "Bob", "spamming links")]
    public void Lines_parse_into_commands(string line, string verb, string target, string text) =>
        Assert.Equal(new MudCommand(verb, target, text), MudCommand.Parse(line, out _));

    [Theory]
    [InlineData("/fly", "unknown command /fly")]
    [InlineData("/whisper Bob", "say what")]
    [InlineData("/shout", "/shout TEXT")]
    [InlineData("   ", "say something")]
    public void Bad_lines_say_what_is_wrong(string line, string expected)
    {
        Assert.Null(MudCommand.Parse(line, out var error));
        Assert.Contains(expected, error);
    }
}
