using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;

namespace RoomActors.Bench;

/// <summary>What a <c>room</c> message says: the room, its occupants' names, and the room list's counts.</summary>
internal sealed record Look(string Id, List<string> Occupants, List<(string Id, int Count)> Rooms);

/// <summary>One simulated attendee: one connection at a time, moved from room to room.</summary>
internal sealed class Attendee(ConferenceRun run, int index)
{
    private const int Ready = 0, Connecting = 1, Moving = 2, Offline = 3;
    private readonly SemaphoreSlim _sending = new(1);
    private volatile LeanWebSocket? _socket;
    private volatile int _state = Offline;
    private long _moveStart;        // when /go was sent (0: no move of ours in flight)
    private bool _awaitingMoved;    // /go sent, no `moved` yet
    private int _moveTarget = -1;
    private string? _movedTo;       // from the `moved` message
    private long _connectStart;
    private bool _signedIn;
    private int _failuresInARow;
    private int _expectRoom = -1;
    private TaskCompletionSource<Look?>? _look;

    public int Index { get; } = index;
    public string Name { get; } = $"a{index + 1:D5}";
    public IPAddress Source { get; set; } = IPAddress.Loopback;
    public string Url { get; set; } = "";
    public int State => _state;
    public int RoomIndex { get; private set; } = -1;
    public bool Looking => _look is not null;
    public long SaySeq, WhisperSeq, ShoutSeq;

    /// <summary>Connects to <paramref name="room"/> and keeps the attendee online (following moves) until the run stops.</summary>
    public async Task LifeAsync(int room, CancellationToken stop)
    {
        var nameTaken = 0;
        _state = Connecting;
        while (!stop.IsCancellationRequested)
        {
            var roomId = run.RoomAt(room).Id;
            LeanWebSocket socket;
            _connectStart = Stopwatch.GetTimestamp();
            _expectRoom = room;
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
                timeout.CancelAfter(TimeSpan.FromSeconds(30));
                // As the page does: a connect that follows a move says so (&from=), so the room skips the sign-in.
                var from = _state == Moving ? "&from=1" : "";
                socket = await LeanWebSocket.ConnectAsync(new Uri($"{Url}/rooms/mud/{roomId}?name={Name}{from}"), timeout.Token, source: Source, bufferSize: 8192);
            }
            catch (Exception) when (!stop.IsCancellationRequested)
            {
                run.CountConnectFailure();
                await Delay(Backoff(), stop);
                continue;
            }
            catch (Exception)
            {
                return;
            }

            _socket = socket;
            try
            {
                await socket.RunAsync(OnMessage, stop);
            }
            catch (Exception)
            {
                // Dropped or stopped: the close code (or its absence) below says which.
            }

            _socket = null;
            var code = socket.CloseCode;
            if (code is not null)
            {
                try
                {
                    await socket.SendCloseAsync(code.Value);
                }
                catch (Exception)
                {
                    // Already gone.
                }
            }

            socket.Dispose();
            var wasIn = RoomIndex;
            if (wasIn >= 0)
            {
                run.OnLeft(wasIn);
                RoomIndex = -1;
            }

            if (stop.IsCancellationRequested)
            {
                _state = Offline;
                return;
            }

            run.CountClose(code, socket.CloseReason);
            if (code == 4000 && _movedTo is { } next && run.IndexOf(next) is { } nextRoom)
            {
                // Moved: on to the new room (our /go, or the server's own move, e.g. an evacuation).
                _movedTo = null;
                _state = Moving;
                room = nextRoom;
                nameTaken = 0;
                continue;
            }

            // Anything else is a close we did not ask for.
            run.CountUnexpectedClose();
            SettleMove();
            if (code == 4009 && ++nameTaken <= 5)
            {
                // "name taken": the old connection of this name is still listed; try again shortly.
                _state = Connecting;
                await Delay(TimeSpan.FromMilliseconds(200), stop);
                continue;
            }

            if (code == 4029)
            {
                room = 0; // full: the entrance instead
            }

            _state = Offline;
            run.CountReconnect();
            await Delay(Backoff(), stop);
            _state = Connecting;
        }
    }

    /// <summary>
    /// How long to wait before signing in again after the <c>n</c>-th failure in a row: 1, 2, 4 … 30 s, ±50% at random,
    /// as a browser client would (10,000 clients retrying every second would keep an overloaded cluster down).
    /// </summary>
    private TimeSpan Backoff() =>
        TimeSpan.FromSeconds(Math.Min(30, Math.Pow(2, Math.Min(5, _failuresInARow++))) * (0.5 + Random.Shared.NextDouble()));

    private static async Task Delay(TimeSpan delay, CancellationToken stop)
    {
        try
        {
            await Task.Delay(delay, stop);
        }
        catch (OperationCanceledException)
        {
        }
    }

    public void BeginMove(int target, long now)
    {
        _moveTarget = target;
        _moveStart = now;
        _awaitingMoved = true;
        _state = Moving;
    }

    /// <summary>The move in flight (if any) is over, arrived or not.</summary>
    private void SettleMove()
    {
        if (_moveTarget >= 0)
        {
            run.OnMoveSettled(_moveTarget);
            _moveTarget = -1;
        }

        _awaitingMoved = false;
        _moveStart = 0;
    }

    /// <summary>A /go that got no <c>moved</c> within 15 s: the attendee stays where it is.</summary>
    public void CheckMoveTimeout(long now)
    {
        if (_awaitingMoved && _state == Moving && now - _moveStart > 15 * Stopwatch.Frequency)
        {
            run.CountMoveTimeout();
            SettleMove();
            _state = RoomIndex >= 0 ? Ready : Connecting;
        }
    }

    private void OnMessage(ReadOnlySpan<byte> json)
    {
        var now = Stopwatch.GetTimestamp();
        var type = Json.TypeOf(json);
        if (type.SequenceEqual("room"u8))
        {
            if (_look is { } look && RoomIndex >= 0)
            {
                _look = null;
                look.TrySetResult(Json.ParseLook(json));
                run.OnFrame(this, type, json, now);
                return;
            }

            var id = Json.StringProperty(json, "id"u8);
            if (RoomIndex < 0 && id is not null && run.IndexOf(id) is { } room)
            {
                if (room != _expectRoom)
                {
                    run.CountArrivedElsewhere();
                }

                RoomIndex = room;
                run.OnArrived(this, room, _moveStart == 0 ? null : _moveStart, _signedIn ? null : _connectStart, now);
                _signedIn = true;
                _failuresInARow = 0;
                SettleMove();
                _state = Ready;
            }
        }
        else if (type.SequenceEqual("moved"u8))
        {
            _movedTo = Json.StringProperty(json, "room"u8);
            _awaitingMoved = false;
        }
        else if (type.SequenceEqual("error"u8) && _awaitingMoved)
        {
            // The /go was refused (e.g. the room is full): the attendee stays.
            run.CountMoveRefused();
            SettleMove();
            _state = Ready;
        }

        run.OnFrame(this, type, json, now);
    }

    /// <summary>Sends a line (fire and forget; one send at a time per socket).</summary>
    public void Send(string line) => _ = SendAsync(line);

    private async Task SendAsync(string line)
    {
        await _sending.WaitAsync();
        try
        {
            if (_socket is { } socket)
            {
                await socket.SendTextAsync(Encoding.UTF8.GetBytes(line));
            }
        }
        catch (Exception)
        {
            // The socket closed under the send: the reader sees why.
        }
        finally
        {
            _sending.Release();
        }
    }

    /// <summary>Sends <c>/look</c> and returns what the next <c>room</c> message says (null after <paramref name="timeout"/>).</summary>
    public async Task<Look?> LookAsync(TimeSpan timeout)
    {
        var look = new TaskCompletionSource<Look?>(TaskCreationOptions.RunContinuationsAsynchronously);
        _look = look;
        await SendAsync("/look");
        var done = await Task.WhenAny(look.Task, Task.Delay(timeout));
        _look = null;
        return done == look.Task ? look.Task.Result : null;
    }

    public void Abort() => _socket?.Abort();
}

/// <summary>Just enough JSON for the MUD's messages, without building documents for the frequent ones.</summary>
internal static class Json
{
    /// <summary>The <c>type</c> of a message (fast when it is the first property, as the server writes it).</summary>
    public static ReadOnlySpan<byte> TypeOf(ReadOnlySpan<byte> json)
    {
        if (json.StartsWith("{\"type\":\""u8))
        {
            var rest = json[9..];
            var end = rest.IndexOf((byte)'"');
            return end < 0 ? default : rest[..end];
        }

        return StringProperty(json, "type"u8) is { } type ? Encoding.UTF8.GetBytes(type) : default;
    }

    /// <summary>A top-level string property; null when absent or not a string.</summary>
    public static string? StringProperty(ReadOnlySpan<byte> json, ReadOnlySpan<byte> name)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var match = reader.ValueTextEquals(name);
                reader.Read();
                if (match)
                {
                    return reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                }

                reader.Skip();
            }
        }
        catch (JsonException)
        {
        }

        return null;
    }

    public static Look? ParseLook(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            var occupants = root.TryGetProperty("occupants", out var o) && o.ValueKind == JsonValueKind.Array
                ? o.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Object && e.TryGetProperty("name", out var n) ? n.GetString() ?? "" : e.ToString()).ToList()
                : [];
            var rooms = root.TryGetProperty("rooms", out var r) && r.ValueKind == JsonValueKind.Array
                ? r.EnumerateArray().Select(e => (e.GetProperty("id").GetString() ?? "", e.TryGetProperty("count", out var c) && c.ValueKind == JsonValueKind.Number ? c.GetInt32() : -1)).ToList()
                : [];
            return new Look(root.TryGetProperty("id", out var id) ? id.GetString() ?? "" : "", occupants, rooms);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or KeyNotFoundException)
        {
            return null;
        }
    }
}

/// <summary>
/// A venue K times as large: K copies of every room (ids <c>ROOM</c>, <c>ROOM-2</c> … <c>ROOM-K</c>), exits within each
/// copy, and each copy's first room linked to the original's. Keeps the people per room of a run with K times fewer
/// attendees.
/// </summary>
internal static class VenueScaler
{
    public static (string, object, string?) Run(string input, int copies, string output)
    {
        var venue = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(input))!.AsObject();
        var rooms = venue["rooms"]!.AsArray();
        var original = rooms.Select(r => r!.DeepClone().AsObject()).ToList();
        var first = (string)original[0]["id"]!;
        for (var k = 2; k <= copies; k++)
        {
            foreach (var room in original)
            {
                var copy = room.DeepClone().AsObject();
                copy["id"] = $"{(string)room["id"]!}-{k}";
                copy["name"] = $"{(string)room["name"]!} {k}";
                var exits = new System.Text.Json.Nodes.JsonArray(room["exits"]?.AsArray().Select(e => (System.Text.Json.Nodes.JsonNode?)$"{(string)e!}-{k}").ToArray() ?? []);
                if ((string)room["id"]! == first)
                {
                    exits.Add(first);
                }

                copy["exits"] = exits;
                rooms.Add(copy);
            }
        }

        File.WriteAllText(output, venue.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return ($"venue: {rooms.Count} rooms in {output}", new { rooms = rooms.Count }, null);
    }
}
