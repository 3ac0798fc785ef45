using RoomActors.Client;

namespace ClientExamples; // an app's namespace: inside RoomActors, the room SDK's RoomMessage would win over the client's

/// <summary>
/// The usage example of src/Client/README.md, compiled: the README's block is this file's using line and the body of
/// <see cref="RunAsync"/> (see <c>ClientReadmeTests</c>).
/// </summary>
public static class ClientReadmeExample
{
    public static async Task RunAsync(CancellationToken cancellationToken)
    {
        // readme-begin
        var options = new RoomSocketOptions
        {
            Server = new Uri("ws://localhost:8080"),
            Type = "chat",
            Name = "lobby",
            Ticket = null,                  // a JWT from your backend when the server requires tickets
        };
        options.Query["name"] = "ann";     // what the room's hooks see in context.Query

        await using var socket = new RoomSocket(options);
        socket.Resynced += (_, e) => Console.WriteLine($"resync ({e.Code}): re-read the room's state");
        await socket.ConnectAsync(cancellationToken);           // returns after the room's welcome

        RoomAck ack = await socket.SendAsync("""{"type":"join","name":"ann"}""");  // after the room's turn (and its state write)
        Console.WriteLine($"message {ack.Id} handled; room at {ack.Seq}");

        await foreach (RoomMessage message in socket.ReadAllAsync(cancellationToken))
        {
            Console.WriteLine(message.IsText ? $"{message.Seq}: {message.Text}" : $"{message.Seq}: {message.Data.Length} bytes");
        }
        // readme-end
    }
}
