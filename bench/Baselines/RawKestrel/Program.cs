using System.Collections.Concurrent;
using System.Net.WebSockets;

// The in-process limit: a raw Kestrel WebSocket broadcast server with the URL shape and relay semantics of the
// `broadcast` room (every frame, unchanged, to every socket of the room, the sender included) and no actor hop.
// Each frame goes out with its own write, as a hand-written server would do it.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
var app = builder.Build();
app.UseWebSockets();

var rooms = new ConcurrentDictionary<string, ConcurrentDictionary<Member, byte>>();

app.Map("/rooms/broadcast/{name}", async (HttpContext http, string name) =>
{
    if (!http.WebSockets.IsWebSocketRequest)
    {
        return Results.StatusCode(StatusCodes.Status426UpgradeRequired);
    }

    using var socket = await http.WebSockets.AcceptWebSocketAsync();
    var member = new Member(socket);
    var room = rooms.GetOrAdd(name, _ => new());
    room[member] = 0;
    var buffer = new byte[64 * 1024];
    try
    {
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                break;
            }

            var length = result.Count;
            while (!result.EndOfMessage)
            {
                if (length == buffer.Length)
                {
                    Array.Resize(ref buffer, buffer.Length * 2);
                }

                result = await socket.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None);
                length += result.Count;
            }

            var payload = buffer.AsSpan(0, length).ToArray();
            foreach (var other in room.Keys)
            {
                await other.SendAsync(payload, result.MessageType);
            }
        }
    }
    catch (WebSocketException)
    {
        // The client went away: drop it from the room.
    }
    finally
    {
        room.TryRemove(member, out _);
    }

    return Results.Empty;
});

app.Run();

/// <summary>A socket with a send lock: one write at a time per socket.</summary>
internal sealed class Member(WebSocket socket)
{
    private readonly SemaphoreSlim _send = new(1, 1);

    public async Task SendAsync(byte[] payload, WebSocketMessageType type)
    {
        await _send.WaitAsync();
        try
        {
            if (socket.State == WebSocketState.Open)
            {
                await socket.SendAsync(payload, type, true, CancellationToken.None);
            }
        }
        catch (WebSocketException)
        {
            // That client is gone; its own handler removes it.
        }
        finally
        {
            _send.Release();
        }
    }
}
