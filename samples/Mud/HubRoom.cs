using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace RoomActors.Mud;

/// <summary>
/// <c>mud-hub/main</c>: the venue's one place for what spans rooms. It holds the map, where every attendee online is
/// (so the room list never counts anyone twice or not at all: a move is one step here), the bans, whether the space is
/// open, shouts and reports to the moderators. Venue rooms ask it (room requests) when someone arrives, moves or
/// leaves; it tells them (one-way room messages) of shouts, the room list and moderators' venue-wide actions. It has no
/// sockets: its records are durable (one per attendee online), so it may leave memory and come back.
/// </summary>
[Room(Type)]
public sealed class HubRoom : Room
{
    /// <summary>The room type.</summary>
    public const string Type = "mud-hub";

    /// <summary>The one hub's name.</summary>
    public const string Main = "main";

    /// <summary>How long a move may take before the hub forgets the attendee (their new room never saw them).</summary>
    public static readonly TimeSpan MoveTimeout = TimeSpan.FromSeconds(30);

    private readonly Dictionary<string, Presence> _online = new();
    private readonly Dictionary<string, string> _byName = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, int> _counts = new();
    private readonly Dictionary<string, Ban> _bans = new();
    private readonly Dictionary<string, DateTimeOffset> _lastShout = new();
    private Venue _venue = null!;
    private SpaceState _space = new(true, null);
    private long _shouts;
    private bool _listDirty;
    private DateTimeOffset _listDue; // the room list goes out no earlier than this

    private MudOptions Options => ServiceProvider.GetRequiredService<IOptions<MudOptions>>().Value;

    private DateTimeOffset Now => TimeProvider.GetUtcNow();

    /// <inheritdoc />
    protected override async Task OnStartAsync()
    {
        _venue = Venue.Load(Options.Venue);
        foreach (var (_, presence) in await Storage.ListAsync<Presence>("u:"))
        {
            if (presence is not null)
            {
                Track(presence);
            }
        }

        foreach (var (key, ban) in await Storage.ListAsync<Ban>("ban:"))
        {
            _bans[key["ban:".Length..]] = ban!;
        }

        _space = await Storage.GetAsync<SpaceState>("space") ?? _space;
        _shouts = await Storage.GetAsync<long>("shouts");
    }

    /// <inheritdoc />
    protected override async Task OnRoomMessageAsync(RoomCall call)
    {
        var request = Wire.Read<HubCall>(call.Text);
        var reply = request.Op switch
        {
            "enter" => Enter(request),
            "move" => Move(request),
            "left" => Left(request),
            "census" => Census(request),
            "whereis" => WhereIs(request.Name!),
            "profile" => UpdateProfile(request),
            "shout" => Shout(request),
            "report" => Report(request),
            "rooms" => new HubReply { Rooms = RoomList(), Open = _space.Open },
            "ban" => await BanAsync(request),
            "unban" => await UnbanAsync(request),
            "evacuate" => Evacuate(request),
            "close" => SetOpen(request, open: false),
            "open" => SetOpen(request, open: true),
            "reload" => Reload(request),
            "delete" => DeleteShout(request),
            _ => HubReply.Refuse($"unknown op {request.Op}"),
        };
        call.Reply(Wire.Write(reply));
        ScheduleList();
    }

    /// <summary>The room list goes out at most once per <see cref="MudOptions.RoomListInterval"/>, and the moves that never arrived expire.</summary>
    protected override Task OnAlarmAsync(AlarmInfo alarm)
    {
        var expired = _online.Values.Where(p => p.Connection is null && Now - p.Since > MoveTimeout).ToList();
        foreach (var presence in expired)
        {
            Untrack(presence.User);
        }

        if (_listDirty && Now >= _listDue)
        {
            _listDirty = false;
            _listDue = Now + Options.RoomListInterval;
            var list = new HubCall { Op = "rooms", Rooms = RoomList() };
            foreach (var room in _counts.Where(c => c.Value > 0).Select(c => c.Key))
            {
                GetRoom(MudRoom.Type, room).Send(Wire.Write(list));
            }
        }

        DateTimeOffset? next = _listDirty ? _listDue : null;
        if (_online.Values.Any(p => p.Connection is null) && (next is null || next > Now + MoveCheck))
        {
            next = Now + MoveCheck; // to expire the moves still under way
        }

        if (next is { } at)
        {
            SetAlarm(at);
        }

        return Task.CompletedTask;
    }

    private static readonly TimeSpan MoveCheck = TimeSpan.FromSeconds(5);

    private HubReply Enter(HubCall call)
    {
        var user = call.User!;
        if (_bans.TryGetValue(user, out var ban))
        {
            return HubReply.Refuse($"banned: {ban.Reason}", MudCodes.Banned);
        }

        if (_venue.Find(call.Room!) is not { } room)
        {
            return HubReply.Refuse($"there is no room '{call.Room}'", MudCodes.NoSuchRoom);
        }

        if (!_space.Open && !call.Moderator)
        {
            return HubReply.Refuse(ClosedText(), MudCodes.Closed);
        }

        _online.TryGetValue(user, out var existing);
        var arriving = existing is { Connection: null } && existing.Room == room.Id;
        if (call.Name is null && !(arriving && existing!.Name is not null))
        {
            // Not on the way in with a known profile: the room asks the people room, then asks again with it.
            return new HubReply { Ok = false, NeedProfile = true };
        }
        if (!arriving && !call.Moderator && IsFull(room, user))
        {
            return HubReply.Refuse($"{room.Name} is full", MudCodes.Full);
        }

        if (existing is { Connection: { } older } && older != call.Connection)
        {
            // The same attendee signed in again (another tab, another device): the older connection gives way.
            GetRoom(MudRoom.Type, existing.Room).Send(Wire.Write(new HubCall
            {
                Op = "kick", Connection = older, Code = MudCodes.SignedInElsewhere, Text = "signed in elsewhere",
            }));
        }

        var profile = call.Name is not null ? new Profile(call.Name, call.Pronouns ?? "", call.Description ?? "") : existing!.Profile;
        Put(new Presence(user, profile.Name, profile.Pronouns, room.Id, call.Connection, Now, call.Moderator, arriving ? existing!.From : null,
            profile.Description));
        return new HubReply { Info = Info(room), Rooms = RoomList(), Open = _space.Open, From = arriving ? existing!.From : null, Profile = profile };
    }

    private HubReply Move(HubCall call)
    {
        if (!_online.TryGetValue(call.User!, out var presence) || presence.Connection != call.Connection)
        {
            return HubReply.Refuse("you are not in a room of the venue; reload the page");
        }

        if (_venue.Find(call.Room!) is not { } to)
        {
            return HubReply.Refuse($"there is no room '{call.Room}'; the room list shows them all");
        }

        if (to.Id == presence.Room)
        {
            return HubReply.Refuse($"you are in {to.Name} already");
        }

        if (!presence.Moderator && IsFull(to, presence.User))
        {
            return HubReply.Refuse($"{to.Name} is full");
        }

        // One step: from here on the room list counts the attendee in the new room, and only there.
        Put(presence with { Room = to.Id, Connection = null, Since = Now, From = presence.Room });
        ArmMoveExpiry();
        return new HubReply { Room = to.Id };
    }

    private HubReply Left(HubCall call)
    {
        if (_online.TryGetValue(call.User!, out var presence) && presence.Connection == call.Connection)
        {
            Untrack(presence.User);
        }

        return new HubReply();
    }

    /// <summary>
    /// A venue room says who is there. Whoever the hub counts in that room with a connection the room does not have, and
    /// entered it well before the census was taken, left without the hub hearing of it (a lost <c>left</c>): they are
    /// dropped, as a leave would. Anyone who entered since (or within the clocks' margin) is left alone: the room may
    /// not have had them yet.
    /// </summary>
    private HubReply Census(HubCall call)
    {
        var present = call.Connections?.ToHashSet() ?? [];
        var taken = call.Time ?? Now;
        var gone = _online.Values
            .Where(p => p.Room == call.Room && p.Connection is { } c && !present.Contains(c) && p.Since < taken - CensusMargin)
            .Select(p => p.User)
            .ToList();
        foreach (var user in gone)
        {
            Untrack(user);
        }

        return new HubReply();
    }

    /// <summary>How much older than a census an entry must be for the census to drop it (clocks of different silos).</summary>
    internal static readonly TimeSpan CensusMargin = TimeSpan.FromSeconds(10);

    /// <summary>An attendee online changed their profile: their next move carries the new one.</summary>
    private HubReply UpdateProfile(HubCall call)
    {
        if (_online.TryGetValue(call.User!, out var presence))
        {
            Put(presence with { Pronouns = call.Pronouns ?? presence.Pronouns, Description = call.Description ?? presence.Description });
        }

        return new HubReply();
    }

    private HubReply WhereIs(string name) =>
        _byName.TryGetValue(name, out var user) && _online.TryGetValue(user, out var presence)
            ? new HubReply { User = user, Room = presence.Room, Profile = new Profile(presence.Name, presence.Pronouns) }
            : HubReply.Refuse($"{name} is not here");

    private HubReply Shout(HubCall call)
    {
        var wait = _lastShout.TryGetValue(call.User!, out var last) ? last + Options.ShoutCooldown - Now : TimeSpan.Zero;
        if (wait > TimeSpan.Zero)
        {
            return HubReply.Refuse($"you shouted a moment ago; wait {Math.Ceiling(wait.TotalSeconds)} s");
        }

        _lastShout[call.User!] = Now;
        Storage.Put("shouts", ++_shouts);
        var shout = call with { Id = $"shout:{_shouts}", Time = Now };
        foreach (var room in _counts.Where(c => c.Value > 0).Select(c => c.Key))
        {
            GetRoom(MudRoom.Type, room).Send(Wire.Write(shout));
        }

        return new HubReply { Room = shout.Id };
    }

    private HubReply Report(HubCall call)
    {
        var report = Wire.ToClient(new { type = "report", from = call.Name, room = call.Room, text = call.Text, time = Now });
        var moderators = _online.Values.Where(p => p.Moderator && p.Connection is not null).Select(p => p.User).Distinct().ToList();
        foreach (var moderator in moderators)
        {
            SendToUser(moderator, report);
        }

        return moderators.Count > 0 ? new HubReply() : HubReply.Refuse("no moderator is online; your report is in the log they read");
    }

    private async Task<HubReply> BanAsync(HubCall call)
    {
        if (await ResolveAsync(call.Name!) is not { } user)
        {
            return HubReply.Refuse($"nobody is called {call.Name}");
        }

        var reason = string.IsNullOrWhiteSpace(call.Text) ? "by a moderator" : call.Text;
        _bans[user] = new Ban(call.Name!, reason, call.User!, Now);
        Storage.Put("ban:" + user, _bans[user]);
        CloseUser(user, MudCodes.Banned, $"banned: {reason}");
        return new HubReply { User = user };
    }

    private async Task<HubReply> UnbanAsync(HubCall call)
    {
        var user = await ResolveAsync(call.Name!);
        if (user is null || !_bans.Remove(user))
        {
            return HubReply.Refuse($"{call.Name} is not banned");
        }

        Storage.Delete("ban:" + user);
        return new HubReply { User = user };
    }

    /// <summary>A name's user: online ones from here, others from the people room (profiles).</summary>
    private async Task<string?> ResolveAsync(string name)
    {
        if (_byName.TryGetValue(name, out var user))
        {
            return user;
        }

        var reply = Wire.Read<HubReply>(await GetRoom(PeopleRoom.Type, PeopleRoom.Main).RequestAsync(Wire.Write(new HubCall { Op = "resolve", Name = name })));
        return reply.Ok ? reply.User : null;
    }

    private HubReply Evacuate(HubCall call)
    {
        var entrance = _venue.Entrance.Id;
        var rooms = _counts.Where(c => c.Value > 0 && c.Key != entrance).Select(c => c.Key).ToList();
        foreach (var presence in _online.Values.Where(p => p.Room != entrance).ToList())
        {
            Put(presence with { Room = entrance, Connection = null, Since = Now, From = presence.Room });
        }

        foreach (var room in rooms)
        {
            GetRoom(MudRoom.Type, room).Send(Wire.Write(new HubCall { Op = "evacuate", Room = entrance, Name = call.Name }));
        }

        ArmMoveExpiry();
        return new HubReply { Room = entrance };
    }

    private HubReply SetOpen(HubCall call, bool open)
    {
        _space = new SpaceState(open, open ? null : string.IsNullOrWhiteSpace(call.Text) ? null : call.Text);
        Storage.Put("space", _space);
        var message = open ? new HubCall { Op = "opened", Text = $"{call.Name} opened the space" } : new HubCall { Op = "closed", Text = ClosedText() };
        foreach (var room in _counts.Where(c => c.Value > 0).Select(c => c.Key))
        {
            GetRoom(MudRoom.Type, room).Send(Wire.Write(message));
        }

        return new HubReply { Open = open };
    }

    private HubReply Reload(HubCall call)
    {
        try
        {
            _venue = Venue.Load(Options.Venue);
        }
        catch (InvalidDataException ex)
        {
            // The mod hears why; the map in use stays.
            return HubReply.Refuse($"the map was not reloaded: {ex.Message}");
        }

        foreach (var room in _venue.Rooms)
        {
            GetRoom(MudRoom.Type, room.Id).Send(Wire.Write(new HubCall { Op = "venue", Info = Info(room), Name = call.Name }));
        }

        _listDirty = true;
        return new HubReply { Rooms = RoomList() };
    }

    private HubReply DeleteShout(HubCall call)
    {
        foreach (var room in _counts.Where(c => c.Value > 0).Select(c => c.Key))
        {
            GetRoom(MudRoom.Type, room).Send(Wire.Write(new HubCall { Op = "delete", Id = call.Id }));
        }

        return new HubReply();
    }

    private bool IsFull(VenueRoom room, string user) =>
        room.Capacity is { } capacity
        && _counts.GetValueOrDefault(room.Id) - (_online.TryGetValue(user, out var p) && p.Room == room.Id ? 1 : 0) >= capacity;

    private string ClosedText() => _space.Reason is { } reason ? $"the space is closed: {reason}" : "the space is closed";

    private RoomInfo Info(VenueRoom room) => new(room.Id, room.Name, room.Description,
        room.Exits.Select(e => _venue.Find(e)!).Select(e => new ExitInfo(e.Id, e.Name)).ToArray(), room.Capacity);

    private RoomCount[] RoomList() =>
        _venue.Rooms.Select(r => new RoomCount(r.Id, r.Name, _counts.GetValueOrDefault(r.Id), r.Capacity)).ToArray();

    private void Put(Presence presence)
    {
        Untrack(presence.User);
        Track(presence);
        Storage.Put("u:" + presence.User, presence);
    }

    private void Track(Presence presence)
    {
        _online[presence.User] = presence;
        _byName[presence.Name] = presence.User;
        _counts[presence.Room] = _counts.GetValueOrDefault(presence.Room) + 1;
        _listDirty = true;
    }

    private void Untrack(string user)
    {
        if (_online.Remove(user, out var old))
        {
            _byName.Remove(old.Name);
            _counts[old.Room]--;
            _listDirty = true;
            Storage.Delete("u:" + user);
        }
    }

    /// <summary>A changed room list goes out within <see cref="MudOptions.RoomListInterval"/> (the alarm is brought forward if it was set later).</summary>
    private void ScheduleList()
    {
        var due = _listDue > Now ? _listDue : Now;
        if (_listDirty && (GetAlarm() is not { } at || at > due))
        {
            SetAlarm(due);
        }
    }

    private void ArmMoveExpiry()
    {
        if (GetAlarm() is null)
        {
            SetAlarm(Now + TimeSpan.FromSeconds(1));
        }
    }
}

/// <summary>Where an attendee is (one record per attendee online).</summary>
/// <param name="Connection">Their connection in that room; null while they move there.</param>
/// <param name="From">While moving: the room they left.</param>
internal sealed record Presence(string User, string Name, string Pronouns, string Room, string? Connection, DateTimeOffset Since, bool Moderator, string? From,
    string Description = "")
{
    public Profile Profile => new(Name, Pronouns, Description);
}

internal sealed record Ban(string Name, string Reason, string By, DateTimeOffset Time);

internal sealed record SpaceState(bool Open, string? Reason);

/// <summary>The MUD's close codes (4000–4999, an application's range), each with a reason the client shows.</summary>
public static class MudCodes
{
    /// <summary>The attendee moved: connect to the room the <c>moved</c> message named.</summary>
    public const int Moved = 4000;

    /// <summary>The same attendee signed in again elsewhere; this older connection gives way.</summary>
    public const int SignedInElsewhere = 4001;

    /// <summary>Banned by a moderator (the reason follows "banned: ").</summary>
    public const int Banned = 4003;

    /// <summary>The space is closed.</summary>
    public const int Closed = 4005;

    /// <summary>The name belongs to someone else.</summary>
    public const int NameTaken = 4009;

    /// <summary>The room is full.</summary>
    public const int Full = 4029;

    /// <summary>A name that is not 1–32 letters, digits, '_', '-' or '.'.</summary>
    public const int BadName = 4400;

    /// <summary>No such room in the venue.</summary>
    public const int NoSuchRoom = 4404;
}
