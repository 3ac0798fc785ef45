using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using RoomActors.Mud;
using RoomActors.Testing;

namespace RoomActors.Tests.Mud;

/// <summary>
/// The conference MUD's commands, each tested through the test kit (no sockets): a fresh venue per test, attendees signed
/// in by name (dev mode), <c>Mod</c> a moderator.
/// </summary>
public sealed class MudTests : IAsyncLifetime
{
    private RoomTestHost _host = null!;

    public async Task InitializeAsync() => _host = await StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    internal static Task<RoomTestHost> StartAsync(Action<MudOptions>? configure = null) => RoomTestHost.StartAsync(new RoomTestHostOptions
    {
        ConfigureServices = services => services.Configure<MudOptions>(o =>
        {
            o.Moderators.Add("mod");
            configure?.Invoke(o);
        }),
    });

    /// <summary>Signs <paramref name="name"/> in to <paramref name="room"/>; returns the client and the room it saw.</summary>
    internal static async Task<(TestRoomClient Client, JsonElement Room)> ArriveAsync(RoomTestHost host, string name, string room = "entrance")
    {
        var client = await host.ConnectAsync(MudRoom.Type, room, $"?name={name}");
        return (client, await client.NextJsonAsync(Is("room")));
    }

    internal static Func<JsonElement, bool> Is(string type) => m => m.GetProperty("type").GetString() == type;

    private static string[] Names(JsonElement list) => list.EnumerateArray().Select(o => o.GetProperty("name").GetString()!).Order().ToArray();

    /// <summary>Follows a move: the moved message, the close with 4000, and the arrival in the new room.</summary>
    private async Task<(TestRoomClient Client, JsonElement Room)> FollowAsync(TestRoomClient client, string name)
    {
        var moved = await client.NextJsonAsync(Is("moved"));
        Assert.Equal(MudCodes.Moved, (await client.ClosedAsync()).Code);
        return await ArriveAsync(_host, name, moved.GetProperty("room").GetString()!);
    }

    [Fact]
    public async Task Signing_in_shows_the_room_its_exits_who_is_there_and_the_room_list()
    {
        var (ada, room) = await ArriveAsync(_host, "Ada");
        Assert.Equal("entrance", room.GetProperty("id").GetString());
        Assert.Equal("Entrance", room.GetProperty("name").GetString());
        Assert.Contains("volunteer", room.GetProperty("description").GetString());
        Assert.Equal(["garden", "lounge", "registration", "theater"], room.GetProperty("exits").EnumerateArray().Select(e => e.GetProperty("id").GetString()!).Order());
        Assert.Equal(["Ada"], Names(room.GetProperty("occupants")));
        Assert.Equal("Ada", room.GetProperty("you").GetProperty("name").GetString());
        Assert.False(room.GetProperty("you").GetProperty("moderator").GetBoolean());
        var list = room.GetProperty("rooms").EnumerateArray().ToList();
        Assert.True(list.Count >= 10, "the venue has at least 10 rooms");
        Assert.Equal(1, list.Single(r => r.GetProperty("id").GetString() == "entrance").GetProperty("count").GetInt32());

        var (bob, seen) = await ArriveAsync(_host, "Bob");
        Assert.Equal(["Ada", "Bob"], Names(seen.GetProperty("occupants")));
        var arrive = await ada.NextJsonAsync(Is("arrive"));
        Assert.Equal("Bob", arrive.GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Null, arrive.GetProperty("from").ValueKind);
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("a-name-that-is-longer-than-thirty-two")]
    [InlineData("<script>")]
    public async Task A_bad_name_is_refused_with_4400(string name)
    {
        var refused = await Assert.ThrowsAsync<RoomRejectedException>(() => _host.ConnectAsync(MudRoom.Type, "entrance", $"?name={Uri.EscapeDataString(name)}"));
        Assert.Equal(MudCodes.BadName, refused.Code);
    }

    [Fact]
    public async Task Say_me_and_dance_reach_everyone_in_the_room_and_arrivals_see_them_in_the_history()
    {
        var (ada, _) = await ArriveAsync(_host, "Ada");
        var (bob, _) = await ArriveAsync(_host, "Bob");
        await ada.SendAsync("hello, world");
        await ada.SendAsync("/me waves");
        await ada.SendAsync("/dance");
        foreach (var client in new[] { ada, bob })
        {
            var say = await client.NextJsonAsync(Is("say"));
            Assert.Equal(("Ada", "hello, world"), (say.GetProperty("name").GetString(), say.GetProperty("text").GetString()));
            Assert.StartsWith("entrance:", say.GetProperty("id").GetString());
            Assert.Equal("waves", (await client.NextJsonAsync(Is("me"))).GetProperty("text").GetString());
            Assert.Equal("Ada", (await client.NextJsonAsync(Is("dance"))).GetProperty("name").GetString());
        }

        var (_, room) = await ArriveAsync(_host, "Cy");
        Assert.Equal(["say", "me", "dance"], room.GetProperty("history").EnumerateArray().Select(h => h.GetProperty("type").GetString()!));
    }

    [Fact]
    public async Task The_census_drops_an_attendee_whose_leave_never_reached_the_hub()
    {
        await using var host = await StartAsync(o => o.CensusInterval = TimeSpan.FromSeconds(1));

        // The hub counts Ghost in the cafe on a connection the cafe never had: what a leave lost with its room's silo leaves.
        var hub = host.Grains.GetGrain<IRoomGrain>(RoomGrainIds.Of(HubRoom.Type, HubRoom.Main));
        var enter = """{"op":"enter","user":"ghost","name":"Ghost","room":"cafe","connection":"c-ghost"}""";
        var reply = await hub.Call(new RoomCallEnvelope
        {
            Kind = RoomCallKind.Request, FromType = MudRoom.Type, FromName = "cafe", Payload = new Payload(true, System.Text.Encoding.UTF8.GetBytes(enter)),
        });
        Assert.Null(reply.Error);

        var (ada, room) = await ArriveAsync(host, "Ada", "cafe");
        Assert.Equal(2, Count(room, "cafe")); // Ghost and Ada
        await ada.SendAsync("/whisper Ghost are you there?");
        Assert.Equal("Ghost", (await ada.NextJsonAsync(Is("whisper"))).GetProperty("to").GetString()); // the hub still knows Ghost

        // A census every second; the first one past the margin (entered 10 s before it) drops Ghost, and the list follows.
        var list = await ada.NextJsonAsync(m => Is("rooms")(m) && Count(m, "cafe") == 1, HubRoom.CensusMargin + TimeSpan.FromSeconds(20));
        Assert.Equal(1, Count(list, "cafe"));
        await ada.SendAsync("/whisper Ghost hello?");
        Assert.Equal("Ghost is not here", (await ada.NextJsonAsync(Is("error"))).GetProperty("message").GetString());
        await ada.SendAsync("/look");
        Assert.Equal(["Ada"], Names((await ada.NextJsonAsync(Is("room"))).GetProperty("occupants")));
    }

    [Fact]
    public async Task A_wrong_move_hint_still_signs_the_attendee_in()
    {
        // `from` says "I was moved here", but Ada was not: the hub asks for her profile and the room signs her in.
        var client = await _host.ConnectAsync(MudRoom.Type, "garden", "?name=Ada&from=entrance");
        var room = await client.NextJsonAsync(Is("room"));
        Assert.Equal("Ada", room.GetProperty("you").GetProperty("name").GetString());
        var (_, seen) = await ArriveAsync(_host, "Bob", "garden");
        Assert.Equal(["Ada", "Bob"], Names(seen.GetProperty("occupants")));
    }

    [Fact]
    public async Task The_history_is_the_last_n_messages_in_order_after_the_room_restarts_from_storage()
    {
        await using var host = await StartAsync(o => o.History = 3);
        var (ada, _) = await ArriveAsync(host, "Ada", "cafe");
        for (var i = 1; i <= 7; i++)
        {
            await ada.SendAsync($"line {i}");
            await ada.NextJsonAsync(Is("say"));
        }

        await ada.CloseAsync();
        await host.RestartRoomAsync(MudRoom.Type, "cafe"); // a new activation reads the ring from storage
        var (bob, room) = await ArriveAsync(host, "Bob", "cafe");
        Assert.Equal(["line 5", "line 6", "line 7"], room.GetProperty("history").EnumerateArray().Select(h => h.GetProperty("text").GetString()!));

        await bob.SendAsync("line 8");
        var eighth = await bob.NextJsonAsync(Is("say"));
        Assert.EndsWith(":8", eighth.GetProperty("id").GetString()); // message ids go on from where they were
        await host.RestartRoomAsync(MudRoom.Type, "cafe");
        var (_, again) = await ArriveAsync(host, "Cy", "cafe");
        Assert.Equal(["line 6", "line 7", "line 8"], again.GetProperty("history").EnumerateArray().Select(h => h.GetProperty("text").GetString()!));
    }

    [Fact]
    public async Task The_room_list_goes_out_at_most_once_per_interval_however_many_move()
    {
        await using var host = await StartAsync(o => o.RoomListInterval = TimeSpan.FromSeconds(3));
        var (watcher, _) = await ArriveAsync(host, "Watcher", "cafe");
        var started = DateTime.UtcNow;
        for (var i = 0; i < 8; i++)
        {
            await ArriveAsync(host, $"Guest{i}", "garden"); // each arrival changes the list
            await Task.Delay(700);
        }

        // Every change is in a list within the interval; and in the time it took, at most one list per 3 s went out
        // (the first at once, for the watcher's own arrival). Once a second, as before the setting, would be about 7.
        var last = await watcher.NextJsonAsync(m => Is("rooms")(m) && Count(m, "garden") == 8, TimeSpan.FromSeconds(15));
        var elapsed = DateTime.UtcNow - started;
        var lists = watcher.Received.Count(m => m.Text.StartsWith("{\"type\":\"rooms\"", StringComparison.Ordinal));
        Assert.InRange(lists, 2, 2 + (int)(elapsed.TotalSeconds / 3));
        Assert.Equal(1, Count(last, "cafe"));
    }

    [Fact]
    public async Task A_line_over_1000_characters_is_refused_whole_and_nothing_is_said()
    {
        var (ada, _) = await ArriveAsync(_host, "Ada");
        var (bob, _) = await ArriveAsync(_host, "Bob");
        await ada.SendAsync(new string('x', 1001));
        var error = await ada.NextJsonAsync(Is("error"));
        Assert.Contains("1001 characters; the most is 1000", error.GetProperty("message").GetString());
        await ada.SendAsync(new string('y', 1000));
        Assert.Equal(1000, (await bob.NextJsonAsync(Is("say"))).GetProperty("text").GetString()!.Length);
        Assert.DoesNotContain(bob.Received, m => m.Text.Contains("xxxx"));
    }

    [Fact]
    public async Task Go_moves_an_attendee_both_rooms_see_it_and_the_room_list_counts_them_once()
    {
        var (ada, _) = await ArriveAsync(_host, "Ada");
        var (bob, _) = await ArriveAsync(_host, "Bob");
        var (cy, _) = await ArriveAsync(_host, "Cy", "lounge");

        await ada.SendAsync("/go lounge");
        var leave = await bob.NextJsonAsync(Is("leave"));
        Assert.Equal(("Ada", "lounge"), (leave.GetProperty("name").GetString(), leave.GetProperty("to").GetString()));
        var (ada2, room) = await FollowAsync(ada, "Ada");
        Assert.Equal("lounge", room.GetProperty("id").GetString());
        Assert.Equal(["Ada", "Cy"], Names(room.GetProperty("occupants")));
        var arrive = await cy.NextJsonAsync(Is("arrive"));
        Assert.Equal(("Ada", "entrance"), (arrive.GetProperty("name").GetString(), arrive.GetProperty("from").GetString()));

        // The room list (at most one a second) shows Ada in the lounge only.
        var counts = await bob.NextJsonAsync(m => Is("rooms")(m) && Count(m, "lounge") == 2);
        Assert.Equal(1, Count(counts, "entrance"));

        // By name too; unknown rooms and the room one is in are errors.
        await ada2.SendAsync("/go Main Theater");
        var (ada3, theater) = await FollowAsync(ada2, "Ada");
        Assert.Equal("theater", theater.GetProperty("id").GetString());
        await ada3.SendAsync("/go nowhere");
        Assert.Contains("no room 'nowhere'", (await ada3.NextJsonAsync(Is("error"))).GetProperty("message").GetString());
        await ada3.SendAsync("/go theater");
        Assert.Contains("already", (await ada3.NextJsonAsync(Is("error"))).GetProperty("message").GetString());
    }

    private static int Count(JsonElement rooms, string id) =>
        rooms.GetProperty("rooms").EnumerateArray().Single(r => r.GetProperty("id").GetString() == id).GetProperty("count").GetInt32();

    [Fact]
    public async Task A_whisper_reaches_the_attendee_in_any_room_and_nobody_else()
    {
        var (ada, _) = await ArriveAsync(_host, "Ada");
        var (bob, _) = await ArriveAsync(_host, "Bob", "garden");
        var (cy, _) = await ArriveAsync(_host, "Cy");
        await ada.SendAsync("/whisper bob meet me at the cafe");
        var whisper = await bob.NextJsonAsync(Is("whisper"));
        Assert.Equal(("Ada", "Bob", "meet me at the cafe"), (whisper.GetProperty("from").GetString(), whisper.GetProperty("to").GetString(), whisper.GetProperty("text").GetString()));
        Assert.Equal("meet me at the cafe", (await ada.NextJsonAsync(Is("whisper"))).GetProperty("text").GetString());
        await ada.SendAsync("/w Nobody hi");
        Assert.Equal("Nobody is not here", (await ada.NextJsonAsync(Is("error"))).GetProperty("message").GetString());
        Assert.DoesNotContain(cy.Received, m => m.Text.Contains("meet me"));
    }

    [Fact]
    public async Task A_shout_reaches_every_room_and_a_second_one_waits_for_the_cooldown()
    {
        var (ada, _) = await ArriveAsync(_host, "Ada");
        var (bob, _) = await ArriveAsync(_host, "Bob", "arcade");
        await ada.SendAsync("/shout talks start in 5 minutes");
        foreach (var client in new[] { ada, bob })
        {
            var shout = await client.NextJsonAsync(Is("shout"));
            Assert.Equal(("Ada", "entrance", "talks start in 5 minutes"), (shout.GetProperty("name").GetString(), shout.GetProperty("room").GetString(), shout.GetProperty("text").GetString()));
        }

        await ada.SendAsync("/shout again");
        Assert.Contains("wait", (await ada.NextJsonAsync(Is("error"))).GetProperty("message").GetString());
        Assert.DoesNotContain(bob.Received, m => m.Text.Contains("again"));
    }

    [Fact]
    public async Task Look_and_profile_show_and_keep_pronouns_and_a_description()
    {
        var (ada, _) = await ArriveAsync(_host, "Ada");
        var (bob, _) = await ArriveAsync(_host, "Bob", "cafe");
        await ada.SendAsync("/profile pronouns she/her");
        await ada.NextJsonAsync(Is("notice"));
        await ada.SendAsync("/profile description writes compilers");
        await ada.NextJsonAsync(Is("notice"));
        await bob.SendAsync("/look ada");
        var profile = await bob.NextJsonAsync(Is("profile"));
        Assert.Equal(("Ada", "she/her", "writes compilers", "entrance"), (profile.GetProperty("name").GetString(),
            profile.GetProperty("pronouns").GetString(), profile.GetProperty("description").GetString(), profile.GetProperty("room").GetString()));

        // Persisted: after Ada left and came back, and /look alone shows the room again.
        await ada.CloseAsync();
        var (ada2, room) = await ArriveAsync(_host, "Ada", "garden");
        Assert.Equal("she/her", room.GetProperty("you").GetProperty("pronouns").GetString());
        await ada2.SendAsync("/look");
        Assert.Equal("garden", (await ada2.NextJsonAsync(Is("room"))).GetProperty("id").GetString());
        await ada2.SendAsync("/look Nobody");
        Assert.Equal("nobody is called Nobody", (await ada2.NextJsonAsync(Is("error"))).GetProperty("message").GetString());
    }

    [Fact]
    public async Task A_profile_changed_in_one_room_is_the_one_the_next_room_shows()
    {
        var (ada, _) = await ArriveAsync(_host, "Ada");
        var (bob, _) = await ArriveAsync(_host, "Bob", "garden");
        await ada.SendAsync("/profile pronouns they/them");
        await ada.NextJsonAsync(Is("notice"));
        await ada.SendAsync("/go garden");
        var (_, garden) = await FollowAsync(ada, "Ada");
        Assert.Equal("they/them", garden.GetProperty("you").GetProperty("pronouns").GetString());
        var arrive = await bob.NextJsonAsync(Is("arrive"));
        Assert.Equal(("Ada", "they/them"), (arrive.GetProperty("name").GetString(), arrive.GetProperty("pronouns").GetString()));
    }

    [Fact]
    public async Task A_report_reaches_the_moderators_online_wherever_they_are()
    {
        var (mod, room) = await ArriveAsync(_host, "Mod", "backstage");
        Assert.True(room.GetProperty("you").GetProperty("moderator").GetBoolean());
        var (ada, _) = await ArriveAsync(_host, "Ada");
        await ada.SendAsync("/mod someone is rude in the lounge");
        var report = await mod.NextJsonAsync(Is("report"));
        Assert.Equal(("Ada", "entrance", "someone is rude in the lounge"), (report.GetProperty("from").GetString(), report.GetProperty("room").GetString(), report.GetProperty("text").GetString()));
        Assert.Equal("sent to the moderators", (await ada.NextJsonAsync(Is("notice"))).GetProperty("text").GetString());
    }

    [Fact]
    public async Task Moderator_commands_are_refused_to_attendees()
    {
        var (ada, _) = await ArriveAsync(_host, "Ada");
        foreach (var line in new[] { "/ban Bob", "/delete entrance:1", "/evacuate", "/close", "/open", "/reload", "/unban Bob" })
        {
            await ada.SendAsync(line);
            Assert.EndsWith("is for moderators", (await ada.NextJsonAsync(Is("error"))).GetProperty("message").GetString());
        }
    }

    [Fact]
    public async Task A_moderator_deletes_a_message_everyone_removes_it_and_arrivals_never_see_it()
    {
        var (ada, _) = await ArriveAsync(_host, "Ada");
        var (mod, _) = await ArriveAsync(_host, "Mod", "lounge");
        await ada.SendAsync("something awful");
        var id = (await ada.NextJsonAsync(Is("say"))).GetProperty("id").GetString();
        await ada.SendAsync("something fine");
        await mod.SendAsync($"/delete {id}");
        Assert.Equal(id, (await ada.NextJsonAsync(Is("deleted"))).GetProperty("id").GetString());
        var (_, room) = await ArriveAsync(_host, "Bob");
        Assert.Equal(["something fine"], room.GetProperty("history").EnumerateArray().Select(h => h.GetProperty("text").GetString()!));
    }

    [Fact]
    public async Task A_banned_attendee_is_closed_with_the_reason_everywhere_and_refused_until_unbanned()
    {
        var (bob, _) = await ArriveAsync(_host, "Bob", "cafe");
        var (mod, _) = await ArriveAsync(_host, "Mod");
        await mod.SendAsync("/ban Bob spamming links");
        Assert.Equal((MudCodes.Banned, "banned: spamming links"), await bob.ClosedAsync());
        var refused = await Assert.ThrowsAsync<RoomRejectedException>(() => _host.ConnectAsync(MudRoom.Type, "entrance", "?name=Bob"));
        Assert.Equal((MudCodes.Banned, "banned: spamming links"), (refused.Code, refused.Reason));
        await mod.SendAsync("/unban Bob");
        Assert.Equal("Bob may come back", (await mod.NextJsonAsync(m => Is("notice")(m) && m.GetProperty("text").GetString()!.Contains("come back"))).GetProperty("text").GetString());
        await ArriveAsync(_host, "Bob");
    }

    [Fact]
    public async Task Evacuate_moves_everyone_to_the_entrance()
    {
        var (ada, _) = await ArriveAsync(_host, "Ada", "theater");
        var (bob, _) = await ArriveAsync(_host, "Bob", "garden");
        var (mod, _) = await ArriveAsync(_host, "Mod", "lounge");
        await mod.SendAsync("/evacuate");
        foreach (var (client, name) in new[] { (ada, "Ada"), (bob, "Bob"), (mod, "Mod") })
        {
            var (_, room) = await FollowAsync(client, name);
            Assert.Equal("entrance", room.GetProperty("id").GetString());
        }
    }

    [Fact]
    public async Task Closing_the_space_sends_attendees_out_refuses_new_ones_and_opening_lets_them_in()
    {
        var (ada, _) = await ArriveAsync(_host, "Ada", "cafe");
        var (mod, _) = await ArriveAsync(_host, "Mod", "cafe");
        await mod.SendAsync("/close see you tomorrow");
        Assert.Equal((MudCodes.Closed, "the space is closed: see you tomorrow"), await ada.ClosedAsync());
        Assert.False(mod.IsClosed);
        var refused = await Assert.ThrowsAsync<RoomRejectedException>(() => _host.ConnectAsync(MudRoom.Type, "entrance", "?name=Ada"));
        Assert.Equal(MudCodes.Closed, refused.Code);
        await mod.SendAsync("/open");
        await mod.NextJsonAsync(m => Is("notice")(m) && m.GetProperty("text").GetString() == "the space is open");
        await ArriveAsync(_host, "Ada");
    }

    [Fact]
    public async Task Signing_in_again_closes_the_older_connection_and_the_room_list_counts_one()
    {
        var (ada, _) = await ArriveAsync(_host, "Ada", "cafe");
        var (bob, _) = await ArriveAsync(_host, "Bob", "cafe");
        var (ada2, room) = await ArriveAsync(_host, "Ada", "garden");
        Assert.Equal((MudCodes.SignedInElsewhere, "signed in elsewhere"), await ada.ClosedAsync());
        var counts = await ada2.NextJsonAsync(m => Is("rooms")(m) && Count(m, "cafe") == 1);
        Assert.Equal(1, Count(counts, "garden"));
    }

    [Fact]
    public async Task Leaving_takes_an_attendee_out_of_the_room_and_the_room_list()
    {
        var (ada, _) = await ArriveAsync(_host, "Ada");
        var (bob, _) = await ArriveAsync(_host, "Bob");
        await ada.DropAsync(); // the network dropped (a client without resume: it leaves at once)
        Assert.Equal("Ada", (await bob.NextJsonAsync(Is("leave"))).GetProperty("name").GetString());
        await bob.NextJsonAsync(m => Is("rooms")(m) && Count(m, "entrance") == 1);
        var (_, room) = await ArriveAsync(_host, "Cy");
        Assert.Equal(["Bob", "Cy"], Names(room.GetProperty("occupants")));
    }

    [Fact]
    public async Task A_name_belongs_to_one_user_with_auth_on()
    {
        await ArriveWithTicketAsync("u1", "Ada");
        var refused = await Assert.ThrowsAsync<RoomRejectedException>(() => _host.ConnectAsync(MudRoom.Type, "entrance", "?name=ada", userId: "u2"));
        Assert.Equal(MudCodes.NameTaken, refused.Code);
    }

    private async Task<TestRoomClient> ArriveWithTicketAsync(string user, string name, bool moderator = false)
    {
        var client = await _host.ConnectAsync(MudRoom.Type, "entrance", $"?name={name}", userId: user,
            claims: moderator ? new Dictionary<string, string> { ["mod"] = "true" } : null);
        await client.NextJsonAsync(Is("room"));
        return client;
    }

    [Fact]
    public async Task The_audit_log_keeps_what_was_said_and_done_and_only_moderators_read_it()
    {
        var ada = await ArriveWithTicketAsync("u-ada", "Ada");
        var mod = await ArriveWithTicketAsync("u-mod", "Boss", moderator: true);
        await ada.SendAsync("first words");
        await ada.SendAsync("/whisper Boss a secret");
        await mod.SendAsync("/ban Ada rude");
        await ada.ClosedAsync();

        RoomHttpResponse response = null!;
        for (var i = 0; i < 50; i++)
        {
            response = await _host.RequestAsync(AuditRoom.Type, AuditRoom.Main, userId: "u-mod", claims: new Dictionary<string, string> { ["mod"] = "true" });
            if (JsonDocument.Parse(response.Body).RootElement.GetProperty("total").GetInt64() >= 3)
            {
                break;
            }

            await Task.Delay(100);
        }

        Assert.Equal(200, response.Status);
        var entries = JsonDocument.Parse(response.Body).RootElement.GetProperty("entries").EnumerateArray().ToList();
        Assert.Equal(["say", "whisper", "ban"], entries.Select(e => e.GetProperty("kind").GetString()!));
        Assert.Equal(("u-ada", "first words"), (entries[0].GetProperty("user").GetString(), entries[0].GetProperty("text").GetString()));
        Assert.Equal("Boss", entries[1].GetProperty("target").GetString());
        Assert.Equal(("Ada", "rude"), (entries[2].GetProperty("target").GetString(), entries[2].GetProperty("text").GetString()));
        Assert.Equal([1L, 2L, 3L], entries.Select(e => e.GetProperty("n").GetInt64()));

        var page = await _host.RequestAsync(AuditRoom.Type, AuditRoom.Main, query: "?after=2", userId: "u-mod", claims: new Dictionary<string, string> { ["mod"] = "true" });
        Assert.Equal(["ban"], JsonDocument.Parse(page.Body).RootElement.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("kind").GetString()!));
        Assert.Equal(403, (await _host.RequestAsync(AuditRoom.Type, AuditRoom.Main, userId: "u-ada")).Status);
        Assert.Equal(403, (await _host.RequestAsync(AuditRoom.Type, AuditRoom.Main)).Status);
    }
}
