using System.Net.WebSockets;
using RoomActors.Client.Internal;

namespace RoomActors.Client;

/// <summary>
/// The frames of one connection: the reader (messages to the app, acks to the senders), the writer (re-sends, new
/// messages, the app's close) and the close handshake.
/// </summary>
public sealed partial class RoomSocket
{
    /// <summary>Receives until the socket ends; hands messages to the reader and acks to the senders.</summary>
    private async Task<Ending> ReadAsync(Link link)
    {
        while (true)
        {
            Received frame;
            try
            {
                frame = await ReceiveAsync(link, link.Abort.Token).ConfigureAwait(false);
            }
            catch (MessageTooBigException e)
            {
                // Final: a resume would replay the same message.
                return new Ending(CloseAction.Final, ClientMessageTooBig, "message too big", Error: new RoomClosedException(e.Message, ClientMessageTooBig, "message too big"));
            }
            catch (Exception e) when (!_stop.IsCancellationRequested)
            {
                // Resume: the network dropped (or the writer aborted a failed socket); the server keeps the connection.
                return new Ending(CloseAction.Resume, 1006, e.Message);
            }

            if (frame.Type == WebSocketMessageType.Close)
            {
                return ServerClosed(link);
            }

            var data = link.Buffer.AsSpan(0, frame.Length);
            if (!WireFormat.TryParse(data, out var parsed, out var error))
            {
                return await ProtocolErrorAsync(link, error!).ConfigureAwait(false);
            }

            switch (parsed.Kind)
            {
                case FrameKind.Message:
                    lock (_gate)
                    {
                        _seq.OnMessage(parsed.Seq);
                    }

                    _messages.Writer.TryWrite(new RoomMessage(parsed.Seq, frame.Type == WebSocketMessageType.Text, data[parsed.BodyStart..].ToArray()));
                    break;
                case FrameKind.Ack:
                    lock (_gate)
                    {
                        _seq.OnAck(parsed.Seq);
                        _outbox.Ack(parsed.Id, parsed.Seq);
                    }

                    AfterAckForTest?.Invoke(parsed.Id);
                    break;
                case FrameKind.Welcome or FrameKind.Resumed:
                    return await ProtocolErrorAsync(link, "the server sent a second welcome or resumed on one socket").ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Writes until stopped: first the unacknowledged messages (original ids, in order), then whatever waits, each
    /// message getting the next id as it is taken; on the app's close, the close frame. Never throws.
    /// </summary>
    private async Task WriteAsync(Link link)
    {
        try
        {
            OutgoingMessage[] resend;
            lock (_gate)
            {
                resend = [.. _outbox.Unacked];
            }

            foreach (var message in resend)
            {
                await WriteFrameAsync(link, message).ConfigureAwait(false);
            }

            while (true)
            {
                (int Code, string Reason)? close;
                List<OutgoingMessage> batch;
                lock (_gate)
                {
                    close = _closeRequest;
                    batch = close is null ? _outbox.TakeWaiting() : [];
                }

                if (close is var (code, reason))
                {
                    await link.Socket.CloseOutputAsync((WebSocketCloseStatus)code, reason, link.Abort.Token).ConfigureAwait(false);
                    return;
                }

                foreach (var message in batch)
                {
                    await WriteFrameAsync(link, message).ConfigureAwait(false);
                }

                if (batch.Count == 0)
                {
                    await _wakeWriter.Reader.ReadAsync(link.StopWriter.Token).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (link.StopWriter.IsCancellationRequested || link.Abort.IsCancellationRequested)
        {
            // Control flow: the connection ended.
        }
        catch (Exception)
        {
            // The socket failed (WebSocketException, IOException, or it was disposed): abort it so that the reader ends
            // too and the loop resumes; messages taken stay unacknowledged and are re-sent after the resume.
            link.Socket.Abort();
        }
    }

    private static ValueTask WriteFrameAsync(Link link, OutgoingMessage message) =>
        link.Socket.SendAsync(message.Frame.AsMemory(), message.IsText ? WebSocketMessageType.Text : WebSocketMessageType.Binary,
            endOfMessage: true, link.Abort.Token);

    /// <summary>One whole frame into <see cref="Link.Buffer"/> (grown up to MaxMessageBytes), or a close.</summary>
    private async Task<Received> ReceiveAsync(Link link, CancellationToken cancellationToken)
    {
        var count = 0;
        while (true)
        {
            if (count == link.Buffer.Length)
            {
                if (count >= _options.MaxMessageBytes)
                {
                    throw new MessageTooBigException(
                        $"The server sent a message larger than RoomSocketOptions.MaxMessageBytes ({_options.MaxMessageBytes} bytes); raise it.");
                }

                var larger = new byte[(int)Math.Min(_options.MaxMessageBytes, 2L * count)];
                link.Buffer.AsSpan(0, count).CopyTo(larger);
                link.Buffer = larger;
            }

            var result = await link.Socket.ReceiveAsync(link.Buffer.AsMemory(count), cancellationToken).ConfigureAwait(false);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return new Received(WebSocketMessageType.Close, 0);
            }

            count += result.Count;
            if (result.EndOfMessage)
            {
                return new Received(result.MessageType, count);
            }
        }
    }

    private static Ending ServerClosed(Link link)
    {
        var code = (int?)link.Socket.CloseStatus;
        var reason = link.Socket.CloseStatusDescription ?? "";
        return new Ending(ClosePolicy.Of(code is 1005 ? null : code), code ?? 1005, reason);
    }

    /// <summary>The server broke the grammar: leave for good (an application code, so it forgets the connection) and say why.</summary>
    private static Task<Ending> ProtocolErrorAsync(Link link, string error) =>
        Task.FromResult(new Ending(CloseAction.Final, ClosePolicy.ClientProtocolError, "protocol error",
            Error: new RoomClosedException($"Protocol error: {error}. This is a server bug (or a proxy changing frames); the socket closed.",
                ClosePolicy.ClientProtocolError, "protocol error")));

    /// <summary>
    /// Completes the close handshake: echoes the server's close, or sends this client's own for a final ending it
    /// decided (protocol error, message too big). Bounded by CloseTimeout; best effort.
    /// </summary>
    private async Task AnswerCloseAsync(Link link, Ending ending)
    {
        var state = link.Socket.State;
        if (state is not (WebSocketState.Open or WebSocketState.CloseReceived))
        {
            return;
        }

        var (code, reason) = state == WebSocketState.CloseReceived
            ? (link.Socket.CloseStatus ?? WebSocketCloseStatus.Empty, link.Socket.CloseStatusDescription)
            : ((WebSocketCloseStatus)ending.Code, ending.Reason);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(link.Abort.Token);
        timeout.CancelAfter(_options.CloseTimeout);
        try
        {
            await link.Socket.CloseOutputAsync(code, reason, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Best effort: the connection is over either way; the server notices the socket's end.
        }
    }

    /// <summary>This client's close code for a server message above MaxMessageBytes: an application code, so the server forgets the connection at once.</summary>
    private const int ClientMessageTooBig = 4009;

    private readonly record struct Received(WebSocketMessageType Type, int Length);

    private sealed class MessageTooBigException(string message) : Exception(message);
}
