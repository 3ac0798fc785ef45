using System.Buffers;
using System.IO.Pipelines;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Connections.Features;
using RoomActors.Gateway;
using RoomActors.Gateway.Sockets;
using RoomActors.Tests.Infrastructure;

namespace RoomActors.Tests.Gateway;

/// <summary>
/// The gateway's own server socket on a connection's pipes (a handed-over socket): frames in pieces, control frames,
/// batching, the heartbeat's pings, pong deadline and frame deadline, and protocol errors. The pipes are real
/// (in memory); the heartbeat is the test's clock.
/// </summary>
public sealed class PipeWebSocketTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    /// <summary>A socket on two in-memory pipes: the test writes the client's bytes and reads the server's.</summary>
    private sealed class Harness : IConnectionHeartbeatFeature
    {
        private readonly Pipe _toServer = new(new PipeOptions(pauseWriterThreshold: 0));
        private readonly Pipe _toClient = new(new PipeOptions(pauseWriterThreshold: 0));

        public Harness(GatewayOptions? options = null)
        {
            Socket = new PipeWebSocket(new Duplex(_toServer.Reader, _toClient.Writer), options ?? new GatewayOptions { KeepAliveInterval = TimeSpan.Zero }, null, this);
        }

        public PipeWebSocket Socket { get; }

        public int Beats { get; private set; }

        public void OnHeartbeat(Action<object> action, object state) => Beats++;

        public async Task SendAsync(byte[] bytes)
        {
            await _toServer.Writer.WriteAsync(bytes);
        }

        /// <summary>The server's next frame (FIN, opcode, payload), or null when none comes within 2 s.</summary>
        public async Task<RawFrame?> ReadFrameAsync()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try
            {
                while (true)
                {
                    var read = await _toClient.Reader.ReadAsync(timeout.Token);
                    if (TryTakeFrame(read.Buffer, out var frame, out var end))
                    {
                        _toClient.Reader.AdvanceTo(end);
                        return frame;
                    }

                    _toClient.Reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
                }
            }
            catch (OperationCanceledException)
            {
                return null;
            }
        }

        /// <summary>True when the server has written bytes the test has not read (flushed).</summary>
        public bool HasOutput => _toClient.Reader.TryRead(out var read) && Peek(read);

        private bool Peek(ReadResult read)
        {
            _toClient.Reader.AdvanceTo(read.Buffer.Start);
            return !read.Buffer.IsEmpty;
        }

        private static bool TryTakeFrame(ReadOnlySequence<byte> data, out RawFrame? frame, out SequencePosition end)
        {
            frame = null;
            end = data.Start;
            var bytes = data.ToArray();
            if (bytes.Length < 2)
            {
                return false;
            }

            var length = (long)(bytes[1] & 0x7F);
            var offset = 2;
            if (length == 126)
            {
                if (bytes.Length < 4)
                {
                    return false;
                }

                length = bytes[2] << 8 | bytes[3];
                offset = 4;
            }
            else if (length == 127)
            {
                if (bytes.Length < 10)
                {
                    return false;
                }

                length = (long)System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes.AsSpan(2));
                offset = 10;
            }

            if (bytes.Length < offset + length)
            {
                return false;
            }

            frame = new RawFrame((bytes[0] & 0x80) != 0, bytes[0] & 0x0F, bytes[offset..(int)(offset + length)]);
            end = data.GetPosition(offset + length);
            return true;
        }

        private sealed class Duplex(PipeReader input, PipeWriter output) : IDuplexPipe
        {
            public PipeReader Input { get; } = input;

            public PipeWriter Output { get; } = output;
        }
    }

    /// <summary>The next complete message, read as the gateway's reader reads: a zero-byte wait, then small buffers.</summary>
    private static async Task<(WebSocketMessageType Type, byte[] Data)> ReceiveMessageAsync(WebSocket socket, int bufferBytes = 7)
    {
        var message = new MemoryStream();
        var buffer = new byte[bufferBytes];
        while (true)
        {
            var wait = await socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None).AsTask().WaitAsync(Wait);
            if (wait.MessageType == WebSocketMessageType.Close)
            {
                return (WebSocketMessageType.Close, []);
            }

            if (wait.EndOfMessage)
            {
                return (wait.MessageType, message.ToArray());
            }

            var result = await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None).AsTask().WaitAsync(Wait);
            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                return (result.MessageType, message.ToArray());
            }
        }
    }

    [Theory]
    [InlineData(5, 1)]          // byte by byte
    [InlineData(5, 3)]
    [InlineData(300, 64)]       // a 16-bit length
    [InlineData(70_000, 4096)]  // a 64-bit length, vector unmasking
    public async Task A_message_that_arrives_in_pieces_is_read_whole_and_unmasked(int length, int piece)
    {
        var h = new Harness();
        var payload = Enumerable.Range(0, length).Select(i => (byte)(i * 7)).ToArray();
        var frame = RawFrame.Encode(RawFrame.Binary, payload);
        var reading = ReceiveMessageAsync(h.Socket, bufferBytes: 1000);
        for (var i = 0; i < frame.Length; i += piece)
        {
            await h.SendAsync(frame[i..Math.Min(frame.Length, i + piece)]);
        }

        var (type, data) = await reading;
        Assert.Equal(WebSocketMessageType.Binary, type);
        Assert.Equal(Convert.ToHexString(payload), Convert.ToHexString(data));
    }

    [Fact]
    public async Task The_gateway_s_reader_waits_on_the_transport_takes_messages_in_pieces_and_ends_with_the_close()
    {
        var h = new Harness();
        var recorder = new SocketReaderTests.Recorder();
        var reading = SocketReader.RunAsync(h.Socket, 1024, recorder);
        foreach (var b in RawFrame.Encode(RawFrame.Text, "hello"u8))
        {
            await h.SendAsync([b]);
            await Task.Delay(5); // each byte finds the reader waiting
        }

        await h.SendAsync([.. RawFrame.Encode(RawFrame.Text, "again"u8), .. RawFrame.Encode(RawFrame.Close, RawFrame.ClosePayload(1000))]);
        Assert.Equal((1, "client close"), await reading.WaitAsync(Wait));
        Assert.Equal(["hello", "again"], recorder.Texts());
    }

    [Fact]
    public async Task The_gateway_s_reader_takes_pongs_in_its_wait_also_in_pieces_and_they_answer_the_ping()
    {
        var h = new Harness(new GatewayOptions { KeepAliveInterval = TimeSpan.FromSeconds(10), KeepAliveTimeout = TimeSpan.FromSeconds(5), FrameTimeout = TimeSpan.FromSeconds(2) });
        var recorder = new SocketReaderTests.Recorder();
        var reading = SocketReader.RunAsync(h.Socket, 1024, recorder);
        var now = Environment.TickCount64;
        h.Socket.Tick(now + 10_000);
        Assert.Equal(RawFrame.Ping, (await h.ReadFrameAsync())!.Opcode);

        var pong = RawFrame.Encode(RawFrame.Pong, "p"u8);
        await h.SendAsync(pong[..3]); // a pong begun: the frame's deadline runs
        await Task.Delay(50);
        await h.SendAsync(pong[3..]);
        await Task.Delay(50);
        h.Socket.Tick(now + 15_001); // past the pong timeout and the frame timeout: neither fires
        Assert.Equal(WebSocketState.Open, h.Socket.State);
        Assert.False(h.Socket.FrameStalled);

        await h.SendAsync([.. RawFrame.Encode(RawFrame.Pong, []), .. RawFrame.Encode(RawFrame.Text, "hi"u8), .. RawFrame.Encode(RawFrame.Close, [])]);
        Assert.Equal((1, "client close"), await reading.WaitAsync(Wait));
        Assert.Equal(["hi"], recorder.Texts());
    }

    [Fact]
    public async Task An_idle_reader_ends_when_the_heartbeat_aborts_a_silent_peer()
    {
        var h = new Harness(new GatewayOptions { KeepAliveInterval = TimeSpan.FromSeconds(10), KeepAliveTimeout = TimeSpan.FromSeconds(5) });
        var recorder = new SocketReaderTests.Recorder();
        var reading = SocketReader.RunAsync(h.Socket, 1024, recorder);
        var now = Environment.TickCount64;
        await Task.Delay(50);
        h.Socket.Tick(now + 10_000); // the ping
        h.Socket.Tick(now + 15_001); // no pong: aborted
        Assert.Equal((3, "lost"), await reading.WaitAsync(Wait));
        Assert.Empty(recorder.Messages);
    }

    [Fact]
    public async Task The_gateway_s_reader_waiting_inside_a_frame_ends_once_the_frame_timeout_passed()
    {
        var h = new Harness(new GatewayOptions { KeepAliveInterval = TimeSpan.Zero, FrameTimeout = TimeSpan.FromSeconds(2) });
        var recorder = new SocketReaderTests.Recorder();
        var reading = SocketReader.RunAsync(h.Socket, 1024, recorder);
        await h.SendAsync(RawFrame.Encode(RawFrame.Text, "hello"u8)[..7]); // the header and 1 of 5 payload bytes
        await Task.Delay(100); // the reader takes the byte and waits for the rest
        h.Socket.Tick(Environment.TickCount64 + 2_500);
        Assert.Equal((3, "lost"), await reading.WaitAsync(Wait));
        Assert.True(h.Socket.FrameStalled);
    }

    [Fact]
    public async Task Fragments_with_a_ping_between_them_are_one_message_and_the_ping_is_answered()
    {
        var h = new Harness();
        var euro = "€"u8.ToArray(); // split across the two fragments
        await h.SendAsync([.. RawFrame.Encode(RawFrame.Text, [(byte)'a', euro[0]], fin: false), .. RawFrame.Encode(RawFrame.Ping, "hi"u8),
            .. RawFrame.Encode(RawFrame.Continuation, euro[1..])]);

        var (type, data) = await ReceiveMessageAsync(h.Socket);
        Assert.Equal((WebSocketMessageType.Text, "a€"), (type, Encoding.UTF8.GetString(data)));
        var pong = await h.ReadFrameAsync();
        Assert.Equal((RawFrame.Pong, "hi"), (pong!.Opcode, Encoding.UTF8.GetString(pong.Payload)));
    }

    [Fact]
    public async Task A_batch_leaves_in_one_flush_at_its_end()
    {
        var h = new Harness();
        h.Socket.BeginBatch();
        await h.Socket.WriteAsync(new OutboundFrame(new Payload(true, "one"u8.ToArray())).Encoded, CancellationToken.None);
        await h.Socket.WriteAsync(new OutboundFrame(new Payload(false, [1, 2])).Encoded, CancellationToken.None);
        Assert.False(h.HasOutput);

        await h.Socket.EndBatchAsync(CancellationToken.None);
        var first = await h.ReadFrameAsync();
        Assert.Equal((RawFrame.Text, "one"), (first!.Opcode, Encoding.UTF8.GetString(first.Payload)));
        Assert.Equal(RawFrame.Binary, (await h.ReadFrameAsync())!.Opcode);
    }

    [Fact]
    public async Task The_close_handshake_echoes_the_client_s_code()
    {
        var h = new Harness();
        await h.SendAsync(RawFrame.Encode(RawFrame.Close, RawFrame.ClosePayload(4005, "bye")));
        var result = await h.Socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None);
        Assert.Equal(WebSocketMessageType.Close, result.MessageType);
        Assert.Equal(((WebSocketCloseStatus)4005, "bye", WebSocketState.CloseReceived), (h.Socket.CloseStatus, h.Socket.CloseStatusDescription, h.Socket.State));

        await h.Socket.CloseOutputAsync(h.Socket.CloseStatus!.Value, h.Socket.CloseStatusDescription, CancellationToken.None);
        Assert.Equal(WebSocketState.Closed, h.Socket.State);
        Assert.Equal(4005, (await h.ReadFrameAsync())!.CloseCode);
        await Assert.ThrowsAsync<WebSocketException>(() => h.Socket.SendAsync(new ReadOnlyMemory<byte>("late"u8.ToArray()), WebSocketMessageType.Text, true, CancellationToken.None).AsTask());
    }

    [Theory]
    [InlineData("unmasked", 1002)]
    [InlineData("reserved bit", 1002)]
    [InlineData("over the limit", 1009)]
    [InlineData("bad UTF-8", 1007)]
    public async Task A_protocol_error_is_answered_with_its_close_code_and_fails_the_read(string what, int code)
    {
        var h = new Harness(new GatewayOptions { KeepAliveInterval = TimeSpan.Zero, MaxMessageBytes = 10 });
        var reading = h.Socket.ReceiveAsync(new byte[64].AsMemory(), CancellationToken.None).AsTask();
        await h.SendAsync(what switch
        {
            "unmasked" => RawFrame.Encode(RawFrame.Text, "x"u8, masked: false),
            "reserved bit" => RawFrame.Encode(RawFrame.Text, "x"u8, rsv: 4),
            "over the limit" => RawFrame.Encode(RawFrame.Binary, new byte[11])[..6], // the header alone says it
            _ => RawFrame.Encode(RawFrame.Text, [0xC3, 0x28]),
        });

        await Assert.ThrowsAsync<WebSocketException>(() => reading.WaitAsync(Wait));
        Assert.Equal(code, (await h.ReadFrameAsync())!.CloseCode);
        Assert.Equal(WebSocketState.Closed, h.Socket.State);
    }

    [Fact]
    public async Task The_heartbeat_pings_every_interval_and_aborts_a_peer_whose_pong_is_overdue()
    {
        var h = new Harness(new GatewayOptions { KeepAliveInterval = TimeSpan.FromSeconds(10), KeepAliveTimeout = TimeSpan.FromSeconds(5) });
        Assert.Equal(1, h.Beats); // registered once, on the connection's heartbeat
        var now = Environment.TickCount64;
        var reading = h.Socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None).AsTask();

        h.Socket.Tick(now + 5_000);
        Assert.False(h.HasOutput); // not yet due
        h.Socket.Tick(now + 10_000);
        Assert.Equal(RawFrame.Ping, (await h.ReadFrameAsync())!.Opcode);

        // Answered: the next interval pings again, and nothing is aborted.
        await h.SendAsync(RawFrame.Encode(RawFrame.Pong, []));
        await Task.Delay(100); // the pending read takes the pong
        h.Socket.Tick(now + 16_000);
        Assert.Equal(WebSocketState.Open, h.Socket.State);
        h.Socket.Tick(now + 20_000);
        Assert.Equal(RawFrame.Ping, (await h.ReadFrameAsync())!.Opcode);

        // Not answered: aborted once the timeout has passed.
        h.Socket.Tick(now + 25_000);
        Assert.Equal(WebSocketState.Open, h.Socket.State);
        h.Socket.Tick(now + 25_001);
        Assert.Equal(WebSocketState.Aborted, h.Socket.State);
        await Assert.ThrowsAsync<WebSocketException>(() => reading.WaitAsync(Wait));
    }

    [Fact]
    public async Task A_frame_left_unfinished_fails_the_read_once_the_frame_timeout_passed_but_not_the_pause_between_frames()
    {
        var h = new Harness(new GatewayOptions { KeepAliveInterval = TimeSpan.Zero, FrameTimeout = TimeSpan.FromSeconds(2) });
        var frame = RawFrame.Encode(RawFrame.Text, "hello"u8);

        // Between frames nothing runs out.
        var first = ReceiveMessageAsync(h.Socket);
        h.Socket.Tick(Environment.TickCount64 + 60_000);
        await h.SendAsync(frame);
        Assert.Equal("hello", Encoding.UTF8.GetString((await first).Data));

        // Inside one, the read fails after the timeout.
        var second = ReceiveMessageAsync(h.Socket);
        await h.SendAsync(frame[..4]);
        await Task.Delay(100);
        var now = Environment.TickCount64;
        h.Socket.Tick(now + 1_000);
        Assert.False(second.IsCompleted);
        h.Socket.Tick(now + 2_500);
        await Assert.ThrowsAsync<IOException>(() => second.WaitAsync(Wait));
        Assert.True(h.Socket.FrameStalled);
    }
}

/// <summary>The byte-level pieces: the mask at every offset and length, and UTF-8 checked in pieces split anywhere.</summary>
public sealed class FrameCodecTests
{
    [Fact]
    public void The_mask_matches_the_byte_by_byte_definition_at_every_offset_and_length()
    {
        byte[] key = [0x37, 0xfa, 0x21, 0x3d];
        var mask = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(key);
        var random = new Random(7);
        foreach (var length in new[] { 0, 1, 3, 7, 8, 9, 31, 32, 33, 64, 100, 1000 })
        {
            for (var offset = 0; offset < 4; offset++)
            {
                var data = new byte[length];
                random.NextBytes(data);
                var expected = data.Select((b, i) => (byte)(b ^ key[(offset + i) % 4])).ToArray();
                var next = FrameCodec.ApplyMask(data, mask, offset);
                Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(data));
                Assert.Equal((offset + length) % 4, next);
            }
        }
    }

    [Theory]
    [InlineData("68656c6c6f", true)]                 // hello
    [InlineData("e282ac", true)]                     // €
    [InlineData("f09f9880e282ac61", true)]           // 😀€a
    [InlineData("c328", false)]                      // invalid continuation
    [InlineData("c0af", false)]                      // overlong
    [InlineData("eda080", false)]                    // a UTF-16 surrogate
    [InlineData("61e282", false)]                    // ends inside a character
    [InlineData("f8888080", false)]                  // no such lead byte
    public void Utf8_is_checked_the_same_whichever_way_the_text_is_split(string hex, bool valid)
    {
        var bytes = Convert.FromHexString(hex);
        for (var first = 0; first <= bytes.Length; first++)
        {
            for (var second = first; second <= bytes.Length; second++)
            {
                var check = new Utf8Validation();
                var ok = check.Append(bytes.AsSpan(0, first), final: false)
                    && check.Append(bytes.AsSpan(first, second - first), final: false)
                    && check.Append(bytes.AsSpan(second), final: true);
                Assert.True(ok == valid, $"{hex} split at {first} and {second}: {(ok ? "valid" : "invalid")}");
            }
        }
    }

    [Theory]
    [InlineData(1000, true)]
    [InlineData(1003, true)]
    [InlineData(1004, false)]
    [InlineData(1005, false)]
    [InlineData(1006, false)]
    [InlineData(1012, true)]
    [InlineData(1015, false)]
    [InlineData(2999, false)]
    [InlineData(3000, true)]
    [InlineData(4999, true)]
    [InlineData(5000, false)]
    public void Close_codes_a_peer_may_send(int code, bool valid) => Assert.Equal(valid, FrameCodec.IsValidCloseCode(code));
}

/// <summary>On a real gateway: a handed-over socket's protocol error reaches the room with the code the client was told.</summary>
public sealed class ProtocolErrorTests
{
    [Theory]
    [InlineData("reserved bit", 1002, "reserved bits set without an extension")]
    [InlineData("bad UTF-8", 1007, "text message is not valid UTF-8")]
    [InlineData("continuation without a message", 1002, "a continuation frame without a message to continue")]
    public async Task The_room_hears_the_close_code_the_client_got(string what, int code, string reason)
    {
        await using var server = await Infrastructure.AllInOneServer.StartAsync();
        var room = "protocol-" + Guid.NewGuid().ToString("N")[..8];
        await using var client = await RawWebSocket.ConnectAsync(server.Room("it-relay", room));
        Assert.Equal(RawFrame.Text, (await client.ReadFrameAsync(TimeSpan.FromSeconds(10)))!.Opcode); // the welcome

        await client.SendAsync(what switch
        {
            "reserved bit" => RawFrame.Encode(RawFrame.Text, "x"u8, rsv: 2),
            "bad UTF-8" => RawFrame.Encode(RawFrame.Text, [0xC3, 0x28]),
            _ => RawFrame.Encode(RawFrame.Continuation, "x"u8),
        });
        var (close, _, _) = await client.ReadUntilClosedAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(code, close!.CloseCode);

        for (var i = 0; i < 100 && Integration.RecordingRelayRoom.ClosesOf(room) is []; i++)
        {
            await Task.Delay(100);
        }

        var heard = Assert.Single(Integration.RecordingRelayRoom.ClosesOf(room));
        Assert.Equal((code, reason), (heard.Code, heard.Reason));
    }
}
