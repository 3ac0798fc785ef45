namespace RoomActors.Mud;

/// <summary>One line an attendee typed, parsed: a verb and its arguments.</summary>
/// <param name="Verb">say, me, whisper, shout, dance, mod, go, look, profile, help, delete, ban, unban, evacuate, close, open, reload.</param>
/// <param name="Target">The first argument where the verb takes one (a name, a room, a message id, a profile field).</param>
/// <param name="Text">The rest of the line.</param>
public sealed record MudCommand(string Verb, string Target, string Text)
{
    private static readonly HashSet<string> Verbs =
    [
        "me", "whisper", "shout", "dance", "mod", "go", "look", "profile", "help",
        "delete", "ban", "unban", "evacuate", "close", "open", "reload",
    ];

    private static readonly HashSet<string> WithTarget = ["whisper", "go", "look", "profile", "delete", "ban", "unban"];

    /// <summary>The verbs only moderators may use.</summary>
    public static readonly IReadOnlySet<string> ModeratorVerbs = new HashSet<string> { "delete", "ban", "unban", "evacuate", "close", "open", "reload" };

    /// <summary>Parses a line: plain text is <c>say</c>; <c>/verb ...</c> is a command (<c>/w</c> is <c>/whisper</c>).</summary>
    /// <returns>The command, or null with <paramref name="error"/> saying what is wrong.</returns>
    public static MudCommand? Parse(string line, out string? error)
    {
        error = null;
        line = line.Trim();
        if (line.Length == 0)
        {
            error = "say something, or /help";
            return null;
        }

        if (line[0] != '/')
        {
            return new MudCommand("say", "", line);
        }

        var space = line.IndexOf(' ');
        var verb = (space < 0 ? line[1..] : line[1..space]).ToLowerInvariant();
        var rest = space < 0 ? "" : line[(space + 1)..].Trim();
        verb = verb == "w" ? "whisper" : verb;
        if (!Verbs.Contains(verb))
        {
            error = $"unknown command /{verb}; /help lists them";
            return null;
        }

        if (!WithTarget.Contains(verb))
        {
            if (verb is "me" or "shout" or "mod" && rest.Length == 0)
            {
                error = $"/{verb} needs a text: /{verb} TEXT";
                return null;
            }

            return new MudCommand(verb, "", rest);
        }

        var split = rest.IndexOf(' ');
        var target = split < 0 ? rest : rest[..split];
        var text = split < 0 ? "" : rest[(split + 1)..].Trim();
        if (target.Length == 0 && verb is not "look")
        {
            error = verb switch
            {
                "whisper" => "/whisper NAME TEXT",
                "go" => "/go ROOM (a room id or name)",
                "profile" => "/profile pronouns TEXT, or /profile description TEXT",
                "delete" => "/delete MESSAGE-ID",
                _ => $"/{verb} NAME",
            };
            return null;
        }

        if (verb == "whisper" && text.Length == 0)
        {
            error = "/whisper NAME TEXT: say what";
            return null;
        }

        // Room names may have spaces: /go Main Theater.
        return verb == "go" ? new MudCommand(verb, rest, "") : new MudCommand(verb, target, text);
    }

    /// <summary>The help text.</summary>
    public const string Help =
        "say anything · /me ACTION · /whisper NAME TEXT · /shout TEXT · /dance · /mod TEXT (to the moderators) · /go ROOM · " +
        "/look [NAME] · /profile pronouns TEXT · /profile description TEXT · moderators: /delete ID · /ban NAME [REASON] · " +
        "/unban NAME · /evacuate · /close [REASON] · /open · /reload";
}
