using System.Text.Json;

namespace RoomActors.Samples;

/// <summary>
/// <c>chat</c>: JSON messages. A client joins with <c>{"type":"join","name":"ada"}</c> and receives the last
/// 100 messages as <c>{"type":"history","messages":[…]}</c>; everybody receives
/// <c>{"type":"presence","event":"join"|"leave","name":…,"users":[…]}</c>; <c>{"type":"message","text":"hi"}</c> is
/// relayed to all as <c>{"type":"message","name":…,"text":…,"time":…}</c>. Mistakes are answered with
/// <c>{"type":"error","message":…}</c> to the sender only.
/// </summary>
[Room("chat")]
public sealed class ChatRoom : Room<ChatState>
{
    /// <summary>How many messages the room keeps and sends to each joiner.</summary>
    public const int HistoryLength = 100;

    /// <summary>The longest display name, in characters.</summary>
    public const int MaxNameLength = 64;

    /// <summary>The longest message text, in characters.</summary>
    public const int MaxTextLength = 4000;

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

        var name = sender.GetState<string>();
        switch (input)
        {
            case { Type: "join", Name: { } wanted } when name is null:
                var display = wanted.Trim();
                if (display.Length is 0 or > MaxNameLength)
                {
                    return Error(sender, $"name must be 1-{MaxNameLength} characters");
                }

                sender.SetState(display);
                sender.Send(Json(new { type = "history", messages = State.Messages }));
                Broadcast(Json(new { type = "presence", @event = "join", name = display, users = Users() }));
                break;
            case { Type: "join" }:
                return Error(sender, name is null ? "join needs a name" : "already joined");
            case { Type: "message", Text: { } text } when name is not null:
                if (text.Length > MaxTextLength)
                {
                    return Error(sender, $"text must be at most {MaxTextLength} characters");
                }

                var entry = new ChatEntry { Name = name, Text = text, Time = DateTimeOffset.UtcNow };
                State.Messages.Add(entry);
                if (State.Messages.Count > HistoryLength)
                {
                    State.Messages.RemoveRange(0, State.Messages.Count - HistoryLength);
                }

                Broadcast(Json(new { type = "message", name = entry.Name, text = entry.Text, time = entry.Time }));
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
        if (connection.GetState<string>() is { } name)
        {
            Broadcast(Json(new { type = "presence", @event = "leave", name, users = Users() }));
        }

        return Task.CompletedTask;
    }

    private string[] Users() => Connections.Select(c => c.GetState<string>()).OfType<string>().ToArray();

    private Task Error(Connection sender, string text)
    {
        sender.Send(Json(new { type = "error", message = text }));
        return Task.CompletedTask;
    }

    private string Json<T>(T value) => JsonSerializer.Serialize(value, JsonOptions);

    private sealed record ChatInput(string? Type, string? Name, string? Text);
}

/// <summary>The chat room's durable state: the last <see cref="ChatRoom.HistoryLength"/> messages.</summary>
[GenerateSerializer]
public sealed class ChatState
{
    /// <summary>Oldest first.</summary>
    [Id(0)] public List<ChatEntry> Messages { get; set; } = new();
}

/// <summary>One chat message.</summary>
[GenerateSerializer]
public sealed class ChatEntry
{
    /// <summary>The sender's display name.</summary>
    [Id(0)] public string Name { get; set; } = "";

    /// <summary>The text.</summary>
    [Id(1)] public string Text { get; set; } = "";

    /// <summary>When the room received it.</summary>
    [Id(2)] public DateTimeOffset Time { get; set; }
}
