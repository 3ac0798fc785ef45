using System.Collections.Concurrent;

namespace RoomActors.Tests.Sdk;

/// <summary>Records every hook call per room name, and does what text messages ask.</summary>
[Room("sdk-hooks")]
public sealed class HookRoom : Room
{
    public static readonly ConcurrentDictionary<string, ConcurrentQueue<string>> Logs = new();

    public static string[] LogOf(string room) => Logs.TryGetValue(room, out var log) ? [.. log] : [];

    private void Record(string entry) => Logs.GetOrAdd(RoomName, _ => new()).Enqueue(entry);

    protected override Task OnStartAsync()
    {
        Record($"start {RoomType}/{RoomName}");
        return Task.CompletedTask;
    }

    protected override Task OnConnectAsync(Connection connection, ConnectContext context)
    {
        Record($"connect {connection.Id} x={context.Query["x"]} ua={context.Headers.GetValueOrDefault("user-agent")}");
        if (context.Query["reject"] is { } code)
        {
            context.Reject(int.Parse(code), "full");
        }

        if (context.Query["tag"] is { } tag)
        {
            connection.AddTag(tag);
        }

        return Task.CompletedTask;
    }

    protected override Task OnMessageAsync(Connection sender, RoomMessage message)
    {
        Record(message.IsText ? $"text {sender.Id} {message.Text}" : $"binary {sender.Id} {message.Data.Length}");
        if (!message.IsText)
        {
            return Task.CompletedTask;
        }

        var words = message.Text.Split(' ', 2);
        switch (words[0])
        {
            case "kick":
                sender.Close(4001, "bye");
                break;
            case "tagged":
                sender.Send(string.Join(",", GetConnections(words[1]).Select(c => c.Id).Order()));
                break;
            case "connections":
                sender.Send(string.Join(",", Connections.Select(c => c.Id).Order()));
                break;
            case "tags":
                sender.Send(string.Join(",", sender.Tags));
                break;
            case "add-tag":
                sender.AddTag(words[1]);
                break;
            case "set":
                sender.SetState(new Note(words[1]));
                break;
            case "get":
                sender.Send(GetConnection(words[1])?.GetState<Note>()?.Text ?? "<none>");
                break;
            case "box":
                sender.SetState(new Box { Text = words[1] });
                break;
            case "poke":
                sender.GetState<Box>()!.Text = "poked"; // a copy: changes nothing
                sender.Send(sender.GetState<Box>()!.Text);
                break;
            case "big":
                sender.SetState(new Note(new string('x', 17 * 1024)));
                break;
            case "all":
                Broadcast(words[1]);
                break;
            case "others":
                Broadcast(words[1], except: [sender.Id]);
                break;
            case "me":
                sender.Send(words[1]);
                break;
        }

        return Task.CompletedTask;
    }

    protected override Task OnBeforeConnectAsync(BeforeConnectContext context)
    {
        if (context.Query["kick"] is { } id)
        {
            GetConnection(id)?.Close(4002, "by before-connect");
        }

        return Task.CompletedTask;
    }

    protected override Task<RoomHttpResponse> OnRequestAsync(RoomHttpRequest request)
    {
        if (request.Path.StartsWith("close/", StringComparison.Ordinal))
        {
            GetConnection(request.Path["close/".Length..])?.Close(4002, "by request");
        }

        return Task.FromResult(RoomHttpResponse.Text("ok"));
    }

    protected override Task OnCloseAsync(Connection connection, int code, string reason)
    {
        Record($"close {connection.Id} {code} {reason}");
        return Task.CompletedTask;
    }

    protected override Task OnErrorAsync(Connection? connection, Exception error)
    {
        Record($"error {error.GetType().Name}: {error.Message}");
        connection?.Send("error: " + error.Message);
        return Task.CompletedTask;
    }

    public sealed record Note(string Text);

    public sealed class Box
    {
        public string Text { get; set; } = "";
    }
}
