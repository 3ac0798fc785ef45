using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace RoomActors.Samples;

/// <summary>
/// <c>chat</c>: JSON messages. A client joins with <c>{"type":"join","name":"ada"}</c> and receives the most recent
/// messages as <c>{"type":"history","messages":[…]}</c> (at most <see cref="HistoryLength"/> of them and
/// <see cref="HistoryBytes"/> bytes); everybody receives
/// <c>{"type":"presence","event":"join"|"leave","name":…,"users":[…]}</c>; <c>{"type":"message","text":"hi"}</c> is
/// relayed to all as <c>{"type":"message","name":…,"text":…,"time":…}</c>. Mistakes are answered with
/// <c>{"type":"error","message":…}</c> to the sender only.
/// </summary>
/// <remarks>
/// <para>
/// Cost per message does not grow with the history: the history is a ring of <see cref="HistoryLength"/> records in the
/// room's key/value <see cref="Room.Storage"/> (key <c>h:SLOT</c>, slot = the message's number modulo the length), so a
/// message writes one record, over the oldest one; the other messages are not rewritten, and once the ring is full the
/// store's key index does not change either.
/// </para>
/// <para>
/// Display names are unique per room. A name is put in Unicode normalization form KC (so a full-width <c>ａｄｍｉｎ</c> is
/// <c>admin</c>), trimmed, its runs of spaces made one, and compared without regard to case with the names of the
/// room's other connections (a connection waiting to resume keeps its name). A name that is taken closes the joiner's
/// connection with <see cref="NameTaken"/>; a name with control, format (bidirectional overrides, zero-width
/// characters), unassigned, private-use or otherwise invisible characters, without a letter or digit, or too long
/// closes it with <see cref="InvalidName"/>. Letters of different scripts that look alike (Latin <c>a</c> and
/// Cyrillic <c>а</c>) are not caught: an app that needs that compares confusable skeletons (Unicode TS #39).
/// </para>
/// </remarks>
[Room("chat")]
public sealed class ChatRoom : Room
{
    /// <summary>How many messages the room keeps (a ring of that many storage records) and at most sends to a joiner.</summary>
    public const int HistoryLength = 100;

    /// <summary>The most bytes of messages (UTF-8 JSON) a joiner's history frame carries: the newest that fit.</summary>
    public const int HistoryBytes = 64 * 1024;

    /// <summary>The longest display name, in UTF-16 code units after normalization.</summary>
    public const int MaxNameLength = 64;

    /// <summary>The longest message text, in characters.</summary>
    public const int MaxTextLength = 4000;

    /// <summary>Close code of a join whose name is not acceptable (reason <c>invalid name: …</c>).</summary>
    public const int InvalidName = 4100;

    /// <summary>Close code of a join whose name another connection of the room has (reason <c>name taken</c>).</summary>
    public const int NameTaken = 4101;

    private const string HistoryPrefix = "h:";

    private readonly List<(long N, string Json)> _history = new(); // oldest first: the relayed message frames
    private readonly Dictionary<string, string> _names = new(); // connection id → display name (its durable state)
    private readonly HashSet<string> _taken = new(StringComparer.OrdinalIgnoreCase); // the display names in use

    /// <inheritdoc />
    protected override async Task OnStartAsync()
    {
        foreach (var (_, item) in await Storage.ListAsync<HistoryItem>(HistoryPrefix))
        {
            _history.Add((item!.N, item.Json));
        }

        _history.Sort((a, b) => a.N.CompareTo(b.N));

        // A room that comes back (hibernation, another silo) has its connections and their names: index them once.
        foreach (var connection in Connections)
        {
            if (connection.GetState<string>() is { } name)
            {
                _names[connection.Id] = name;
                _taken.Add(name);
            }
        }
    }

    /// <inheritdoc />
    protected override Task OnMessageAsync(Connection sender, RoomMessage message)
    {
        ChatInput? input;
        try
        {
            input = message.IsText ? JsonSerializer.Deserialize<ChatInput>(message.Text, JsonOptions) : null;
        }
        catch (JsonException)
        {
            // Answer the sender: a malformed message is the client's mistake, not the room's.
            input = null;
        }

        var name = _names.GetValueOrDefault(sender.Id);
        switch (input)
        {
            case { Type: "join", Name: { } wanted } when name is null:
                Join(sender, wanted);
                break;
            case { Type: "join" }:
                return Error(sender, name is null ? "join needs a name" : "already joined");
            case { Type: "message", Text: { } text } when name is not null:
                if (text.Length > MaxTextLength)
                {
                    return Error(sender, $"text must be at most {MaxTextLength} characters");
                }

                var json = Json(new { type = "message", name, text, time = TimeProvider.GetUtcNow() });
                Broadcast(json);
                Remember(json);
                break;
            case { Type: "message" }:
                return Error(sender, name is null ? "join first: {\"type\":\"join\",\"name\":\"...\"}" : "message needs a text");
            default:
                return Error(sender, "expected JSON {\"type\":\"join\"|\"message\", ...}");
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    protected override Task OnCloseAsync(Connection connection, int code, string reason)
    {
        if (_names.Remove(connection.Id, out var name))
        {
            _taken.Remove(name);
            Broadcast(Json(new { type = "presence", @event = "leave", name, users = Users() }));
        }

        return Task.CompletedTask;
    }

    private void Join(Connection sender, string wanted)
    {
        if (NormalizeName(wanted, out var display) is { } problem)
        {
            sender.Close(InvalidName, "invalid name: " + problem);
            return;
        }

        if (_taken.Contains(display))
        {
            sender.Close(NameTaken, "name taken: choose another");
            return;
        }

        sender.SetState(display); // durable with the connection: the name survives hibernation and resumes
        _names[sender.Id] = display;
        _taken.Add(display);
        sender.Send(HistoryFrame());
        Broadcast(Json(new { type = "presence", @event = "join", name = display, users = Users() }));
    }

    /// <summary>Keeps a message in its slot of the ring, over the oldest one (one write).</summary>
    private void Remember(string json)
    {
        var n = _history.Count > 0 ? _history[^1].N + 1 : 1;
        _history.Add((n, json));
        Storage.Put(HistoryKey(n), new HistoryItem(n, json));
        if (_history.Count > HistoryLength)
        {
            _history.RemoveAt(0); // its record was the slot just written
        }
    }

    /// <summary>The newest messages that fit in <see cref="HistoryBytes"/>, oldest first.</summary>
    private string HistoryFrame()
    {
        var first = _history.Count;
        var bytes = 0;
        while (first > 0 && bytes + Encoding.UTF8.GetByteCount(_history[first - 1].Json) + 1 <= HistoryBytes)
        {
            bytes += Encoding.UTF8.GetByteCount(_history[first - 1].Json) + 1;
            first--;
        }

        var buffer = new ArrayBufferWriter<byte>(bytes + 64);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("type", "history");
            writer.WriteStartArray("messages");
            for (var i = first; i < _history.Count; i++)
            {
                writer.WriteRawValue(_history[i].Json, skipInputValidation: true); // written by this room as JSON
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>
    /// Puts <paramref name="wanted"/> in the form it is shown and compared in (NFKC, trimmed, single spaces), or says
    /// what is wrong with it.
    /// </summary>
    internal static string? NormalizeName(string wanted, out string display)
    {
        display = "";
        string normalized;
        try
        {
            normalized = wanted.Normalize(NormalizationForm.FormKC);
        }
        catch (ArgumentException)
        {
            // Refuse: the string is not valid UTF-16 (a lone surrogate), so it has no normal form to compare.
            return "not valid Unicode";
        }

        var builder = new StringBuilder(normalized.Length);
        var letters = false;
        foreach (var rune in normalized.EnumerateRunes())
        {
            var category = Rune.GetUnicodeCategory(rune);
            if (category == UnicodeCategory.SpaceSeparator || rune.Value is '\t')
            {
                if (builder.Length > 0 && builder[^1] != ' ')
                {
                    builder.Append(' ');
                }

                continue;
            }

            if (category is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate
                    or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned
                    or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator
                || IsInvisible(rune.Value))
            {
                return "control, format or invisible characters";
            }

            letters |= Rune.IsLetterOrDigit(rune);
            builder.Append(rune.ToString());
        }

        display = builder.ToString().TrimEnd();
        if (!letters)
        {
            return "needs a letter or digit";
        }

        return display.Length > MaxNameLength ? $"at most {MaxNameLength} characters" : null;
    }

    /// <summary>
    /// Unicode's default-ignorable code points that are not in the format category (fillers, joiners and variation
    /// selectors that render as nothing).
    /// </summary>
    private static bool IsInvisible(int c) =>
        c is 0x034F or 0x115F or 0x1160 or 0x17B4 or 0x17B5 or (>= 0x180B and <= 0x180F) or 0x3164 or 0xFFA0
            or (>= 0xFE00 and <= 0xFE0F) or (>= 0xE0000 and <= 0xE0FFF);

    private static string HistoryKey(long n) => HistoryPrefix + (n % HistoryLength).ToString(CultureInfo.InvariantCulture);

    private string[] Users() => Connections.Select(c => _names.GetValueOrDefault(c.Id)).OfType<string>().ToArray();

    private Task Error(Connection sender, string text)
    {
        sender.Send(Json(new { type = "error", message = text }));
        return Task.CompletedTask;
    }

    private string Json<T>(T value) => JsonSerializer.Serialize(value, JsonOptions);

    private sealed record ChatInput(string? Type, string? Name, string? Text);

    /// <summary>One slot of the history ring: the message's number and its relayed frame.</summary>
    private sealed record HistoryItem(long N, string Json);
}
