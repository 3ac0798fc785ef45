using System.Collections.Concurrent;

namespace RoomActors.Tests.Protocol;

/// <summary>
/// <c>it-resume</c>: relays every message to everyone (the sender included); <c>private:…</c> goes to the sender only.
/// Records per room name every connect, close, resume and processed message, for the tests in this process to read.
/// </summary>
[Room("it-resume")]
public sealed class ResumeRoom : Room
{
    public static readonly ConcurrentDictionary<string, ConcurrentQueue<string>> Events = new();

    public static string[] EventsOf(string room) => Events.TryGetValue(room, out var queue) ? [.. queue] : [];

    private void Record(string what) => Events.GetOrAdd(RoomName, _ => new()).Enqueue(what);

    protected override Task OnConnectAsync(Connection connection, ConnectContext context)
    {
        Record("connect " + connection.Id);
        if (context.Query["tag"] is { } tag)
        {
            connection.AddTag(tag);
            connection.SetState(new { tag });
        }

        return Task.CompletedTask;
    }

    protected override Task OnMessageAsync(Connection sender, RoomMessage message)
    {
        Record($"message {sender.Id} {message.Text}");
        if (message.Text == "whoami")
        {
            sender.Send(string.Join(",", sender.Tags.Skip(1)) + " " + System.Text.Json.JsonSerializer.Serialize(sender.GetState<System.Text.Json.JsonElement>()));
        }
        else if (message.Text.StartsWith("private:", StringComparison.Ordinal))
        {
            sender.Send(message);
        }
        else
        {
            Broadcast(message);
        }

        return Task.CompletedTask;
    }

    protected override Task OnResumeAsync(Connection connection)
    {
        Record("resume " + connection.Id);
        return Task.CompletedTask;
    }

    protected override Task OnCloseAsync(Connection connection, int code, string reason)
    {
        Record($"close {connection.Id} {code}");
        return Task.CompletedTask;
    }
}
