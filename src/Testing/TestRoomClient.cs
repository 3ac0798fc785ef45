using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using RoomActors.Testing.Internal;

namespace RoomActors.Testing;

/// <summary>
/// A client of one room, connected through the <see cref="RoomTestHost"/>'s gateway: what it sends reaches the room as a
/// WebSocket client's frames do, and it receives what the room sends it, in the room's order. Reads are a queue:
/// <see cref="NextAsync"/> takes the next unread message; <see cref="Received"/> keeps everything.
/// </summary>
public sealed class TestRoomClient : IAsyncDisposable
{
    private readonly object _lock = new();
    private readonly List<TestMessage> _received = new();
    private readonly Channel<TestMessage> _unread = Channel.CreateUnbounded<TestMessage>(new UnboundedChannelOptions { SingleWriter = true });
    private readonly TaskCompletionSource<(int Code, string Reason)> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _joined = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TestRoomLink _link;
    private readonly TimeSpan _timeout;

    internal TestRoomClient(TestRoomLink link, string id, string? userId, TimeSpan timeout)
    {
        _link = link;
        _timeout = timeout;
        Id = id;
        UserId = userId;
    }

    /// <summary>The connection id: the room's <c>Connection.Id</c> for this client.</summary>
    public string Id { get; }

    /// <summary>The room type.</summary>
    public string Type => _link.Type;

    /// <summary>The room name.</summary>
    public string Name => _link.Name;

    /// <summary>The user the client connected as (the verified user a gateway would pass), or null.</summary>
    public string? UserId { get; }

    /// <summary>Everything the room sent this client so far, in the room's order (read or not).</summary>
    public IReadOnlyList<TestMessage> Received
    {
        get
        {
            lock (_lock)
            {
                return [.. _received];
            }
        }
    }

    /// <summary>True once the client closed (<see cref="CloseAsync"/>, <see cref="DropAsync"/>) or the room closed it.</summary>
    public bool IsClosed => _closed.Task.IsCompleted;

    /// <summary>True when the room closed the connection (<c>connection.Close</c>, a rejection, or the room no longer knew it).</summary>
    public bool ClosedByRoom { get; private set; }

    /// <summary>The close code once closed, else null.</summary>
    public int? CloseCode => IsClosed ? _closed.Task.Result.Code : null;

    /// <summary>The close reason once closed, else null.</summary>
    public string? CloseReason => IsClosed ? _closed.Task.Result.Reason : null;

    /// <summary>Sends a text message to the room; returns when the room's turn for it has ended and its output arrived here.</summary>
    /// <param name="text">The message.</param>
    public Task SendAsync(string text) => SendPayloadAsync(new Payload(true, Encoding.UTF8.GetBytes(text)));

    /// <summary>Sends a binary message to the room; returns when the room's turn for it has ended and its output arrived here.</summary>
    /// <param name="data">The message; copied.</param>
    public Task SendAsync(ReadOnlyMemory<byte> data) => SendPayloadAsync(new Payload(false, data.ToArray()));

    /// <summary>
    /// The client leaves: the room's close hook runs with <paramref name="code"/> and <paramref name="reason"/>; returns when
    /// that turn has ended. Nothing happens when the client is closed already.
    /// </summary>
    /// <param name="code">A close code a client may send: 1000–1003, 1007–1014 or 3000–4999.</param>
    /// <param name="reason">The close reason.</param>
    public Task CloseAsync(int code = CloseCodes.Normal, string reason = "")
    {
        CloseCodes.ThrowIfNotSendable(code);
        return LeaveAsync(code, reason);
    }

    /// <summary>The network dropped: the room's close hook runs with 1006 (abnormal closure); returns when that turn has ended.</summary>
    public Task DropAsync() => LeaveAsync(CloseCodes.Abnormal, "connection lost");

    /// <summary>The next unread message.</summary>
    /// <param name="timeout">How long to wait; default the host's <see cref="RoomTestHostOptions.DefaultTimeout"/>.</param>
    /// <exception cref="TimeoutException">Nothing arrived in time.</exception>
    /// <exception cref="InvalidOperationException">The client is closed and every message was read.</exception>
    public async Task<TestMessage> NextAsync(TimeSpan? timeout = null)
    {
        var wait = timeout ?? _timeout;
        using var cts = new CancellationTokenSource(wait);
        try
        {
            return await _unread.Reader.ReadAsync(cts.Token);
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            // Control flow: the wait ran out; said in the test's terms.
            throw new TimeoutException($"Client {Id} of room {Type}/{Name}: no message within {wait.TotalSeconds:0.###} s ({Count} received so far).");
        }
        catch (ChannelClosedException)
        {
            // Control flow: nothing more can arrive.
            throw new InvalidOperationException($"Client {Id} of room {Type}/{Name} is closed ({CloseCode} {CloseReason}) and every message was read.");
        }
    }

    /// <summary>The next unread message, which must be text.</summary>
    /// <param name="timeout">How long to wait; default the host's <see cref="RoomTestHostOptions.DefaultTimeout"/>.</param>
    public async Task<string> NextTextAsync(TimeSpan? timeout = null)
    {
        var message = await NextAsync(timeout);
        return message.IsText
            ? message.Text
            : throw new InvalidOperationException($"Client {Id} of room {Type}/{Name}: expected a text message, got a binary one of {message.Data.Length} bytes.");
    }

    /// <summary>
    /// The next unread message that is JSON; with <paramref name="match"/>, the next one for which it is true, every unread
    /// message before it (JSON or not) read and skipped (still in <see cref="Received"/>).
    /// </summary>
    /// <param name="match">Which message to wait for, e.g. <c>m =&gt; m.GetProperty("type").GetString() == "say"</c>; null: the next message, which must be JSON.</param>
    /// <param name="timeout">How long to wait in all; default the host's <see cref="RoomTestHostOptions.DefaultTimeout"/>.</param>
    public async Task<JsonElement> NextJsonAsync(Func<JsonElement, bool>? match = null, TimeSpan? timeout = null)
    {
        if (match is null)
        {
            var text = await NextTextAsync(timeout);
            return TryParseJson(text) ?? throw new InvalidOperationException($"Client {Id} of room {Type}/{Name}: expected JSON, got: {text}");
        }

        var wait = timeout ?? _timeout;
        var deadline = Environment.TickCount64 + (long)wait.TotalMilliseconds;
        while (true)
        {
            var left = TimeSpan.FromMilliseconds(Math.Max(0, deadline - Environment.TickCount64));
            TestMessage message;
            try
            {
                message = await NextAsync(left);
            }
            catch (TimeoutException)
            {
                // Control flow: say what was waited for.
                throw new TimeoutException($"Client {Id} of room {Type}/{Name}: no matching JSON message within {wait.TotalSeconds:0.###} s ({Count} received so far).");
            }

            if (message.IsText && TryParseJson(message.Text) is { } json && match(json))
            {
                return json;
            }
        }
    }

    /// <summary>True when no unread message is waiting and none arrives within <paramref name="wait"/>. Reads nothing.</summary>
    /// <param name="wait">How long to listen.</param>
    public async Task<bool> QuietAsync(TimeSpan wait)
    {
        using var cts = new CancellationTokenSource(wait);
        try
        {
            return !await _unread.Reader.WaitToReadAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            // Control flow: nothing arrived.
            return true;
        }
    }

    /// <summary>Waits until the connection is closed (by the room, or by this client) and returns the code and reason.</summary>
    /// <param name="timeout">How long to wait; default the host's <see cref="RoomTestHostOptions.DefaultTimeout"/>.</param>
    /// <exception cref="TimeoutException">Still open after <paramref name="timeout"/>.</exception>
    public async Task<(int Code, string Reason)> ClosedAsync(TimeSpan? timeout = null)
    {
        var wait = timeout ?? _timeout;
        try
        {
            return await _closed.Task.WaitAsync(wait);
        }
        catch (TimeoutException)
        {
            // Say which client stayed open.
            throw new TimeoutException($"Client {Id} of room {Type}/{Name} is still open after {wait.TotalSeconds:0.###} s.");
        }
    }

    /// <summary>Closes the client with 1000 if it is still open.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!IsClosed && !_link.Gateway.IsStopped)
        {
            await CloseAsync();
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"{Type}/{Name} client {Id}";

    private int Count
    {
        get
        {
            lock (_lock)
            {
                return _received.Count;
            }
        }
    }

    private async Task SendPayloadAsync(Payload payload)
    {
        if (IsClosed)
        {
            throw new InvalidOperationException($"Client {Id} of room {Type}/{Name} is closed ({CloseCode} {CloseReason}): connect a new one.");
        }

        await _link.SendAsync([InboundEvent.Message(Id, payload)]);
    }

    private async Task LeaveAsync(int code, string reason)
    {
        if (!Closed(code, reason, byRoom: false))
        {
            return;
        }

        _link.Remove(this);
        await _link.SendAsync([InboundEvent.Closed(Id, code, reason)]);
    }

    // ───────────── Called by the gateway, in the room's order ─────────────

    /// <summary>The connect call's wait: the room's join arrived (or the connection closed first).</summary>
    internal Task Joined => _joined.Task;

    internal void OnJoined() => _joined.TrySetResult();

    internal void OnMessage(Payload payload)
    {
        if (IsClosed)
        {
            return;
        }

        var message = new TestMessage(payload.IsText, payload.Data);
        lock (_lock)
        {
            _received.Add(message);
        }

        _unread.Writer.TryWrite(message);
    }

    /// <summary>Closes the client once; false when it was closed already.</summary>
    internal bool Closed(int code, string reason, bool byRoom)
    {
        lock (_lock)
        {
            if (_closed.Task.IsCompleted)
            {
                return false;
            }

            ClosedByRoom = byRoom;
            _closed.TrySetResult((code, reason));
        }

        _unread.Writer.TryComplete();
        _joined.TrySetResult();
        return true;
    }

    private static JsonElement ParseJson(string text)
    {
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }

    private static JsonElement? TryParseJson(string text)
    {
        try
        {
            return ParseJson(text);
        }
        catch (JsonException)
        {
            // Not JSON: not a match.
            return null;
        }
    }
}
