using RoomActors;

[Room("hello")]
public sealed class HelloRoom : Room
{
    protected override Task OnConnectAsync(Connection connection, ConnectContext context)
    {
        connection.Send($"welcome, {context.Query["name"] ?? "stranger"}");
        return Task.CompletedTask;
    }

    protected override Task OnMessageAsync(Connection sender, RoomMessage message)
    {
        Broadcast(message, except: [sender.Id]);
        return Task.CompletedTask;
    }

    protected override Task OnCloseAsync(Connection connection, int code, string reason)
    {
        Broadcast($"{connection.Id} left");
        return Task.CompletedTask;
    }
}
