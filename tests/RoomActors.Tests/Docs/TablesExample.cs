using RoomActors;

[Room("table")]
public sealed class TableRoom : Room
{
    protected override Task OnConnectAsync(Connection connection, ConnectContext context)
    {
        connection.SetUser(context.UserId ?? context.Query["name"] ?? connection.Id); // dev mode: the name is the user
        GetRoom("lobby", "main").Send($"joined {RoomName}");                           // one-way, once this turn is saved
        return Task.CompletedTask;
    }

    protected override async Task OnMessageAsync(Connection sender, RoomMessage message)
    {
        if (message.Text == "busiest")
        {
            var answer = await GetRoom("lobby", "main").RequestAsync("busiest");        // a request: awaited in the hook
            sender.Send($"the busiest table is {answer?.Text}");
        }
        else if (message.Text.StartsWith("invite "))
        {
            SendToUser(message.Text[7..], $"{sender.UserId} invites you to table {RoomName}"); // wherever they are
        }
    }
}

[Room("lobby")]
public sealed class LobbyRoom : Room
{
    private readonly Dictionary<string, int> _joins = new();

    protected override Task OnRoomMessageAsync(RoomCall call)
    {
        if (call.IsRequest)
        {
            call.Reply(_joins.MaxBy(t => t.Value).Key ?? "none");                       // leaves once this turn is saved
        }
        else
        {
            _joins[call.FromName] = _joins.GetValueOrDefault(call.FromName) + 1;
        }

        return Task.CompletedTask;
    }
}
