using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace RoomActors.Bench;

/// <summary>Called with the payload of each complete data message, in order.</summary>
internal delegate void MessageHandler(ReadOnlySpan<byte> payload);

/// <summary>
/// The load generator's client socket: an RFC 6455 client over a plain TCP socket that parses every frame already
/// received from one read. <c>ClientWebSocket</c> costs the generator a receive call per frame; at several hundred
/// thousand frames per second on one core that, not the server, set the limit, so the measurement needs a cheaper
/// reader. Sends are masked text or binary frames; pings are answered with pongs.
/// </summary>
internal sealed class LeanWebSocket : IDisposable
{
    private readonly Socket _socket;
    private byte[] _buffer;
    private int _start;
    private int _end;
    private byte[]? _fragments;
    private int _fragmentLength;

    private LeanWebSocket(Socket socket, int bufferSize)
    {
        _socket = socket;
        _buffer = new byte[bufferSize];
    }

    /// <summary>The status code of the server's close frame, once one arrived (1005 when it carried none).</summary>
    public int? CloseCode { get; private set; }

    /// <summary>The reason of the server's close frame, once one arrived.</summary>
    public string? CloseReason { get; private set; }

    /// <summary>
    /// Opens a TCP connection to <paramref name="uri"/> (ws://) and completes the upgrade handshake. With
    /// <paramref name="source"/> the socket is bound to that local address first (e.g. 127.0.0.2: each source address
    /// has its own ephemeral ports); <paramref name="bufferSize"/> is the initial read buffer (it grows for larger frames).
    /// </summary>
    public static async Task<LeanWebSocket> ConnectAsync(Uri uri, CancellationToken cancellationToken, string? subprotocol = null,
        IPAddress? source = null, int bufferSize = 1 << 16)
    {
        var socket = new Socket(source?.AddressFamily ?? AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            if (source is not null)
            {
                socket.Bind(new IPEndPoint(source, 0));
                var host = IPAddress.TryParse(uri.Host, out var ip) ? ip
                    : (await Dns.GetHostAddressesAsync(uri.Host, source.AddressFamily, cancellationToken))[0];
                await socket.ConnectAsync(host, uri.Port, cancellationToken);
            }
            else
            {
                await socket.ConnectAsync(uri.Host, uri.Port, cancellationToken);
            }

            var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
            var request = $"GET {uri.PathAndQuery} HTTP/1.1\r\nHost: {uri.Authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
                          $"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n" +
                          (subprotocol is null ? "" : $"Sec-WebSocket-Protocol: {subprotocol}\r\n") + "\r\n";
            await socket.SendAsync(Encoding.ASCII.GetBytes(request), SocketFlags.None, cancellationToken);
            var client = new LeanWebSocket(socket, bufferSize);
            await client.ReadHandshakeAsync(cancellationToken);
            return client;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private async Task ReadHandshakeAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var read = await _socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None, cancellationToken);
            if (read == 0)
            {
                throw new BenchException("the server closed the connection during the WebSocket handshake");
            }

            _end += read;
            var headerEnd = _buffer.AsSpan(0, _end).IndexOf("\r\n\r\n"u8);
            if (headerEnd < 0)
            {
                continue;
            }

            var status = Encoding.ASCII.GetString(_buffer, 0, _buffer.AsSpan(0, headerEnd).IndexOf("\r\n"u8) is var eol and >= 0 ? eol : headerEnd);
            if (!status.StartsWith("HTTP/1.1 101", StringComparison.Ordinal))
            {
                throw new BenchException($"WebSocket upgrade refused: {status}");
            }

            _start = headerEnd + 4; // frames the server sent right after the handshake stay in the buffer
            return;
        }
    }

    /// <summary>Sends <paramref name="payload"/> as one masked text frame. One sender at a time.</summary>
    public ValueTask<int> SendTextAsync(ReadOnlySpan<byte> payload) => SendDataAsync(0x1, payload);

    /// <summary>Sends <paramref name="payload"/> as one masked binary frame (Yjs messages are not UTF-8). One sender at a time.</summary>
    public ValueTask<int> SendBinaryAsync(ReadOnlySpan<byte> payload) => SendDataAsync(0x2, payload);

    private ValueTask<int> SendDataAsync(byte opcode, ReadOnlySpan<byte> payload)
    {
        var header = payload.Length < 126 ? 2 : payload.Length <= ushort.MaxValue ? 4 : 10;
        var frame = new byte[header + 4 + payload.Length];
        frame[0] = (byte)(0x80 | opcode); // FIN + text or binary
        switch (header)
        {
            case 2:
                frame[1] = (byte)(0x80 | payload.Length);
                break;
            case 4:
                frame[1] = 0x80 | 126;
                BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), (ushort)payload.Length);
                break;
            default:
                frame[1] = 0x80 | 127;
                BinaryPrimitives.WriteUInt64BigEndian(frame.AsSpan(2), (ulong)payload.Length);
                break;
        }

        var mask = frame.AsSpan(header, 4);
        Random.Shared.NextBytes(mask);
        var body = frame.AsSpan(header + 4);
        for (var i = 0; i < payload.Length; i++)
        {
            body[i] = (byte)(payload[i] ^ mask[i & 3]);
        }

        return _socket.SendAsync(frame, SocketFlags.None, CancellationToken.None);
    }

    /// <summary>
    /// Answers a ping with a masked pong carrying its payload. Not awaited: a control frame of at most 131 bytes goes out
    /// in one send call, so it does not split a text frame being sent at the same moment.
    /// </summary>
    private void SendPong(ReadOnlySpan<byte> payload)
    {
        var frame = new byte[2 + 4 + payload.Length];
        frame[0] = 0x8A; // FIN + pong
        frame[1] = (byte)(0x80 | payload.Length);
        var mask = frame.AsSpan(2, 4);
        Random.Shared.NextBytes(mask);
        for (var i = 0; i < payload.Length; i++)
        {
            frame[6 + i] = (byte)(payload[i] ^ mask[i & 3]);
        }

        try
        {
            _ = _socket.SendAsync(frame, SocketFlags.None, CancellationToken.None).AsTask().ContinueWith(
                t => _ = t.Exception, TaskContinuationOptions.OnlyOnFaulted); // a socket already gone: nothing to answer
        }
        catch (Exception)
        {
            // The socket is closed: nothing to answer.
        }
    }

    /// <summary>Answers the server's close frame (or starts the closing handshake) with a masked close frame.</summary>
    public ValueTask<int> SendCloseAsync(int code)
    {
        var frame = new byte[2 + 4 + 2];
        frame[0] = 0x88; // FIN + close
        frame[1] = 0x80 | 2;
        Random.Shared.NextBytes(frame.AsSpan(2, 4));
        frame[6] = (byte)((code >> 8) ^ frame[2]);
        frame[7] = (byte)((code & 0xFF) ^ frame[3]);
        return _socket.SendAsync(frame, SocketFlags.None, CancellationToken.None);
    }

    /// <summary>The next complete data message (for handshakes before the read loop starts).</summary>
    public async Task<byte[]> ReceiveMessageAsync(CancellationToken cancellationToken)
    {
        byte[]? message = null;
        while (message is null)
        {
            ParseFrames(payload => message ??= payload.ToArray(), stopAfterOne: true);
            if (message is null && !await FillAsync(cancellationToken))
            {
                throw new BenchException("the server closed the connection");
            }
        }

        return message;
    }

    /// <summary>Reads until the server closes or <paramref name="stop"/>, handing every data message to <paramref name="onMessage"/>.</summary>
    public async Task RunAsync(MessageHandler onMessage, CancellationToken stop)
    {
        while (true)
        {
            if (ParseFrames(onMessage, stopAfterOne: false) || !await FillAsync(stop))
            {
                return; // close frame, or the connection ended
            }
        }
    }

    /// <summary>Reads more bytes into the buffer; false when the connection ended.</summary>
    private async ValueTask<bool> FillAsync(CancellationToken cancellationToken)
    {
        if (_start > 0)
        {
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _end -= _start;
            _start = 0;
        }

        if (_end == _buffer.Length)
        {
            Array.Resize(ref _buffer, _buffer.Length * 2);
        }

        var read = await _socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None, cancellationToken);
        _end += read;
        return read > 0;
    }

    /// <summary>Hands out every complete frame in the buffer; true when a close frame arrived.</summary>
    private bool ParseFrames(MessageHandler onMessage, bool stopAfterOne)
    {
        while (_end - _start >= 2)
        {
            var span = _buffer.AsSpan(_start, _end - _start);
            var fin = (span[0] & 0x80) != 0;
            var opcode = span[0] & 0x0F;
            var length = (long)(span[1] & 0x7F);
            var header = 2;
            if (length == 126)
            {
                if (span.Length < 4)
                {
                    return false;
                }

                length = BinaryPrimitives.ReadUInt16BigEndian(span[2..]);
                header = 4;
            }
            else if (length == 127)
            {
                if (span.Length < 10)
                {
                    return false;
                }

                length = (long)BinaryPrimitives.ReadUInt64BigEndian(span[2..]);
                header = 10;
            }

            if (span.Length < header + length)
            {
                return false;
            }

            var payload = span.Slice(header, (int)length);
            _start += header + (int)length;
            switch (opcode)
            {
                case 0x8:
                    CloseCode = payload.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(payload) : 1005;
                    CloseReason = payload.Length > 2 ? Encoding.UTF8.GetString(payload[2..]) : "";
                    return true;
                case 0x9:
                    SendPong(payload); // as a browser does: a gateway aborts a client that does not answer its pings (KeepAliveTimeout)
                    continue;
                case 0xA:
                    continue;
                case 0x0 or 0x1 or 0x2 when fin && _fragmentLength == 0:
                    onMessage(payload);
                    break;
                default:
                    // A fragment: collect until the final one.
                    _fragments ??= new byte[1 << 16];
                    if (_fragmentLength + payload.Length > _fragments.Length)
                    {
                        Array.Resize(ref _fragments, Math.Max(_fragments.Length * 2, _fragmentLength + payload.Length));
                    }

                    payload.CopyTo(_fragments.AsSpan(_fragmentLength));
                    _fragmentLength += payload.Length;
                    if (!fin)
                    {
                        continue;
                    }

                    onMessage(_fragments.AsSpan(0, _fragmentLength));
                    _fragmentLength = 0;
                    break;
            }

            if (stopAfterOne)
            {
                return false;
            }
        }

        return false;
    }

    /// <summary>Drops the connection at once (no close handshake).</summary>
    public void Abort() => _socket.Dispose();

    public void Dispose() => _socket.Dispose();
}
