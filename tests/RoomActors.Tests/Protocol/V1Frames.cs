using RoomActors.Tests.Infrastructure;
using System.Text;
using System.Text.Json;

namespace RoomActors.Tests.Protocol;

/// <summary>A <c>roomactors.v1</c> frame as a client reads it: the header's kind and fields, and the body.</summary>
public sealed record V1Frame(string Kind, string[] Fields, bool IsText, byte[] Body)
{
    public const string Subprotocol = "roomactors.v1";

    /// <summary>The SEQ field of <c>m</c>, <c>welcome</c> and <c>resumed</c> frames; the second field of <c>ack</c>.</summary>
    public long Seq => long.Parse(Kind == "ack" ? Fields[1] : Fields[0]);

    public string Text => Encoding.UTF8.GetString(Body);

    public JsonElement Json => JsonDocument.Parse(Body).RootElement;

    public static V1Frame Parse(Received received)
    {
        var data = received.Data;
        var end = Array.IndexOf(data, (byte)'\n');
        var header = Encoding.ASCII.GetString(data, 0, end < 0 ? data.Length : end).Split(' ');
        return new V1Frame(header[0], header[1..], received.IsText, end < 0 ? [] : data[(end + 1)..]);
    }

    /// <summary>A client frame: <c>m ID\nPAYLOAD</c> (or <c>m\nPAYLOAD</c> without an id).</summary>
    public static byte[] Message(string text, long id = 0) => Encoding.UTF8.GetBytes((id > 0 ? $"m {id}\n" : "m\n") + text);
}

/// <summary>A raw <c>roomactors.v1</c> client over <see cref="TestClient"/>, for tests of the wire itself.</summary>
public sealed class V1Client : IAsyncDisposable
{
    private V1Client(TestClient client) => Client = client;

    public TestClient Client { get; }

    public string Id { get; private set; } = "";

    public string Token { get; private set; } = "";

    /// <summary>The client's last seen number, per the wire spec's rule.</summary>
    public long LastSeq { get; private set; }

    /// <summary>Connects and reads the welcome.</summary>
    public static async Task<V1Client> ConnectAsync(Uri room)
    {
        var client = new V1Client(await TestClient.ConnectAsync(room, subprotocol: V1Frame.Subprotocol));
        var welcome = await client.NextAsync();
        Assert.Equal("welcome", welcome.Kind);
        client.Id = welcome.Json.GetProperty("connection").GetString()!;
        client.Token = welcome.Json.GetProperty("token").GetString()!;
        return client;
    }

    /// <summary>Opens a new socket that resumes the connection of <paramref name="token"/>; returns it before reading anything.</summary>
    public static async Task<V1Client> ResumeAsync(Uri room, string token, long lastSeq, string id = "")
    {
        var query = (room.Query.Length > 0 ? room.Query + "&" : "?") + $"resume={Uri.EscapeDataString(token)}&seq={lastSeq}";
        var client = new V1Client(await TestClient.ConnectAsync(new UriBuilder(room) { Query = query[1..] }.Uri, subprotocol: V1Frame.Subprotocol))
        {
            Id = id,
            Token = token,
            LastSeq = lastSeq,
        };
        return client;
    }

    /// <summary>The next frame; keeps <see cref="LastSeq"/> (a <c>resumed</c> frame's number counts once its replay was read).</summary>
    public async Task<V1Frame> NextAsync(TimeSpan? timeout = null)
    {
        var frame = V1Frame.Parse(await Client.ReceiveAsync(timeout));
        if (frame.Kind is "welcome" or "m" or "ack")
        {
            LastSeq = frame.Seq;
        }

        return frame;
    }

    /// <summary>The next room messages' texts, <paramref name="count"/> of them, skipping acks.</summary>
    public async Task<List<(long Seq, string Text)>> MessagesAsync(int count)
    {
        var list = new List<(long, string)>();
        while (list.Count < count)
        {
            var frame = await NextAsync();
            if (frame.Kind == "m")
            {
                list.Add((frame.Seq, frame.Text));
            }
        }

        return list;
    }

    public Task SendAsync(string text, long id = 0) =>
        Client.Socket.SendAsync(V1Frame.Message(text, id), System.Net.WebSockets.WebSocketMessageType.Text, true, CancellationToken.None);

    /// <summary>Drops the socket without a close frame (a network loss, as the server sees it).</summary>
    public ValueTask DropAsync() => Client.DisposeAsync();

    public ValueTask DisposeAsync() => Client.DisposeAsync();
}
