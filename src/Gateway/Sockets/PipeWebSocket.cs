using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.AspNetCore.Connections.Features;

namespace RoomActors.Gateway.Sockets;

/// <summary>
/// A server WebSocket (RFC 6455) straight on a connection's pipes, for a socket handed over from its HTTP request
/// (<see cref="SocketHandover"/>): client frames are parsed in the transport's buffers and copied once, into the
/// reader's buffer; server frames are written into the transport's output. No stream, no timer and no buffer of its
/// own: the connection's heartbeat (once a second) sends the keep-alive pings, aborts a peer that does not answer them,
/// and fails a frame left unfinished past the frame timeout. What .NET's server socket and the gateway's
/// <see cref="CoalescingStream"/> do together, in one object.
/// </summary>
/// <remarks>
/// One reader and one writer at a time, as for any WebSocket; pongs and pings share the output with the writer through
/// a gate. A protocol error in the client's frames (unmasked, reserved bits or opcodes, a bad control frame, a message
/// over the limit, text that is not UTF-8, a bad close code) is told to the <see cref="Connection"/>, answered with a
/// close frame (1002, 1007 or 1009), and fails the read; the connection then ends without waiting for the client.
/// </remarks>
internal sealed class PipeWebSocket : WebSocket, IFrameLayer
{
    private const int MaxControlPayload = 125;
    private const int MaxClientHeader = 14; // 2, 8 for a 64-bit length, 4 for the mask
    private const int InvalidPayloadData = (int)WebSocketCloseStatus.InvalidPayloadData; // 1007

    private readonly PipeReader _input;
    private readonly PipeWriter _output;
    private readonly int _maxMessageBytes;
    private readonly int _frameTimeoutMs;  // 0: frames have no deadline
    private readonly int _pingIntervalMs;  // 0: no pings
    private readonly int _pongTimeoutMs;   // 0: pings without a deadline
    private readonly SemaphoreSlim _sendGate = new(1, 1);
    private readonly string? _subProtocol;

    private int _state = (int)WebSocketState.Open;
    private WebSocketCloseStatus? _closeStatus;
    private string? _closeDescription;
    private bool _closeSent;    // guarded by the send gate
    private bool _batching;     // the writer's, between its own writes
    private bool _sendContinues; // the last data frame sent was not final

    // The frame being read: the one reader's.
    private bool _inPayload;    // a data frame's header is read; its payload (possibly empty) is being handed on
    private bool _frameFinal;
    private long _payloadLeft;
    private uint _mask;
    private int _maskOffset;
    private bool _inMessage;    // a fragmented message is under way
    private WebSocketMessageType _messageType;
    private long _messageBytes;
    private Utf8Validation _utf8;
    private byte[]? _pongToSend;
    private (int Code, string Reason)? _failure;
    private bool _waiting;      // the reader awaits the transport itself (WaitAsync)
    private bool _interrupted;  // a read was cancelled (aborted, a stalled frame): every later read fails

    // Shared with the heartbeat.
    private long _frameStartedAt;      // Environment.TickCount64 when a read first waited inside the frame under way; 0 between frames
    private long _lastPingAt;
    private long _pingUnansweredSince; // 0: no ping awaits its pong
    private volatile bool _frameStalled;

    /// <param name="transport">The connection's pipes, after the 101.</param>
    /// <param name="options">The message limit, the frame timeout and the keep-alive.</param>
    /// <param name="subProtocol">The subprotocol the handshake answered with, or null.</param>
    /// <param name="heartbeat">The connection's heartbeat (Kestrel's, once a second): the socket's only clock.</param>
    public PipeWebSocket(IDuplexPipe transport, GatewayOptions options, string? subProtocol, IConnectionHeartbeatFeature heartbeat)
    {
        _input = transport.Input;
        _output = transport.Output;
        _subProtocol = subProtocol;
        _maxMessageBytes = options.MaxMessageBytes;
        _frameTimeoutMs = Milliseconds(options.FrameTimeout);
        _pingIntervalMs = Milliseconds(options.KeepAliveInterval);
        _pongTimeoutMs = _pingIntervalMs > 0 ? Milliseconds(options.KeepAliveTimeout) : 0;
        _lastPingAt = Environment.TickCount64;
        heartbeat.OnHeartbeat(static socket => ((PipeWebSocket)socket).Tick(Environment.TickCount64), this);
    }

    private static int Milliseconds(TimeSpan span) => span <= TimeSpan.Zero ? 0 : (int)Math.Min(int.MaxValue, span.TotalMilliseconds);

    /// <inheritdoc cref="IFrameLayer.Connection"/>
    public ClientConnection? Connection { private get; set; }

    public override WebSocketCloseStatus? CloseStatus => _closeStatus;

    public override string? CloseStatusDescription => _closeDescription;

    public override WebSocketState State => (WebSocketState)Volatile.Read(ref _state);

    public override string? SubProtocol => _subProtocol;

    public bool FrameStalled => _frameStalled;

    public TimeSpan? FrameTimeout => _frameTimeoutMs > 0 ? TimeSpan.FromMilliseconds(_frameTimeoutMs) : null;

    // ---- Reading ----

    private enum Step
    {
        Result,  // a piece of a message, or the client's close
        More,    // the transport must bring more bytes
        Ping,    // answer with a pong, then read on
        Failed,  // a protocol error: close with it
        Ended,   // the connection ended inside a frame or between frames, without a close
    }

    /// <summary>
    /// The reader's idle wait on the transport itself: completes once the client has sent something (or the socket was
    /// aborted); give the result to <see cref="Waited"/>, then <see cref="ReceiveAsync(Memory{byte}, CancellationToken)"/>
    /// takes what came. An idle socket's reader then holds no state machine of this socket's.
    /// </summary>
    public ValueTask<ReadResult> WaitAsync()
    {
        if (_pongToSend is not null || _failure is not null || _interrupted || State is not (WebSocketState.Open or WebSocketState.CloseSent))
        {
            return default; // the receive deals with it
        }

        if (_inPayload)
        {
            FrameUnderWay(); // it waits inside a frame: the frame's deadline runs
        }

        _waiting = true;
        return _input.ReadAsync();
    }

    /// <summary>
    /// Ends a <see cref="WaitAsync"/>. Pongs are taken here (the answers to the keep-alive, every interval on an idle
    /// socket) and a frame begun waits on; anything else stays for the receive. False: wait again.
    /// </summary>
    public bool Waited(in ReadResult read)
    {
        if (!_waiting)
        {
            return true;
        }

        _waiting = false;
        var data = read.Buffer;
        if (read.IsCanceled)
        {
            _interrupted = true;
            _input.AdvanceTo(data.Start);
            return true;
        }

        const int PongHeader = 6; // FIN and pong, a mask, a payload of at most 125 bytes
        while (true)
        {
            if (read.IsCompleted || (_inPayload ? !data.IsEmpty : data.Length >= 2 && !IsPong(data, out _)))
            {
                _input.AdvanceTo(data.Start); // a frame for the receive (or the end)
                return true;
            }

            if (_inPayload || data.Length < 2 || !IsPong(data, out var length) || data.Length < PongHeader + length)
            {
                // Nothing yet, or a frame (a pong) begun: wait for the rest.
                if (!data.IsEmpty || _inPayload)
                {
                    FrameUnderWay();
                }

                _input.AdvanceTo(data.Start, data.End);
                return false;
            }

            Volatile.Write(ref _pingUnansweredSince, 0);
            Volatile.Write(ref _frameStartedAt, 0); // a pong begun in an earlier wait is complete
            data = data.Slice(PongHeader + length);
        }

        // A whole-frame pong (FIN, no reserved bits, masked, at most 125 bytes); anything else is the receive's to judge.
        static bool IsPong(ReadOnlySequence<byte> data, out int length)
        {
            Span<byte> head = stackalloc byte[2];
            data.Slice(0, 2).CopyTo(head);
            length = head[1] & 0x7F;
            return head[0] == (0x80 | FrameCodec.Pong) && (head[1] & 0x80) != 0 && length <= MaxControlPayload;
        }
    }

    public override ValueTask<ValueWebSocketReceiveResult> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (_interrupted)
        {
            return ValueTask.FromException<ValueWebSocketReceiveResult>(Interrupted());
        }

        // What already arrived is taken without a state machine; only a wait, a pong or a failure is asynchronous.
        if (_pongToSend is null && _failure is null && State is WebSocketState.Open or WebSocketState.CloseSent && _input.TryRead(out var read))
        {
            if (read.IsCanceled)
            {
                _input.AdvanceTo(read.Buffer.Start);
                return ValueTask.FromException<ValueWebSocketReceiveResult>(Interrupted());
            }

            switch (Parse(read, buffer.Span, out var result))
            {
                case Step.Result:
                    return new(result);
                case Step.Ended:
                    return ValueTask.FromException<ValueWebSocketReceiveResult>(EndedWithoutClose());
            }
        }

        return ReceiveSlowAsync(buffer, cancellationToken);
    }

    // Pooled: an idle socket's reader waits here, and a busy one suspends in it once per batch of frames.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ValueWebSocketReceiveResult> ReceiveSlowAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_pongToSend is { } pong)
            {
                _pongToSend = null;
                await SendControlAsync(FrameCodec.Pong, pong);
            }

            if (_failure is { } failure)
            {
                await FailAsync(failure.Code, failure.Reason);
            }

            if (State is not (WebSocketState.Open or WebSocketState.CloseSent))
            {
                throw new WebSocketException(WebSocketError.InvalidState, $"The socket is {State}: nothing more to receive.");
            }

            if (_inPayload)
            {
                FrameUnderWay(); // the read waits inside a frame: its deadline runs
            }

            var read = await _input.ReadAsync(cancellationToken);
            if (read.IsCanceled)
            {
                _input.AdvanceTo(read.Buffer.Start);
                throw Interrupted();
            }

            switch (Parse(read, buffer.Span, out var result))
            {
                case Step.Result:
                    return result;
                case Step.Ended:
                    throw EndedWithoutClose();
            }
        }
    }

    private Exception Interrupted() => _frameStalled
        ? new IOException($"A client frame did not complete within {_frameTimeoutMs / 1000.0:0.###} s of its first byte (RoomActors:Gateway:FrameTimeout).")
        : new WebSocketException(WebSocketError.InvalidState, "The socket was aborted.");

    private static WebSocketException EndedWithoutClose() =>
        new(WebSocketError.ConnectionClosedPrematurely, "The client ended the connection without a close frame.");

    /// <summary>
    /// Takes what <paramref name="read"/> holds as far as the next result (a piece of a data frame's payload, copied into
    /// <paramref name="destination"/> and unmasked, or the client's close), handling pongs on the way. Always advances
    /// the reader, exactly once.
    /// </summary>
    private Step Parse(in ReadResult read, Span<byte> destination, out ValueWebSocketReceiveResult result)
    {
        result = default;
        var data = read.Buffer;
        Span<byte> header = stackalloc byte[MaxClientHeader];
        while (true)
        {
            if (_inPayload)
            {
                if (_payloadLeft == 0)
                {
                    // An empty frame, or the end of one whose last byte was taken: it completes with no bytes.
                    _input.AdvanceTo(data.Start);
                    return Deliver(0, out result);
                }

                if (data.IsEmpty)
                {
                    return Wait(data, read.IsCompleted);
                }

                if (destination.IsEmpty)
                {
                    // A zero-byte read: a frame's bytes are here; the caller reads them with a buffer.
                    _input.AdvanceTo(data.Start);
                    result = new ValueWebSocketReceiveResult(0, _messageType, false);
                    return Step.Result;
                }

                var count = (int)Math.Min(Math.Min(_payloadLeft, data.Length), destination.Length);
                var piece = destination[..count];
                data.Slice(0, count).CopyTo(piece);
                _maskOffset = FrameCodec.ApplyMask(piece, _mask, _maskOffset);
                _payloadLeft -= count;
                if (_messageType == WebSocketMessageType.Text && !_utf8.Append(piece, final: _payloadLeft == 0 && _frameFinal))
                {
                    _input.AdvanceTo(data.Start);
                    return Fail(InvalidPayloadData, "text message is not valid UTF-8");
                }

                _input.AdvanceTo(data.GetPosition(count));
                return Deliver(count, out result);
            }

            // A frame header: up to 14 bytes.
            var have = (int)Math.Min(MaxClientHeader, data.Length);
            data.Slice(0, have).CopyTo(header);
            if (have < 2)
            {
                return Wait(data, read.IsCompleted);
            }

            int first = header[0], second = header[1];
            var final = (first & 0x80) != 0;
            var opcode = first & 0x0F;
            var length7 = second & 0x7F;
            if ((second & 0x80) == 0)
            {
                return FailAt(data, CloseCodes.ProtocolError, "client frames must be masked");
            }

            if ((first & 0x70) != 0)
            {
                return FailAt(data, CloseCodes.ProtocolError, "reserved bits set without an extension");
            }

            if (opcode is > FrameCodec.Binary and < FrameCodec.Close or > FrameCodec.Pong)
            {
                return FailAt(data, CloseCodes.ProtocolError, $"reserved opcode {opcode}");
            }

            var control = opcode >= FrameCodec.Close;
            if (control && (!final || length7 > MaxControlPayload))
            {
                return FailAt(data, CloseCodes.ProtocolError, "control frames are single frames of at most 125 bytes");
            }

            var extended = length7 switch { 126 => 2, 127 => 8, _ => 0 };
            var headerLength = 2 + extended + 4;
            if (have < headerLength)
            {
                return Wait(data, read.IsCompleted);
            }

            var length = extended switch
            {
                0 => length7,
                2 => BinaryPrimitives.ReadUInt16BigEndian(header[2..]),
                _ => (long)BinaryPrimitives.ReadUInt64BigEndian(header[2..]),
            };
            if (length < 0)
            {
                return FailAt(data, CloseCodes.ProtocolError, "a frame length has its most significant bit set");
            }

            var mask = BinaryPrimitives.ReadUInt32LittleEndian(header[(2 + extended)..]);
            if (control)
            {
                if (data.Length < headerLength + length)
                {
                    return Wait(data, read.IsCompleted);
                }

                var payload = new byte[length];
                data.Slice(headerLength, length).CopyTo(payload);
                FrameCodec.ApplyMask(payload, mask, 0);
                data = data.Slice(headerLength + length);
                Volatile.Write(ref _frameStartedAt, 0);
                switch (opcode)
                {
                    case FrameCodec.Pong:
                        Volatile.Write(ref _pingUnansweredSince, 0); // any pong answers (an unsolicited one is a heartbeat)
                        continue;
                    case FrameCodec.Ping:
                        _pongToSend = payload;
                        _input.AdvanceTo(data.Start);
                        return Step.Ping;
                    default:
                        return ReceiveClose(payload, data, out result);
                }
            }

            if (opcode == FrameCodec.Continuation ? !_inMessage : _inMessage)
            {
                return FailAt(data, CloseCodes.ProtocolError, _inMessage
                    ? "a new message began inside a fragmented one"
                    : "a continuation frame without a message to continue");
            }

            var messageBytes = opcode == FrameCodec.Continuation ? _messageBytes : 0;
            if (length > _maxMessageBytes - messageBytes)
            {
                return FailAt(data, CloseCodes.MessageTooBig, $"message exceeds the limit of {_maxMessageBytes} bytes");
            }

            if (opcode != FrameCodec.Continuation)
            {
                _messageType = opcode == FrameCodec.Text ? WebSocketMessageType.Text : WebSocketMessageType.Binary;
                _inMessage = true;
                _utf8 = default;
            }

            _messageBytes = messageBytes + length;
            _inPayload = true;
            _frameFinal = final;
            _payloadLeft = length;
            _mask = mask;
            _maskOffset = 0;
            data = data.Slice(headerLength);
        }
    }

    /// <summary>A piece of the frame under way was taken: the result, and the frame's or message's end.</summary>
    private Step Deliver(int count, out ValueWebSocketReceiveResult result)
    {
        result = default;
        var endOfMessage = false;
        if (_payloadLeft == 0)
        {
            _inPayload = false;
            Volatile.Write(ref _frameStartedAt, 0);
            if (_frameFinal)
            {
                endOfMessage = true;
                _inMessage = false;
                _messageBytes = 0;
                if (count == 0 && _messageType == WebSocketMessageType.Text && !_utf8.Append([], final: true))
                {
                    return Fail(InvalidPayloadData, "text message is not valid UTF-8"); // ended inside a character
                }
            }
        }

        result = new ValueWebSocketReceiveResult(count, _messageType, endOfMessage);
        return Step.Result;
    }

    /// <summary>Nothing to hand on yet: wait for more bytes (a frame begun gets its deadline), or the connection ended.</summary>
    private Step Wait(ReadOnlySequence<byte> data, bool completed)
    {
        if (_inPayload || !data.IsEmpty)
        {
            FrameUnderWay();
        }

        _input.AdvanceTo(data.Start, data.End);
        return completed ? Step.Ended : Step.More;
    }

    private void FrameUnderWay()
    {
        if (Volatile.Read(ref _frameStartedAt) == 0)
        {
            Volatile.Write(ref _frameStartedAt, Math.Max(1, Environment.TickCount64));
        }
    }

    private Step FailAt(ReadOnlySequence<byte> data, int code, string reason)
    {
        _input.AdvanceTo(data.Start);
        return Fail(code, reason);
    }

    private Step Fail(int code, string reason)
    {
        _failure = (code, reason);
        return Step.Failed;
    }

    private Step ReceiveClose(byte[] payload, ReadOnlySequence<byte> rest, out ValueWebSocketReceiveResult result)
    {
        result = default;
        _input.AdvanceTo(rest.Start);
        if (payload.Length == 1)
        {
            return Fail(CloseCodes.ProtocolError, "a close frame's payload starts with a 2-byte code");
        }

        var code = payload.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(payload) : CloseCodes.Normal; // no code: a normal close
        if (payload.Length >= 2 && !FrameCodec.IsValidCloseCode(code))
        {
            return Fail(CloseCodes.ProtocolError, $"close code {code} may not be sent");
        }

        if (payload.Length > 2 && !System.Text.Unicode.Utf8.IsValid(payload.AsSpan(2)))
        {
            return Fail(CloseCodes.ProtocolError, "close reason is not UTF-8");
        }

        _closeStatus = (WebSocketCloseStatus)code;
        _closeDescription = payload.Length > 2 ? Encoding.UTF8.GetString(payload, 2, payload.Length - 2) : "";
        Transition(WebSocketState.Open, WebSocketState.CloseReceived, WebSocketState.CloseSent, WebSocketState.Closed);
        result = new ValueWebSocketReceiveResult(0, WebSocketMessageType.Close, true);
        return Step.Result;
    }

    /// <summary>A protocol error: the connection hears it first (so the room gets the same code), the client gets the close frame, the read fails.</summary>
    private async ValueTask FailAsync(int code, string reason)
    {
        Connection?.OnProtocolError(code, reason);
        try
        {
            await SendCloseAsync(code, reason, CancellationToken.None);
        }
        finally
        {
            Transition(WebSocketState.Open, WebSocketState.Closed, WebSocketState.CloseSent, WebSocketState.Closed, WebSocketState.CloseReceived, WebSocketState.Closed);
        }

        throw new WebSocketException(WebSocketError.Faulted, $"The client broke the protocol ({code}: {reason}).");
    }

    // ---- Writing ----

    public void BeginBatch() => _batching = true;

    public async ValueTask EndBatchAsync(CancellationToken cancellationToken)
    {
        _batching = false;
        await _sendGate.WaitAsync(cancellationToken);
        try
        {
            await FlushAsync(cancellationToken);
        }
        finally
        {
            _sendGate.Release();
        }
    }

    /// <inheritdoc cref="IFrameLayer.WriteAsync"/>
    public ValueTask WriteAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken) =>
        WriteFrameAsync(frame, opcode: -1, cancellationToken);

    public override ValueTask SendAsync(ReadOnlyMemory<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken)
    {
        if (messageType is not (WebSocketMessageType.Text or WebSocketMessageType.Binary))
        {
            throw new ArgumentException("Send text or binary messages; close with CloseOutputAsync.", nameof(messageType));
        }

        var opcode = _sendContinues ? FrameCodec.Continuation : messageType == WebSocketMessageType.Text ? FrameCodec.Text : FrameCodec.Binary;
        _sendContinues = !endOfMessage;
        return WriteFrameAsync(buffer, opcode | (endOfMessage ? 0x80 : 0), cancellationToken);
    }

    public override Task SendAsync(ArraySegment<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken) =>
        SendAsync(buffer.AsMemory(), messageType, endOfMessage, cancellationToken).AsTask();

    /// <summary>Writes a data frame (<paramref name="opcode"/> with the FIN bit as 0x80, or -1 for a finished frame) and flushes unless batching.</summary>
    private async ValueTask WriteFrameAsync(ReadOnlyMemory<byte> payload, int opcode, CancellationToken cancellationToken)
    {
        await _sendGate.WaitAsync(cancellationToken);
        try
        {
            if (_closeSent || State is WebSocketState.Aborted or WebSocketState.Closed or WebSocketState.CloseSent)
            {
                throw new WebSocketException(WebSocketError.InvalidState, $"The socket is {State}: no more messages can be sent.");
            }

            if (opcode >= 0)
            {
                WriteHeader(opcode & 0x0F, (opcode & 0x80) != 0, payload.Length);
            }

            _output.Write(payload.Span);
            if (!_batching)
            {
                await FlushAsync(cancellationToken);
            }
        }
        finally
        {
            _sendGate.Release();
        }
    }

    private void WriteHeader(int opcode, bool final, int length)
    {
        var span = _output.GetSpan(FrameCodec.MaxServerHeader);
        _output.Advance(FrameCodec.WriteHeader(span, opcode, final, length));
    }

    /// <summary>A pong or a ping; skipped once the socket closed or was aborted.</summary>
    private async ValueTask SendControlAsync(int opcode, byte[] payload)
    {
        await _sendGate.WaitAsync();
        try
        {
            if (_closeSent || State is WebSocketState.Aborted or WebSocketState.Closed)
            {
                return;
            }

            WriteHeader(opcode, final: true, payload.Length);
            _output.Write(payload);
            if (!_batching)
            {
                await FlushAsync(CancellationToken.None);
            }
        }
        finally
        {
            _sendGate.Release();
        }
    }

    private async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        var flushed = await _output.FlushAsync(cancellationToken);
        if (flushed.IsCanceled)
        {
            throw new WebSocketException(WebSocketError.InvalidState, "The socket was aborted.");
        }

        if (flushed.IsCompleted)
        {
            throw new IOException("The connection ended.");
        }
    }

    /// <summary>Writes the close frame, once (whoever comes first: the connection's writer or a protocol error); false when one was sent already.</summary>
    private async ValueTask<bool> SendCloseAsync(int code, string? reason, CancellationToken cancellationToken)
    {
        await _sendGate.WaitAsync(cancellationToken);
        try
        {
            if (_closeSent || State is WebSocketState.Aborted)
            {
                return false;
            }

            _closeSent = true;
            var payload = FrameCodec.ClosePayload(code, reason);
            WriteHeader(FrameCodec.Close, final: true, payload.Length);
            _output.Write(payload);
            _batching = false; // nothing follows a close
            await FlushAsync(cancellationToken);
            return true;
        }
        finally
        {
            _sendGate.Release();
        }
    }

    public override async Task CloseOutputAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken)
    {
        if (State is not (WebSocketState.Open or WebSocketState.CloseReceived))
        {
            throw new WebSocketException(WebSocketError.InvalidState, $"The socket is {State}: its close frame was sent already, or it was aborted.");
        }

        if (await SendCloseAsync((int)closeStatus, statusDescription, cancellationToken))
        {
            Transition(WebSocketState.Open, WebSocketState.CloseSent, WebSocketState.CloseReceived, WebSocketState.Closed);
        }
    }

    public override async Task CloseAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken)
    {
        if (State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            await CloseOutputAsync(closeStatus, statusDescription, cancellationToken);
        }

        // Then the client's close: what comes before it is dropped.
        var buffer = new byte[1024];
        while (State == WebSocketState.CloseSent)
        {
            await ReceiveAsync(buffer.AsMemory(), cancellationToken);
        }
    }

    public override async Task<WebSocketReceiveResult> ReceiveAsync(ArraySegment<byte> buffer, CancellationToken cancellationToken)
    {
        var result = await ReceiveAsync(buffer.AsMemory(), cancellationToken);
        return result.MessageType == WebSocketMessageType.Close
            ? new WebSocketReceiveResult(0, WebSocketMessageType.Close, true, _closeStatus, _closeDescription)
            : new WebSocketReceiveResult(result.Count, result.MessageType, result.EndOfMessage);
    }

    // ---- Ending ----

    /// <summary>Ends a pending read and a flush stuck on back-pressure; the transport itself belongs to the connection.</summary>
    public override void Abort() => End(WebSocketState.Aborted);

    /// <summary>As <see cref="Abort"/>, leaving the socket closed (or aborted, if it was).</summary>
    public override void Dispose() => End(WebSocketState.Closed);

    private void End(WebSocketState final)
    {
        while (true)
        {
            var state = Volatile.Read(ref _state);
            if (state is (int)WebSocketState.Closed or (int)WebSocketState.Aborted
                || Interlocked.CompareExchange(ref _state, (int)final, state) == state)
            {
                break;
            }
        }

        _input.CancelPendingRead();
        _output.CancelPendingFlush();
    }

    /// <summary>Moves the state along the pairs (from, to) given; any other state stays.</summary>
    private void Transition(params ReadOnlySpan<WebSocketState> fromTo)
    {
        while (true)
        {
            var state = Volatile.Read(ref _state);
            var next = state;
            for (var i = 0; i < fromTo.Length; i += 2)
            {
                if ((int)fromTo[i] == state)
                {
                    next = (int)fromTo[i + 1];
                    break;
                }
            }

            if (next == state || Interlocked.CompareExchange(ref _state, next, state) == state)
            {
                return;
            }
        }
    }

    // ---- The clock ----

    /// <summary>
    /// The heartbeat: fails a frame under way past the frame timeout (the read ends with <see cref="FrameStalled"/>),
    /// aborts a peer whose pong is overdue, and sends a ping every interval.
    /// </summary>
    internal void Tick(long now)
    {
        var state = State;
        if (state is not (WebSocketState.Open or WebSocketState.CloseSent or WebSocketState.CloseReceived))
        {
            return;
        }

        var started = Volatile.Read(ref _frameStartedAt);
        if (_frameTimeoutMs > 0 && started != 0 && now - started > _frameTimeoutMs && !_frameStalled)
        {
            _frameStalled = true;
            _input.CancelPendingRead();
            return;
        }

        var unanswered = Volatile.Read(ref _pingUnansweredSince);
        if (_pongTimeoutMs > 0 && unanswered != 0 && now - unanswered > _pongTimeoutMs)
        {
            Abort(); // the room hears 1006
            return;
        }

        if (_pingIntervalMs > 0 && state == WebSocketState.Open && now - _lastPingAt >= _pingIntervalMs)
        {
            _lastPingAt = now;
            if (_pongTimeoutMs > 0 && unanswered == 0)
            {
                Volatile.Write(ref _pingUnansweredSince, now);
            }

            _ = PingAsync();
        }
    }

    private async Task PingAsync()
    {
        try
        {
            await SendControlAsync(FrameCodec.Ping, []);
        }
        catch (Exception)
        {
            // Nothing to do: a ping that cannot be written means the connection is going; the reader sees its end.
        }
    }
}
