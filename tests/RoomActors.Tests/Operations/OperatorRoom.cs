using System.Collections.Concurrent;

namespace RoomActors.Tests.Operations;

/// <summary>
/// A room for the operator tests: tags each connection with its <c>?role=</c>, names its user from <c>?name=</c>, counts
/// messages in its typed state and relays them with the count, sets its alarm on <c>alarm</c>, and announces leaves.
/// </summary>
[Room("op-watch")]
public sealed class OperatorRoom : Room<OperatorRoom.Tally>
{
    public static readonly ConcurrentDictionary<string, int> Starts = new();

    protected override Task OnStartAsync()
    {
        Starts.AddOrUpdate(RoomName, 1, (_, n) => n + 1);
        return Task.CompletedTask;
    }

    protected override Task OnConnectAsync(Connection connection, ConnectContext context)
    {
        connection.AddTag("role:" + (context.Query["role"] ?? "guest"));
        connection.SetUser(context.Query["name"] ?? connection.Id);
        connection.SetState(new Badge(context.Query["name"] ?? "?"));
        return Task.CompletedTask;
    }

    protected override Task OnMessageAsync(Connection sender, RoomMessage message)
    {
        State.Messages++;
        if (message.Text == "alarm")
        {
            SetAlarm(DateTimeOffset.UtcNow.AddHours(1));
        }

        Broadcast($"{message.Text} from {sender.UserId} count={State.Messages}");
        return Task.CompletedTask;
    }

    protected override Task OnCloseAsync(Connection connection, int code, string reason)
    {
        Broadcast($"left {connection.UserId} {code}");
        return Task.CompletedTask;
    }

    [GenerateSerializer]
    public sealed class Tally
    {
        [Id(0)] public int Messages { get; set; }
    }

    public sealed record Badge(string Name);
}
