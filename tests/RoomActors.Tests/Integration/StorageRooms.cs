namespace RoomActors.Tests.Integration;

/// <summary>
/// A room over the key/value store. Text commands: <c>put k v</c>, <c>get k</c>, <c>del k</c>, <c>list prefix</c>;
/// each answers everyone (<c>put</c>, <c>del</c>) or the sender (<c>get</c>, <c>list</c>).
/// </summary>
[Room("it-notes")]
public sealed class NotesRoom : Room
{
    public static readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> Starts = new();

    protected override Task OnStartAsync()
    {
        Starts.AddOrUpdate(RoomName, 1, (_, n) => n + 1);
        return Task.CompletedTask;
    }

    protected override async Task OnMessageAsync(Connection sender, RoomMessage message)
    {
        var parts = message.Text.Split(' ', 3);
        switch (parts[0])
        {
            case "put":
                Storage.Put(parts[1], parts[2]);
                Broadcast($"put {parts[1]}");
                break;
            case "get":
                sender.Send($"{parts[1]}={await Storage.GetAsync<string>(parts[1]) ?? "<none>"}");
                break;
            case "del":
                Storage.Delete(parts[1]);
                Broadcast($"del {parts[1]}");
                break;
            case "list":
                var pairs = await Storage.ListAsync<string>(parts.Length > 1 ? parts[1] : "");
                sender.Send(string.Join(",", pairs.Select(p => $"{p.Key}={p.Value}")));
                break;
        }
    }
}
