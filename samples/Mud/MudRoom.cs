using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace RoomActors.Mud;

/// <summary>
/// <c>mud/{roomId}</c>: one room of the venue, the authority for who is there and what is said there. Attendees connect
/// to it (<c>?name=</c> in dev mode, a ticket with auth on), type lines (<see cref="MudCommand"/>) and get JSON
/// messages (samples/Mud/README.md). It asks the hub (<see cref="HubRoom"/>) when someone arrives, moves or looks for
/// someone, the people room (<see cref="PeopleRoom"/>) for profiles, and tells the audit room
/// (<see cref="AuditRoom"/>) what was said.
/// </summary>
[Room(Type)]
public sealed class MudRoom : Room
{
    /// <summary>The room type.</summary>
    public const string Type = "mud";

    /// <summary>The longest display name, in characters.</summary>
    public const int MaxName = 32;

    private readonly Dictionary<string, Attendee> _attendees = new();
    private readonly List<(long N, string Json)> _history = new();
    private RoomInfo? _info;
    private RoomCount[] _rooms = [];
    private long _next;
    private bool _open = true;

    private MudOptions Options => ServiceProvider.GetRequiredService<IOptions<MudOptions>>().Value;

    private RoomStub Hub => GetRoom(HubRoom.Type, HubRoom.Main);

    private RoomStub People => GetRoom(PeopleRoom.Type, PeopleRoom.Main);

    private DateTimeOffset Now => TimeProvider.GetUtcNow();

    /// <inheritdoc />
    protected override async Task OnStartAsync()
    {
        _info = await Storage.GetAsync<RoomInfo>("info");
        _next = await Storage.GetAsync<long>("next");
        foreach (var (_, item) in await Storage.ListAsync<HistoryItem>(SlotPrefix))
        {
            _history.Add((item!.N, item.Json));
        }

        // Rooms saved before the ring: one record per message, keyed by its number. Moved into the ring once.
        foreach (var (key, json) in await Storage.ListAsync<string>("h:"))
        {
            _history.Add((long.Parse(key[2..]), json!));
            Storage.Delete(key);
            Storage.Put(SlotKey(long.Parse(key[2..])), new HistoryItem(long.Parse(key[2..]), json!));
        }

        _history.Sort((a, b) => a.N.CompareTo(b.N));
        if (_history.Count > Options.History)
        {
            _history.RemoveRange(0, _history.Count - Options.History);
        }

        foreach (var connection in Connections)
        {
            if (connection.GetState<Attendee>() is { } attendee)
            {
                _attendees[connection.Id] = attendee;
            }
        }
    }

    /// <inheritdoc />
    protected override async Task OnConnectAsync(Connection connection, ConnectContext context)
    {
        var name = context.Query["name"]?.Trim();
        if (name is { Length: 0 })
        {
            name = null;
        }

        if (name is not null && !IsName(name) || name is null && context.UserId is null)
        {
            context.Reject(MudCodes.BadName, $"a name is 1-{MaxName} letters, digits, '_', '-' or '.'");
            return;
        }

        // With auth on the ticket names the user; in dev mode the name is the identity.
        var user = context.UserId ?? name!.ToLowerInvariant();
        var moderator = context.Claims.GetValueOrDefault("mod") == "true"
            || Options.Moderators.Any(m => string.Equals(m, user, StringComparison.OrdinalIgnoreCase));

        // An attendee on the way here from another room (the page says so with ?from=) enters with the profile the hub
        // has: one request. Anyone else signs in with the people room first (is the name theirs?), then enters with the
        // profile: two. Should the hint be wrong, the hub asks for the profile and it takes three.
        var enterCall = new HubCall { Op = "enter", User = user, Room = RoomName, Connection = connection.Id, Moderator = moderator };
        var signedIn = false;
        if (name is not null && context.Query["from"] is null)
        {
            if (await SignInAsync(user, name) is not { } known)
            {
                return;
            }

            enterCall = enterCall with { Name = known.Name, Pronouns = known.Pronouns, Description = known.Description };
            signedIn = true;
        }

        var enter = await AskHubAsync(enterCall);
        if (!signedIn && (enter.NeedProfile || name is not null && enter.Ok && enter.Profile?.Name != name))
        {
            if (await SignInAsync(user, name) is not { } known)
            {
                return;
            }

            enter = await AskHubAsync(enterCall with { Name = known.Name, Pronouns = known.Pronouns, Description = known.Description });
        }

        async Task<Profile?> SignInAsync(string user, string? name)
        {
            var signIn = Wire.Read<HubReply>(await People.RequestAsync(Wire.Write(new HubCall { Op = "signin", User = user, Name = name })));
            if (!signIn.Ok)
            {
                context.Reject(signIn.Code, signIn.Error!);
                return null;
            }

            return signIn.Profile!;
        }

        if (!enter.Ok)
        {
            context.Reject(enter.Code, enter.Error!);
            return;
        }

        var profile = enter.Profile!;
        if (_info != enter.Info)
        {
            _info = enter.Info;
            Storage.Put("info", _info);
        }

        _rooms = enter.Rooms ?? _rooms;
        _open = enter.Open;
        var attendee = new Attendee(user, profile.Name, profile.Pronouns, profile.Description, moderator);
        connection.SetUser(user);
        connection.SetState(attendee);
        _attendees[connection.Id] = attendee;
        connection.Send(RoomView(attendee));
        Broadcast(Json(new { type = "arrive", name = attendee.Name, pronouns = attendee.Pronouns, from = enter.From }), except: [connection.Id]);
        if (GetAlarm() is null)
        {
            SetAlarm(Now + Options.CensusInterval);
        }
    }

    /// <summary>
    /// The census: the hub hears who is here every <see cref="MudOptions.CensusInterval"/> while anyone is, and once
    /// more after the last one left, and drops whomever it counts here that the room does not have.
    /// </summary>
    protected override Task OnAlarmAsync(AlarmInfo alarm)
    {
        var present = _attendees.Where(a => !a.Value.Moving).Select(a => a.Key).ToArray();
        Hub.Send(Wire.Write(new HubCall { Op = "census", Room = RoomName, Connections = present, Time = Now }));
        if (present.Length > 0)
        {
            SetAlarm(Now + Options.CensusInterval);
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    protected override async Task OnMessageAsync(Connection sender, RoomMessage message)
    {
        if (!_attendees.TryGetValue(sender.Id, out var me) || me.Moving)
        {
            return; // on its way out: what it sent after /go is not said here
        }

        if (!message.IsText || message.Text.Length > Options.MaxText)
        {
            Error(sender, message.IsText
                ? $"that line has {message.Text.Length} characters; the most is {Options.MaxText}: nothing was said"
                : "send text lines");
            return;
        }

        if (MudCommand.Parse(message.Text, out var problem) is not { } command)
        {
            Error(sender, problem!);
            return;
        }

        if (MudCommand.ModeratorVerbs.Contains(command.Verb) && !me.Moderator)
        {
            Error(sender, $"/{command.Verb} is for moderators");
            return;
        }

        switch (command.Verb)
        {
            case "say":
            case "me":
                Say(me, command.Verb, command.Text);
                break;
            case "dance":
                Say(me, "dance", null);
                break;
            case "whisper":
                await WhisperAsync(sender, me, command.Target, command.Text);
                break;
            case "shout":
                var shout = await AskHubAsync(new HubCall { Op = "shout", User = me.User, Name = me.Name, Room = RoomName, Text = command.Text });
                if (!shout.Ok)
                {
                    Error(sender, shout.Error!);
                    break;
                }

                Audit("shout", me, command.Text, shout.Room);
                break;
            case "mod":
                var report = await AskHubAsync(new HubCall { Op = "report", User = me.User, Name = me.Name, Room = RoomName, Text = command.Text });
                Audit("report", me, command.Text);
                Notice(sender, report.Ok ? "sent to the moderators" : report.Error!);
                break;
            case "go":
                await GoAsync(sender, me, command.Target);
                break;
            case "look":
                await LookAsync(sender, me, command.Target);
                break;
            case "profile":
                await ProfileAsync(sender, me, command.Target, command.Text);
                break;
            case "help":
                Notice(sender, MudCommand.Help);
                break;
            default:
                await ModerateAsync(sender, me, command);
                break;
        }
    }

    /// <inheritdoc />
    protected override Task OnRoomMessageAsync(RoomCall call)
    {
        var message = Wire.Read<HubCall>(call.Text);
        switch (message.Op)
        {
            case "rooms":
                _rooms = message.Rooms ?? _rooms;
                Broadcast(Json(new { type = "rooms", rooms = _rooms }));
                break;
            case "shout":
                Remember(message.Id!, Json(new { type = "shout", id = message.Id, name = message.Name, room = message.Room, text = message.Text, time = message.Time }));
                break;
            case "kick":
                GetConnection(message.Connection!)?.Close(message.Code, message.Text ?? "");
                break;
            case "delete":
                Delete(message.Id!);
                break;
            case "evacuate":
                Broadcast(Json(new { type = "notice", text = $"{message.Name} asks everyone to go to the entrance" }));
                foreach (var connection in Connections.ToList())
                {
                    Move(connection, message.Room!);
                }

                break;
            case "closed":
                _open = false;
                Broadcast(Json(new { type = "notice", text = message.Text }));
                foreach (var connection in Connections.Where(c => _attendees.GetValueOrDefault(c.Id) is { Moderator: false }).ToList())
                {
                    connection.Close(MudCodes.Closed, message.Text ?? "the space is closed");
                }

                break;
            case "opened":
                _open = true;
                Broadcast(Json(new { type = "notice", text = message.Text }));
                break;
            case "venue":
                _info = message.Info;
                Storage.Put("info", _info);
                Broadcast(Json(new { type = "notice", text = $"{message.Name} reloaded the venue map; /look to see this room again" }));
                break;
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    protected override Task OnCloseAsync(Connection connection, int code, string reason)
    {
        if (!_attendees.Remove(connection.Id, out var attendee) || attendee.Moving)
        {
            return Task.CompletedTask; // never arrived, or moved on (the hub already counts it elsewhere)
        }

        if (!_attendees.Values.Any(a => a.User == attendee.User))
        {
            Broadcast(Json(new { type = "leave", name = attendee.Name, to = (string?)null }));
        }

        Hub.Send(Wire.Write(new HubCall { Op = "left", User = attendee.User, Connection = connection.Id }));
        return Task.CompletedTask;
    }

    private void Say(Attendee me, string kind, string? text)
    {
        var id = $"{RoomName}:{++_next}";
        Storage.Put("next", _next);
        Remember(id, kind == "dance"
            ? Json(new { type = kind, id, name = me.Name, time = Now })
            : Json(new { type = kind, id, name = me.Name, text, time = Now }));
        Audit(kind, me, text, id);
    }

    /// <summary>
    /// Broadcasts a message and keeps it for arrivals (the last <see cref="MudOptions.History"/>), in a ring of that
    /// many records: one write per message, whatever the history's length.
    /// </summary>
    private void Remember(string id, string json)
    {
        Broadcast(json);
        var n = _history.Count > 0 ? _history[^1].N + 1 : 1;
        _history.Add((n, json));
        Storage.Put(SlotKey(n), new HistoryItem(n, json));
        while (_history.Count > Options.History)
        {
            _history.RemoveAt(0); // its slot is the one just written, or will be
        }
    }

    private void Delete(string id)
    {
        var marker = $"\"id\":{Wire.ToClient(id)},";
        var index = _history.FindIndex(h => h.Json.Contains(marker, StringComparison.Ordinal));
        if (index >= 0)
        {
            Storage.Delete(SlotKey(_history[index].N));
            _history.RemoveAt(index);
        }

        Broadcast(Json(new { type = "deleted", id }));
    }

    private async Task WhisperAsync(Connection sender, Attendee me, string name, string text)
    {
        var where = await AskHubAsync(new HubCall { Op = "whereis", Name = name });
        if (!where.Ok)
        {
            Error(sender, where.Error!);
            return;
        }

        var whisper = Json(new { type = "whisper", from = me.Name, to = where.Profile!.Name, text, time = Now });
        SendToUser(where.User!, whisper);
        if (where.User != me.User)
        {
            sender.Send(whisper);
        }

        Audit("whisper", me, text, where.Profile.Name);
    }

    private async Task GoAsync(Connection sender, Attendee me, string room)
    {
        var move = await AskHubAsync(new HubCall { Op = "move", User = me.User, Room = room, Connection = sender.Id });
        if (!move.Ok)
        {
            Error(sender, move.Error!);
            return;
        }

        Move(sender, move.Room!);
    }

    /// <summary>The attendee leaves for <paramref name="room"/>: the others see them go; they are told where to connect.</summary>
    private void Move(Connection connection, string room)
    {
        if (!_attendees.TryGetValue(connection.Id, out var attendee) || attendee.Moving || room == RoomName)
        {
            return;
        }

        attendee = attendee with { Moving = true };
        _attendees[connection.Id] = attendee;
        connection.SetState(attendee);
        Broadcast(Json(new { type = "leave", name = attendee.Name, to = room }), except: [connection.Id]);
        connection.Send(Json(new { type = "moved", room }));
        connection.Close(MudCodes.Moved, "moved");
    }

    private async Task LookAsync(Connection sender, Attendee me, string name)
    {
        if (name.Length == 0)
        {
            var list = await AskHubAsync(new HubCall { Op = "rooms" });
            _rooms = list.Rooms ?? _rooms;
            sender.Send(RoomView(me));
            return;
        }

        var found = Wire.Read<HubReply>(await People.RequestAsync(Wire.Write(new HubCall { Op = "profile", Name = name })));
        if (!found.Ok)
        {
            Error(sender, found.Error!);
            return;
        }

        var where = await AskHubAsync(new HubCall { Op = "whereis", Name = found.Profile!.Name });
        sender.Send(Json(new
        {
            type = "profile", name = found.Profile.Name, pronouns = found.Profile.Pronouns, description = found.Profile.Description,
            room = where.Ok ? where.Room : null,
        }));
    }

    private async Task ProfileAsync(Connection sender, Attendee me, string field, string text)
    {
        if (field is not ("pronouns" or "description"))
        {
            Error(sender, "/profile pronouns TEXT, or /profile description TEXT");
            return;
        }

        var update = Wire.Read<HubReply>(await People.RequestAsync(Wire.Write(new HubCall
        {
            Op = "update", User = me.User, Pronouns = field == "pronouns" ? text : null, Description = field == "description" ? text : null,
        })));
        if (!update.Ok)
        {
            Error(sender, update.Error!);
            return;
        }

        if (_attendees.TryGetValue(sender.Id, out var current))
        {
            current = current with { Pronouns = update.Profile!.Pronouns, Description = update.Profile.Description };
            _attendees[sender.Id] = current;
            sender.SetState(current);
        }

        Hub.Send(Wire.Write(new HubCall { Op = "profile", User = me.User, Pronouns = update.Profile!.Pronouns, Description = update.Profile.Description }));

        Notice(sender, $"your profile's {field}: {text}");
    }

    private async Task ModerateAsync(Connection sender, Attendee me, MudCommand command)
    {
        Audit(command.Verb, me, command.Text, command.Target.Length > 0 ? command.Target : null);
        if (command.Verb == "delete")
        {
            var room = command.Target.Split(':')[0];
            if (room == RoomName)
            {
                Delete(command.Target);
            }
            else if (room == "shout")
            {
                await AskHubAsync(new HubCall { Op = "delete", Id = command.Target });
            }
            else
            {
                GetRoom(Type, room).Send(Wire.Write(new HubCall { Op = "delete", Id = command.Target }));
            }

            Notice(sender, $"deleted {command.Target}");
            return;
        }

        var reply = await AskHubAsync(new HubCall { Op = command.Verb, User = me.User, Name = command.Target.Length > 0 ? command.Target : me.Name, Text = command.Text });
        if (!reply.Ok)
        {
            Error(sender, reply.Error!);
            return;
        }

        Notice(sender, command.Verb switch
        {
            "ban" => $"{command.Target} is banned",
            "unban" => $"{command.Target} may come back",
            "evacuate" => "everyone is on the way to the entrance",
            "close" => "the space is closed",
            "open" => "the space is open",
            "reload" => "the venue map was reloaded",
            _ => "done",
        });
    }

    private async Task<HubReply> AskHubAsync(HubCall call) => Wire.Read<HubReply>(await Hub.RequestAsync(Wire.Write(call)));

    private void Audit(string kind, Attendee me, string? text, string? target = null) =>
        GetRoom(AuditRoom.Type, AuditRoom.Main).Send(Wire.Write(new AuditEntry(0, kind, RoomName, me.User, me.Name, text, target)));

    /// <summary>
    /// The <c>room</c> message. The history is embedded as the JSON it was sent as (not parsed again for every arrival:
    /// an arrival in a busy room would otherwise parse 50 messages inside the room's turn).
    /// </summary>
    private string RoomView(Attendee me)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(4096);
        using (var writer = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("type", "room");
            writer.WriteString("id", RoomName);
            writer.WriteString("name", _info?.Name ?? RoomName);
            writer.WriteString("description", _info?.Description ?? "");
            writer.WritePropertyName("exits");
            System.Text.Json.JsonSerializer.Serialize(writer, _info?.Exits ?? [], Wire.ClientJson);
            writer.WriteStartArray("occupants");
            foreach (var attendee in _attendees.Values.Where(a => !a.Moving).DistinctBy(a => a.User))
            {
                writer.WriteStartObject();
                writer.WriteString("name", attendee.Name);
                writer.WriteString("pronouns", attendee.Pronouns);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteStartArray("history");
            foreach (var (_, json) in _history)
            {
                writer.WriteRawValue(json, skipInputValidation: true); // written by this room as JSON
            }

            writer.WriteEndArray();
            writer.WritePropertyName("rooms");
            System.Text.Json.JsonSerializer.Serialize(writer, _rooms, Wire.ClientJson);
            writer.WritePropertyName("you");
            System.Text.Json.JsonSerializer.Serialize(writer, new { name = me.Name, pronouns = me.Pronouns, description = me.Description, moderator = me.Moderator }, Wire.ClientJson);
            writer.WriteBoolean("open", _open);
            writer.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private void Error(Connection connection, string text) => connection.Send(Json(new { type = "error", message = text }));

    private void Notice(Connection connection, string text) => connection.Send(Json(new { type = "notice", text }));

    private static string Json<T>(T value) => Wire.ToClient(value);

    private const string SlotPrefix = "ring:";

    private string SlotKey(long n) => $"{SlotPrefix}{n % Options.History}";

    private static bool IsName(string name) =>
        name.Length is > 0 and <= MaxName && name.All(c => char.IsLetterOrDigit(c) || c is '_' or '-' or '.');
}

/// <summary>A message kept for arrivals: its number in the room's history and the JSON it was sent as.</summary>
internal sealed record HistoryItem(long N, string Json);

/// <summary>An attendee in a room (the connection's state).</summary>
/// <param name="Moving">True once they left for another room (their socket is closing).</param>
internal sealed record Attendee(string User, string Name, string Pronouns, string Description, bool Moderator, bool Moving = false);
