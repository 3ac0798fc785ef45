using Microsoft.Extensions.Logging;
using RoomActors;
using RoomActors.Documents;

[Room("notes")]
public sealed class NotesRoom : DocumentRoom
{
    // Connect hook as in any room: who may open it (context.Reject) and with what tags.
    protected override Task OnConnectAsync(Connection connection, ConnectContext context)
    {
        if (context.Query["role"] == "viewer")
        {
            connection.AddTag("viewer");
        }

        return Task.CompletedTask;
    }

    // Before an update is applied: a reason refuses it (4422), null applies it.
    protected override ValueTask<string?> OnUpdateAsync(Connection editor, ReadOnlyMemory<byte> update) =>
        new(editor.HasTag("viewer") ? "this document is read-only for you" : null);

    // After it is applied, in the same turn: GetDocument() has it.
    protected override Task OnChangeAsync(Connection editor, ReadOnlyMemory<byte> update)
    {
        Logger.LogInformation("{Room} is now {Bytes} bytes", RoomName, GetDocument().Length);
        return Task.CompletedTask;
    }
}
