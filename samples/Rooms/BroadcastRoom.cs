namespace RoomActors.Samples;

/// <summary><c>broadcast</c>: relays every frame unchanged to every connection of the room, the sender included.</summary>
[Room("broadcast")]
public sealed class BroadcastRoom : Room
{
    /// <inheritdoc />
    protected override Task OnMessageAsync(Connection sender, RoomMessage message)
    {
        Broadcast(message);
        return Task.CompletedTask;
    }
}
