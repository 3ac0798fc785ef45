using System.Net.WebSockets;
using System.Text;
using System.Threading.Channels;

namespace RoomActors.Tests.Infrastructure;

/// <summary>A received WebSocket message.</summary>
public sealed record Received(bool IsText, byte[] Data)
{
    public string Text => Encoding.UTF8.GetString(Data);
}

/// <summary>
/// A real <see cref="ClientWebSocket"/> on loopback with a background reader that queues every message. Every wait
/// is bounded: a missing message fails the test instead of hanging it.
/// </summary>
public sealed class TestClient : IAsyncDisposable
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(20);

    private readonly Channel<Received> _received = Channel.CreateUnbounded<Received>();
    private readonly TaskCompletionSource<(WebSocketCloseStatus? Status, string? Reason, Exception? Error)> _closed =
        new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _reader;

    private TestClient(ClientWebSocket socket) => Socket = socket;

    public ClientWebSocket Socket { get; }

    /// <summary>Connects; with <paramref name="read"/> false nothing is read until <see cref="StartReading"/>.</summary>
    public static async Task<TestClient> ConnectAsync(Uri uri, bool read = true, string? subprotocol = null)
    {
        var socket = new ClientWebSocket();
        if (subprotocol is not null)
        {
            socket.Options.AddSubProtocol(subprotocol);
        }

        using var timeout = new CancellationTokenSource(DefaultTimeout);
        await socket.ConnectAsync(uri, timeout.Token);
        var client = new TestClient(socket);
        if (read)
        {
            client.StartReading();
        }

        return client;
    }

    public void StartReading() => _reader ??= Task.Run(ReadLoopAsync);

    public Task SendAsync(string text) =>
        Socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);

    public Task SendAsync(byte[] data) =>
        Socket.SendAsync(data, WebSocketMessageType.Binary, true, CancellationToken.None);

    /// <summary>The next message, or a failure after <paramref name="timeout"/>.</summary>
    public async Task<Received> ReceiveAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? DefaultTimeout);
        try
        {
            return await _received.Reader.ReadAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"No message within {timeout ?? DefaultTimeout} (socket state {Socket.State}).");
        }
        catch (ChannelClosedException)
        {
            var closed = await _closed.Task;
            throw new InvalidOperationException($"The socket closed ({closed.Status} {closed.Reason} {closed.Error?.Message}) instead of sending a message.");
        }
    }

    public async Task<string> ReceiveTextAsync(TimeSpan? timeout = null)
    {
        var message = await ReceiveAsync(timeout);
        Assert.True(message.IsText, "expected a text frame");
        return message.Text;
    }

    /// <summary>Takes messages until the text message <paramref name="text"/> arrives; returns how many came before it.</summary>
    public async Task<int> SkipUntilAsync(string text)
    {
        var skipped = 0;
        while (await ReceiveAsync() is not { IsText: true } message || message.Text != text)
        {
            skipped++;
        }

        return skipped;
    }

    /// <summary>
    /// Connects clients to a relay room (broadcast-like) and returns once every one of them is a member: each waits
    /// for its own marker, then one last marker reaches all and everything before it is dropped.
    /// </summary>
    public static async Task<List<TestClient>> JoinRelayAsync(IEnumerable<Uri> uris)
    {
        var clients = new List<TestClient>();
        foreach (var uri in uris)
        {
            var client = await ConnectAsync(uri);
            var marker = "joined " + Guid.NewGuid().ToString("N");
            await client.SendAsync(marker);
            await client.SkipUntilAsync(marker);
            clients.Add(client);
        }

        var ready = "ready " + Guid.NewGuid().ToString("N");
        await clients[0].SendAsync(ready);
        foreach (var client in clients)
        {
            await client.SkipUntilAsync(ready);
        }

        return clients;
    }

    /// <summary>Messages received so far and not yet taken.</summary>
    public List<Received> Drain()
    {
        var list = new List<Received>();
        while (_received.Reader.TryRead(out var message))
        {
            list.Add(message);
        }

        return list;
    }

    /// <summary>Waits until the server closes the socket (or it drops); returns the close status, null when aborted.</summary>
    public async Task<(WebSocketCloseStatus? Status, string? Reason, Exception? Error)> WaitClosedAsync(TimeSpan? timeout = null)
    {
        StartReading();
        return await _closed.Task.WaitAsync(timeout ?? DefaultTimeout);
    }

    public async Task CloseAsync(WebSocketCloseStatus status = WebSocketCloseStatus.NormalClosure, string reason = "bye")
    {
        using var timeout = new CancellationTokenSource(DefaultTimeout);
        await Socket.CloseOutputAsync(status, reason, timeout.Token);
        await WaitClosedAsync();
    }

    private async Task ReadLoopAsync()
    {
        var buffer = new byte[64 * 1024];
        var message = new MemoryStream();
        try
        {
            while (true)
            {
                var result = await Socket.ReceiveAsync(buffer, CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    _closed.TrySetResult((result.CloseStatus, result.CloseStatusDescription, null));
                    if (Socket.State == WebSocketState.CloseReceived)
                    {
                        // Answer the server's close, as browsers do.
                        await Socket.CloseOutputAsync(result.CloseStatus ?? WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                    }

                    return;
                }

                message.Write(buffer, 0, result.Count);
                if (result.EndOfMessage)
                {
                    _received.Writer.TryWrite(new Received(result.MessageType == WebSocketMessageType.Text, message.ToArray()));
                    message.SetLength(0);
                }
            }
        }
        catch (Exception ex)
        {
            // The connection dropped: record it; the test decides whether that was expected.
            _closed.TrySetResult((null, null, ex));
        }
        finally
        {
            _received.Writer.TryComplete();
        }
    }

    public async ValueTask DisposeAsync()
    {
        Socket.Abort();
        if (_reader is not null)
        {
            await _reader;
        }

        Socket.Dispose();
    }
}
