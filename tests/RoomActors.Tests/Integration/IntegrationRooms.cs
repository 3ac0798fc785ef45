using System.Collections.Concurrent;

namespace RoomActors.Tests.Integration;

/// <summary>
/// A relay room (like <c>broadcast</c>) that also records, per room name, how often it started and every close it
/// heard of, and rejects connects that ask for it with <c>?deny=CODE</c>. The room runs in the test process, so the
/// tests read the records directly.
/// </summary>
[Room("it-relay")]
public sealed class RecordingRelayRoom : Room
{
    public static readonly ConcurrentDictionary<string, int> Starts = new();
    public static readonly ConcurrentDictionary<string, ConcurrentQueue<(string Id, int Code, string Reason)>> Closes = new();

    public static IReadOnlyList<(string Id, int Code, string Reason)> ClosesOf(string room) =>
        Closes.TryGetValue(room, out var queue) ? queue.ToArray() : [];

    protected override Task OnStartAsync()
    {
        Starts.AddOrUpdate(RoomName, 1, (_, n) => n + 1);
        return Task.CompletedTask;
    }

    protected override Task OnConnectAsync(Connection connection, ConnectContext context)
    {
        if (int.TryParse(context.Query["deny"], out var code))
        {
            context.Reject(code, "denied by the room");
        }
        else
        {
            connection.Send("welcome " + connection.Id);
        }

        return Task.CompletedTask;
    }

    protected override Task OnMessageAsync(Connection sender, RoomMessage message)
    {
        Broadcast(message);
        return Task.CompletedTask;
    }

    protected override Task OnCloseAsync(Connection connection, int code, string reason)
    {
        Closes.GetOrAdd(RoomName, _ => new()).Enqueue((connection.Id, code, reason));
        return Task.CompletedTask;
    }
}

/// <summary>Lets in only clients with <c>?pass=open-sesame</c>, before the upgrade.</summary>
[Room("it-gatekeeper")]
public sealed class GatekeeperRoom : Room
{
    public static int Checks;

    protected override Task OnBeforeConnectAsync(BeforeConnectContext context)
    {
        Interlocked.Increment(ref Checks);
        if (context.Query["pass"] != "open-sesame")
        {
            context.Deny(403, "wrong pass");
        }

        return Task.CompletedTask;
    }

    protected override Task OnConnectAsync(Connection connection, ConnectContext context)
    {
        connection.Send("in");
        return Task.CompletedTask;
    }
}
