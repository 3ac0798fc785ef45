using System.Buffers;
using System.Net.WebSockets;
using System.Threading.Channels;

namespace RoomActors.Gateway.Sockets;

/// <summary>
/// One client socket on this gateway: a bounded outbound queue drained by a single writer, and the close state.
/// Deliveries only enqueue (never block); a client whose queue overflows is closed with 1008.
/// </summary>
internal sealed class ClientConnection
{
    private readonly WebSocket _socket;
    private readonly GatewayOptions _options;
    private readonly Channel<Frame> _outbound = Channel.CreateUnbounded<Frame>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _abort = new();
    private int _queuedMessages;
    private long _queuedBytes;
    private int _closeRequested;
    private volatile bool _discardQueued;

    private readonly CoalescingStream? _stream;

    public ClientConnection(string id, WebSocket socket, GatewayOptions options, CoalescingStream? stream = null)
    {
        Id = id;
        _socket = socket;
        _options = options;
        _stream = stream;
        Snapshot = new ConnectionSnapshot(id, [id], null);
    }

    public string Id { get; }

    /// <summary>The close code and reason the server chose (room, policy, shutdown), or null when the client closed first.</summary>
    public (int Code, string Reason)? ServerClose { get; private set; }

    /// <summary>True when the room itself closed this connection (so the room need not be told).</summary>
    public bool ClosedByRoom { get; private set; }

    /// <summary>
    /// What the room last said of this connection's tags and state: kept here so that a room that restarted (its
    /// silo died, or it moved) can take the connection back.
    /// </summary>
    public ConnectionSnapshot Snapshot { get; set; }

    /// <summary>Queues a frame for the writer. Never blocks. False when the connection is closing or just overflowed.</summary>
    public bool Enqueue(Frame frame)
    {
        if (Volatile.Read(ref _closeRequested) != 0)
        {
            return false;
        }

        var messages = Interlocked.Increment(ref _queuedMessages);
        var bytes = Interlocked.Add(ref _queuedBytes, frame.Data.Length);
        if (messages > _options.OutboundQueueMessages || bytes > _options.OutboundQueueBytes)
        {
            Interlocked.Decrement(ref _queuedMessages);
            Interlocked.Add(ref _queuedBytes, -frame.Data.Length);
            RequestClose(CloseCodes.PolicyViolation, "client too slow: outbound queue full", discardQueued: true);
            return false;
        }

        _outbound.Writer.TryWrite(frame);
        return true;
    }

    /// <summary>
    /// Starts closing with <paramref name="code"/>: the writer sends what is queued (or drops it when
    /// <paramref name="discardQueued"/>), then the close frame. The first request wins.
    /// </summary>
    public void RequestClose(int code, string reason, bool discardQueued = false, bool byRoom = false)
    {
        if (Interlocked.Exchange(ref _closeRequested, 1) != 0)
        {
            return;
        }

        ServerClose = (code, reason);
        ClosedByRoom = byRoom;
        _discardQueued = discardQueued;
        _outbound.Writer.TryComplete();

        // Flushing, the close frame and the client's answer get the close timeout together: a write may be stuck
        // on a client that does not read, and it must not hold the connection open.
        _abort.CancelAfter(_options.CloseTimeout);
    }

    /// <summary>The client sent a close frame: answer it without sending what is still queued.</summary>
    public void OnClientClosed()
    {
        if (Interlocked.Exchange(ref _closeRequested, 1) == 0)
        {
            _discardQueued = true;
            _outbound.Writer.TryComplete();
            _abort.CancelAfter(_options.CloseTimeout);
        }
    }

    /// <summary>Aborts the socket at once (network error or timeout).</summary>
    public void Abort()
    {
        _outbound.Writer.TryComplete();
        _socket.Abort();
    }

    /// <summary>
    /// The single writer: sends queued frames in order until a close is requested, then completes the close
    /// handshake within <see cref="GatewayOptions.CloseTimeout"/>, aborting the socket when it cannot.
    /// </summary>
    public async Task RunWriterAsync()
    {
        var reader = _outbound.Reader;
        try
        {
            while (await reader.WaitToReadAsync(_abort.Token))
            {
                // Everything already queued goes out in one write (see CoalescingStream); nothing waits for more.
                _stream?.BeginBatch();
                while (reader.TryRead(out var frame))
                {
                    Interlocked.Decrement(ref _queuedMessages);
                    Interlocked.Add(ref _queuedBytes, -frame.Data.Length);
                    if (_discardQueued)
                    {
                        continue;
                    }

                    await _socket.SendAsync(frame.Data, frame.IsText ? WebSocketMessageType.Text : WebSocketMessageType.Binary, true, _abort.Token);
                }

                if (_stream is not null)
                {
                    await _stream.EndBatchAsync(_abort.Token);
                }
            }

            await SendCloseAsync();
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException or ObjectDisposedException)
        {
            // The peer is gone or stuck past the close timeout: abort; the reader reports the close to the room.
            _socket.Abort();
        }
    }

    private async Task SendCloseAsync()
    {
        if (_socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived))
        {
            return;
        }

        var (code, reason) = ServerClose ?? (CloseCodes.Normal, "");
        if (_socket.State == WebSocketState.CloseReceived && ServerClose is null)
        {
            // Echo the client's close code, as RFC 6455 §5.5.1 suggests.
            code = (int?)_socket.CloseStatus ?? CloseCodes.Normal;
            reason = _socket.CloseStatusDescription ?? "";
        }

        await _socket.CloseOutputAsync((WebSocketCloseStatus)code, Truncate(reason), _abort.Token);
    }

    /// <summary>A close reason has at most 123 UTF-8 bytes.</summary>
    private static string Truncate(string reason)
    {
        if (System.Text.Encoding.UTF8.GetByteCount(reason) <= 123)
        {
            return reason;
        }

        var chars = reason.AsSpan();
        while (System.Text.Encoding.UTF8.GetByteCount(chars) > 123)
        {
            chars = chars[..^1];
        }

        return chars.ToString();
    }

    /// <summary>
    /// The single reader: hands every complete message to <paramref name="onMessage"/> in order until the socket
    /// closes, and says how it closed (the server's code if the server closed first, else the client's, else 1006).
    /// </summary>
    public async Task<(int Code, string Reason)> RunReaderAsync(Func<Frame, ValueTask> onMessage)
    {
        var bufferSize = Math.Min(16 * 1024, _options.MaxMessageBytes + 1);
        var message = new MemoryStream();
        try
        {
            while (true)
            {
                // A zero-byte read waits for the next frame without holding a buffer: an idle socket costs no buffer.
                // It returns once a frame header is in; a frame with an empty payload may already be complete then.
                var result = await _socket.ReceiveAsync(Memory<byte>.Empty, _abort.Token);
                byte[]? buffer = null;
                try
                {
                    if (result.MessageType != WebSocketMessageType.Close && !result.EndOfMessage)
                    {
                        buffer = ArrayPool<byte>.Shared.Rent(bufferSize);
                        result = await _socket.ReceiveAsync(buffer.AsMemory(0, bufferSize), _abort.Token);
                    }

                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        OnClientClosed();
                        return ServerClose ?? ((int?)_socket.CloseStatus ?? CloseCodes.Normal, _socket.CloseStatusDescription ?? "");
                    }

                    if (message.Length + result.Count > _options.MaxMessageBytes)
                    {
                        RequestClose(CloseCodes.MessageTooBig, $"message exceeds the limit of {_options.MaxMessageBytes} bytes", discardQueued: true);
                        return ServerClose!.Value;
                    }

                    var chunk = buffer.AsSpan(0, result.Count);
                    var isText = result.MessageType == WebSocketMessageType.Text;
                    if (result.EndOfMessage && message.Length == 0)
                    {
                        // The common case: the whole message arrived in one read.
                        await onMessage(new Frame(isText, chunk.ToArray()));
                        continue;
                    }

                    message.Write(chunk);
                    if (result.EndOfMessage)
                    {
                        await onMessage(new Frame(isText, message.ToArray()));
                        message.SetLength(0);
                    }
                }
                finally
                {
                    if (buffer is not null)
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                    }
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException or ObjectDisposedException)
        {
            // The connection dropped or was aborted: report the server's reason if it had one, else 1006.
            _socket.Abort();
            _outbound.Writer.TryComplete();
            return ServerClose ?? (CloseCodes.Abnormal, "connection lost");
        }
    }
}
