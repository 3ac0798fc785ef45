using System.Text.Json;
using RoomActors.Tests.Infrastructure;
using RoomActors.Tests.Protocol;

namespace RoomActors.Tests.Mud;

/// <summary>
/// Presence is honest over real sockets (the all-in-one host, <c>roomactors.v1</c> clients): a network drop followed by a
/// resume within the window shows no leave and no arrival; a drop without a resume takes the attendee out of the room
/// and the room list once the resume window (3 s here, 30 s in the MUD's appsettings) has passed.
/// </summary>
public sealed class MudPresenceTests : IAsyncLifetime
{
    private AllInOneServer _server = null!;

    public async Task InitializeAsync() => _server = await AllInOneServer.StartAsync(
        "--RoomActors:Rooms:ResumeWindow=00:00:03", "--RoomActors:Rooms:LeaseCheckInterval=00:00:01");

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<V1Client> ArriveAsync(string name)
    {
        var client = await V1Client.ConnectAsync(_server.Room("mud", "entrance", $"?name={name}"));
        await NextAsync(client, "room");
        return client;
    }

    /// <summary>Reads room messages until one of <paramref name="type"/>; returns it and the types read before it.</summary>
    private static async Task<(JsonElement Message, List<string> Before)> NextAsync(V1Client client, string type, Func<JsonElement, bool>? match = null)
    {
        var before = new List<string>();
        while (true)
        {
            var frame = await client.NextAsync(TimeSpan.FromSeconds(20));
            if (frame.Kind != "m")
            {
                continue;
            }

            var json = frame.Json;
            var kind = json.GetProperty("type").GetString()!;
            if (kind == type && (match is null || match(json)))
            {
                return (json, before);
            }

            before.Add(kind == "leave" || kind == "arrive" ? $"{kind} {json.GetProperty("name").GetString()}" : kind);
        }
    }

    [Fact]
    public async Task A_drop_and_a_resume_within_the_window_show_no_leave_and_no_arrival()
    {
        await using var bob = await ArriveAsync("Bob");
        var ada = await ArriveAsync("Ada");
        await NextAsync(bob, "arrive");
        var (id, token, seq) = (ada.Id, ada.Token, ada.LastSeq);
        await ada.DropAsync();
        await bob.SendAsync("are you there?");

        await using var back = await V1Client.ResumeAsync(_server.Room("mud", "entrance", "?name=Ada"), token, seq, id);
        var missed = await NextAsync(back, "say");
        Assert.Equal("are you there?", missed.Message.GetProperty("text").GetString());
        await back.SendAsync("still here");

        var (said, before) = await NextAsync(bob, "say", m => m.GetProperty("text").GetString() == "still here");
        Assert.Equal("Ada", said.GetProperty("name").GetString());
        Assert.DoesNotContain(before, b => b.EndsWith(" Ada"));
    }

    [Fact]
    public async Task A_drop_without_a_resume_takes_the_attendee_out_of_the_room_and_the_room_list_after_the_window()
    {
        await using var bob = await ArriveAsync("Bob");
        var ada = await ArriveAsync("Ada");
        await NextAsync(bob, "rooms", m => Count(m) == 2);
        await ada.DropAsync();
        var (leave, _) = await NextAsync(bob, "leave");
        Assert.Equal("Ada", leave.GetProperty("name").GetString());
        await NextAsync(bob, "rooms", m => Count(m) == 1);
    }

    private static int Count(JsonElement rooms) =>
        rooms.GetProperty("rooms").EnumerateArray().Single(r => r.GetProperty("id").GetString() == "entrance").GetProperty("count").GetInt32();
}
