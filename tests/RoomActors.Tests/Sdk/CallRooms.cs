using System.Collections.Concurrent;

namespace RoomActors.Tests.Sdk;

/// <summary>
/// <c>calls</c>: a room that calls other rooms of its type, driven by its clients' messages:
/// <c>ask NAME</c> requests NAME and broadcasts the reply; <c>tell NAME TEXT</c> sends TEXT one-way (each word of TEXT as
/// its own message); <c>cross NAME KEY</c> waits until the room named by KEY's other side has also started its own cross,
/// then requests NAME (two rooms requesting each other at once); <c>fail NAME</c> requests NAME to throw;
/// <c>whisper USER TEXT</c> and <c>kick USER</c> reach a user wherever they are; <c>find USER</c> broadcasts where.
/// A client's <c>?user=</c> names its user.
/// </summary>
[Room("calls")]
public sealed class CallRoom : Room
{
    private static readonly ConcurrentDictionary<string, Barrier> Barriers = new();
    private int _asked;

    /// <summary>Both rooms of a cross must be inside their turns before either requests the other.</summary>
    private sealed class Barrier
    {
        private int _arrived;
        public TaskCompletionSource Both { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task ArriveAsync()
        {
            if (Interlocked.Increment(ref _arrived) == 2)
            {
                Both.SetResult();
            }

            return Both.Task;
        }
    }

    protected override Task OnConnectAsync(Connection connection, ConnectContext context)
    {
        if (context.Query["user"] is { } user)
        {
            connection.SetUser(user);
        }

        return Task.CompletedTask;
    }

    protected override async Task OnMessageAsync(Connection sender, RoomMessage message)
    {
        var words = message.Text.Split(' ', 3);
        switch (words[0])
        {
            case "ask":
                var reply = await GetRoom("calls", words[1]).RequestAsync("who");
                Broadcast($"reply {reply?.Text}");
                break;
            case "tell":
                foreach (var word in words[2].Split(' '))
                {
                    GetRoom("calls", words[1]).Send(word);
                }

                break;
            case "cross":
                await Barriers.GetOrAdd(words[2], _ => new Barrier()).ArriveAsync().WaitAsync(TimeSpan.FromSeconds(10));
                var answer = await GetRoom("calls", words[1]).RequestAsync("ping");
                Broadcast($"crossed {answer?.Text}");
                break;
            case "fail":
                try
                {
                    await GetRoom("calls", words[1]).RequestAsync("throw");
                }
                catch (RoomCallException ex)
                {
                    Broadcast($"failed {ex.Message}");
                }

                break;
            case "whisper":
                SendToUser(words[1], words[2]);
                break;
            case "kick":
                CloseUser(words[1], 4003, "kicked");
                break;
            case "find":
                var found = await FindUserAsync(words[1]);
                Broadcast("found " + string.Join(",", found.Select(c => $"{c.RoomType}/{c.RoomName}/{c.ConnectionId}").Order()));
                break;
        }
    }

    protected override Task OnRoomMessageAsync(RoomCall call)
    {
        switch (call.Text)
        {
            case "who":
                call.Reply($"{RoomName} asked {++_asked} from {call.FromName}");
                break;
            case "ping":
                call.Reply($"pong from {RoomName}");
                break;
            case "throw":
                throw new InvalidOperationException("no such thing");
            default:
                Broadcast($"heard {call.Text} from {call.FromType}/{call.FromName} request={call.IsRequest}");
                break;
        }

        return Task.CompletedTask;
    }
}
