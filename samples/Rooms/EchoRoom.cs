namespace RoomActors.Samples;

/// <summary><c>echo</c>: sends every frame back to its sender only, unchanged.</summary>
[Room("echo")]
public sealed class EchoRoom : Room
{
    /// <inheritdoc />
    protected override Task OnMessageAsync(Connection sender, RoomMessage message)
    {
        sender.Send(message);
        return Task.CompletedTask;
    }
}
