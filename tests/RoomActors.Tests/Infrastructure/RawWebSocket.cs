using System.Diagnostics;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace RoomActors.Tests.Infrastructure;

/// <summary>A frame as read off the wire: FIN, opcode, payload.</summary>
public sealed record RawFrame(bool Fin, int Opcode, byte[] Payload)
{
    public const int Continuation = 0x0, Text = 0x1, Binary = 0x2, Close = 0x8, Ping = 0x9, Pong = 0xA;

    /// <summary>The close code of a close frame with one (else null).</summary>
    public int? CloseCode => Opcode == Close && Payload.Length >= 2 ? Payload[0] << 8 | Payload[1] : null;

    /// <summary>
    /// The bytes of a client frame: <paramref name="opcode"/> with FIN as given, <paramref name="rsv"/> in bits 4-6 of the
    /// first byte, masked (as a client must) unless <paramref name="masked"/> is false.
    /// </summary>
    public static byte[] Encode(int opcode, ReadOnlySpan<byte> payload, bool fin = true, bool masked = true, int rsv = 0)
    {
        var header = new List<byte> { (byte)((fin ? 0x80 : 0) | (rsv << 4) | opcode) };
        var mask = masked ? 0x80 : 0;
        if (payload.Length < 126)
        {
            header.Add((byte)(mask | payload.Length));
        }
        else if (payload.Length <= ushort.MaxValue)
        {
            header.Add((byte)(mask | 126));
            header.Add((byte)(payload.Length >> 8));
            header.Add((byte)payload.Length);
        }
        else
        {
            header.Add((byte)(mask | 127));
            for (var shift = 56; shift >= 0; shift -= 8)
            {
                header.Add((byte)((long)payload.Length >> shift));
            }
        }

        byte[] key = masked ? [0x37, 0xfa, 0x21, 0x3d] : [];
        header.AddRange(key);
        var frame = new byte[header.Count + payload.Length];
        header.CopyTo(frame);
        for (var i = 0; i < payload.Length; i++)
        {
            frame[header.Count + i] = masked ? (byte)(payload[i] ^ key[i % 4]) : payload[i];
        }

        return frame;
    }

    /// <summary>A close frame's payload: the code and the reason's UTF-8 bytes.</summary>
    public static byte[] ClosePayload(int code, string reason = "") =>
        [(byte)(code >> 8), (byte)code, .. Encoding.UTF8.GetBytes(reason)];
}

/// <summary>
/// A WebSocket client over raw TCP on 127.0.0.1 that sends whatever bytes a test gives it (malformed frames included)
/// and reads the server's frames one by one; every wait is bounded.
/// </summary>
public sealed class RawWebSocket : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start, _end;

    private RawWebSocket(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    /// <summary>Connects and completes the RFC 6455 handshake for <paramref name="uri"/>; throws unless the answer is 101.</summary>
    public static async Task<RawWebSocket> ConnectAsync(Uri uri, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync(uri.Host, uri.Port, cts.Token);
        var socket = new RawWebSocket(tcp);
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        var request = $"GET {uri.PathAndQuery} HTTP/1.1\r\nHost: {uri.Host}:{uri.Port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + $"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n";
        await socket._stream.WriteAsync(Encoding.ASCII.GetBytes(request), cts.Token);
        var head = await socket.ReadHeadAsync(cts.Token);
        if (!head.StartsWith("HTTP/1.1 101", StringComparison.Ordinal))
        {
            await socket.DisposeAsync();
            throw new InvalidOperationException($"no upgrade: {head}");
        }

        return socket;
    }

    public Task SendAsync(byte[] bytes) => _stream.WriteAsync(bytes).AsTask();

    /// <summary>
    /// The server's next frame; null when the connection ended (closed or reset) first. Throws
    /// <see cref="TimeoutException"/> after <paramref name="timeout"/>.
    /// </summary>
    public async Task<RawFrame?> ReadFrameAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            if (!await FillAsync(2, cts.Token))
            {
                return null;
            }

            var fin = (_buffer[_start] & 0x80) != 0;
            var opcode = _buffer[_start] & 0x0F;
            var length = (long)(_buffer[_start + 1] & 0x7F);
            var header = 2;
            if (length >= 126)
            {
                var extended = length == 126 ? 2 : 8;
                if (!await FillAsync(2 + extended, cts.Token))
                {
                    return null;
                }

                length = 0;
                for (var i = 0; i < extended; i++)
                {
                    length = length << 8 | _buffer[_start + 2 + i];
                }

                header += extended;
            }

            if (!await FillAsync(header + (int)length, cts.Token))
            {
                return null;
            }

            var payload = _buffer.AsSpan(_start + header, (int)length).ToArray();
            _start += header + (int)length;
            return new RawFrame(fin, opcode, payload);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"no frame and no end of the connection within {timeout}");
        }
    }

    /// <summary>
    /// Reads until the server's close frame or the end of the connection, within <paramref name="timeout"/>: the close
    /// frame (null when the connection ended without one), what came before it, and how long it took.
    /// </summary>
    public async Task<(RawFrame? Close, List<RawFrame> Before, TimeSpan Elapsed)> ReadUntilClosedAsync(TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        var before = new List<RawFrame>();
        while (true)
        {
            var left = timeout - clock.Elapsed;
            var frame = await ReadFrameAsync(left > TimeSpan.Zero ? left : TimeSpan.FromMilliseconds(1));
            if (frame is null || frame.Opcode == RawFrame.Close)
            {
                return (frame, before, clock.Elapsed);
            }

            before.Add(frame);
        }
    }

    /// <summary>True when the server ends the TCP connection within <paramref name="timeout"/> (frames before it are skipped).</summary>
    public async Task<bool> EndsWithinAsync(TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            while (clock.Elapsed < timeout)
            {
                if (await ReadFrameAsync(timeout - clock.Elapsed) is null)
                {
                    return true;
                }
            }
        }
        catch (TimeoutException)
        {
            // The answer: it did not end in time.
        }

        return false;
    }

    private async Task<string> ReadHeadAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var text = Encoding.ASCII.GetString(_buffer, _start, _end - _start);
            var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end >= 0)
            {
                _start += end + 4;
                return text[..end];
            }

            if (!await ReadMoreAsync(cancellationToken))
            {
                return text;
            }
        }
    }

    private async Task<bool> FillAsync(int count, CancellationToken cancellationToken)
    {
        while (_end - _start < count)
        {
            if (!await ReadMoreAsync(cancellationToken))
            {
                return false;
            }
        }

        return true;
    }

    private async Task<bool> ReadMoreAsync(CancellationToken cancellationToken)
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        try
        {
            var read = await _stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
            _end += read;
            return read > 0;
        }
        catch (IOException)
        {
            return false; // reset by the server: the connection ended
        }
    }

    public ValueTask DisposeAsync()
    {
        _tcp.Dispose();
        return ValueTask.CompletedTask;
    }
}
