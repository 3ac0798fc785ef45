namespace RoomActors.Mud;

/// <summary>
/// <c>mud-people/main</c>: attendees' profiles (display name, pronouns, description), durable, one record per
/// attendee and one per name, so that a name belongs to one attendee. Venue rooms ask it when someone signs in, looks
/// someone up or edits their profile.
/// </summary>
[Room(Type)]
public sealed class PeopleRoom : Room
{
    /// <summary>The room type.</summary>
    public const string Type = "mud-people";

    /// <summary>The one people room's name.</summary>
    public const string Main = "main";

    /// <summary>The longest pronouns, in characters.</summary>
    public const int MaxPronouns = 32;

    /// <summary>The longest description, in characters.</summary>
    public const int MaxDescription = 300;

    /// <inheritdoc />
    protected override async Task OnRoomMessageAsync(RoomCall call)
    {
        var request = Wire.Read<HubCall>(call.Text);
        var reply = request.Op switch
        {
            "signin" => await SignInAsync(request.User!, request.Name),
            "resolve" => await Storage.GetAsync<string>(NameKey(request.Name!)) is { } user
                ? new HubReply { User = user }
                : HubReply.Refuse($"nobody is called {request.Name}"),
            "profile" => await Storage.GetAsync<string>(NameKey(request.Name!)) is { } owner
                && await Storage.GetAsync<Profile>(ProfileKey(owner)) is { } found
                ? new HubReply { User = owner, Profile = found }
                : HubReply.Refuse($"nobody is called {request.Name}"),
            "update" => await UpdateAsync(request),
            _ => HubReply.Refuse($"unknown op {request.Op}"),
        };
        call.Reply(Wire.Write(reply));
    }

    private async Task<HubReply> SignInAsync(string user, string? name)
    {
        var profile = await Storage.GetAsync<Profile>(ProfileKey(user));
        name ??= profile?.Name ?? user;
        if (profile?.Name == name)
        {
            return new HubReply { Profile = profile };
        }

        if (await Storage.GetAsync<string>(NameKey(name)) is { } owner && owner != user)
        {
            return HubReply.Refuse($"the name {name} is taken; pick another", MudCodes.NameTaken);
        }

        if (profile is not null)
        {
            Storage.Delete(NameKey(profile.Name)); // renamed: the old name is free again
        }

        profile = (profile ?? new Profile(name)) with { Name = name };
        Storage.Put(ProfileKey(user), profile);
        Storage.Put(NameKey(name), user);
        return new HubReply { Profile = profile };
    }

    private async Task<HubReply> UpdateAsync(HubCall request)
    {
        if (await Storage.GetAsync<Profile>(ProfileKey(request.User!)) is not { } profile)
        {
            return HubReply.Refuse("sign in first");
        }

        if (request.Pronouns is { Length: > MaxPronouns } || request.Description is { Length: > MaxDescription })
        {
            return HubReply.Refuse($"pronouns are at most {MaxPronouns} characters, a description at most {MaxDescription}");
        }

        profile = profile with
        {
            Pronouns = request.Pronouns ?? profile.Pronouns,
            Description = request.Description ?? profile.Description,
        };
        Storage.Put(ProfileKey(request.User!), profile);
        return new HubReply { Profile = profile };
    }

    private static string ProfileKey(string user) => "p:" + user;

    private static string NameKey(string name) => "n:" + name.ToLowerInvariant();
}
