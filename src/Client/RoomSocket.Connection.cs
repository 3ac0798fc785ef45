using System.Diagnostics;
using System.Net.WebSockets;
using RoomActors.Client.Internal;

namespace RoomActors.Client;

/// <summary>
/// The background loop: one connection after another, each in phases (open → handshake → serve → decide), with a
/// backoff between them, until the app closes the socket or the server closes it for good.
/// </summary>
public sealed partial class RoomSocket
{
    /// <summary>
    /// How a connection ended (close code and reason), what to do next, whether it had opened (welcome or resumed: the
    /// backoff starts over), and for a final ending what the senders and the reader are told.
    /// </summary>
    private sealed record Ending(CloseAction Action, int Code, string Reason, bool Opened = false, RoomClosedException? Error = null);

    /// <summary>One WebSocket and what its reader and writer share.</summary>
    private sealed class Link(ClientWebSocket socket, CancellationToken stop) : IDisposable
    {
        public ClientWebSocket Socket { get; } = socket;

        /// <summary>Cancelled when the connection ends: aborts the socket's pending operations.</summary>
        public CancellationTokenSource Abort { get; } = CancellationTokenSource.CreateLinkedTokenSource(stop);

        /// <summary>Cancelled to end the writer's wait for more messages (its current write finishes).</summary>
        public CancellationTokenSource StopWriter { get; } = new();

        public byte[] Buffer { get; set; } = new byte[16 * 1024];

        public void Dispose()
        {
            Abort.Dispose();
            StopWriter.Dispose();
            Socket.Dispose();
        }
    }

    private async Task RunAsync()
    {
        RoomClosedException? error = null;
        try
        {
            var attempt = 0;
            while (true)
            {
                var ending = await RunConnectionAsync().ConfigureAwait(false);
                if (ending.Opened)
                {
                    attempt = 0; // the first wait after a drop is the shortest again
                }
                lock (_gate)
                {
                    if (_closeRequest is not null)
                    {
                        return; // the app's own close: final, and the reader ends without an error
                    }

                    _state = _state == RoomSocketState.Connecting ? RoomSocketState.Connecting : RoomSocketState.Reconnecting;
                }

                switch (ending.Action)
                {
                    case CloseAction.Final:
                        error = ending.Error ?? new RoomClosedException(
                            $"The server closed the connection for good ({ending.Code} {ending.Reason}); create a new RoomSocket to join again.",
                            ending.Code, ending.Reason);
                        return;
                    case CloseAction.Resync:
                        Resync(ending.Code, ending.Reason);
                        break;
                    case CloseAction.Resume when ending.Opened && !HasToken():
                        Resync(1006, "the server gave no resume token");
                        break;
                }

                var delay = Backoff.Delay(attempt++, _options.MinReconnectDelay, _options.MaxReconnectDelay, Random.Shared.NextDouble());
                await Task.Delay(delay, _time, _stop.Token).ConfigureAwait(false);
            }
        }
        catch (Exception) when (_stop.IsCancellationRequested)
        {
            // Control flow: CloseAsync or DisposeAsync stopped the loop (an app close: no error).
        }
        catch (Exception e)
        {
            // A bug in this library: close for good and hand it to the senders and the reader rather than hang them.
            error = new RoomClosedException($"RoomSocket failed unexpectedly and closed: {e.Message}", inner: e);
        }
        finally
        {
            Finish(error);
        }
    }

    /// <summary>One connection: open, handshake, serve. Returns how it ended; throws only when the loop is stopped.</summary>
    private async Task<Ending> RunConnectionAsync()
    {
        (string Token, long LastSeq)? resume;
        lock (_gate)
        {
            resume = _token is { } token && _seq.LastSeq is { } lastSeq ? (token, lastSeq) : null;
        }

        // With fallback gateways, each attempt takes the next one in turn.
        var servers = _options.FallbackServers;
        var server = servers.Count == 0 ? _options.Server! : (int)(_attempts++ % (servers.Count + 1)) switch { 0 => _options.Server!, var i => servers[i - 1] };
        var (ticket, noTicket) = await TicketAsync().ConfigureAwait(false);
        if (noTicket is not null)
        {
            return noTicket;
        }

        var uri = RoomUrl.Build(_options, resume, server, ticket);
        var (link, failed) = await OpenAsync(uri).ConfigureAwait(false);
        if (link is null)
        {
            return failed!;
        }

        using (link)
        {
            lock (_gate)
            {
                _link = link;
            }

            try
            {
                return await HandshakeAsync(link, uri, resuming: resume is not null).ConfigureAwait(false)
                    ?? await ServeAsync(link).ConfigureAwait(false);
            }
            finally
            {
                lock (_gate)
                {
                    _link = null;
                    _seq.OnDisconnected();
                }
            }
        }
    }

    /// <summary>
    /// The ticket for this attempt: <see cref="RoomSocketOptions.TicketProvider"/>'s answer (within the connect timeout), or
    /// <see cref="RoomSocketOptions.Ticket"/>. A provider that fails ends the attempt like a failed connect.
    /// </summary>
    private async Task<(string? Ticket, Ending? Failed)> TicketAsync()
    {
        if (_options.TicketProvider is not { } provider)
        {
            return (_options.Ticket, null);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        timeout.CancelAfter(_options.ConnectTimeout);
        try
        {
            return (await provider(timeout.Token).AsTask().WaitAsync(timeout.Token).ConfigureAwait(false), null);
        }
        catch (Exception e) when (!_stop.IsCancellationRequested)
        {
            // Retry after the backoff: the ticket source (the app's backend) may be down for a moment; say why.
            Trace.TraceWarning($"RoomSocket: the ticket provider failed ({e.GetType().Name}: {e.Message}); trying again after the backoff.");
            return (null, new Ending(CloseAction.Resume, 1006, $"ticket provider failed: {e.Message}"));
        }
    }

    /// <summary>Opens the WebSocket with the subprotocol; a refusal that asking again will not change is final.</summary>
    private async Task<(Link? Link, Ending? Failed)> OpenAsync(Uri uri)
    {
        var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol(WireFormat.Subprotocol);
        socket.Options.CollectHttpResponseDetails = true;
        socket.Options.KeepAliveInterval = _options.KeepAliveInterval;
        if (_options.KeepAliveInterval > TimeSpan.Zero)
        {
            socket.Options.KeepAliveTimeout = _options.KeepAliveInterval;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        timeout.CancelAfter(_options.ConnectTimeout);
        try
        {
            await socket.ConnectAsync(uri, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (!_stop.IsCancellationRequested)
        {
            // Retry (server down, network away, timeout, 5xx) — unless the server refused: a 4xx stays a 4xx.
            var status = (int)socket.HttpStatusCode;
            socket.Dispose();
            return status is >= 400 and < 500 and not 408 and not 429
                ? (null, new Ending(CloseAction.Final, 0, "", Error: new RoomClosedException(
                    $"The server refused {RoomUrl.Redacted(uri)} with HTTP {status}{RefusalHint(status)}", httpStatusCode: status, inner: e)))
                : (null, new Ending(CloseAction.Resume, 1006, $"connect failed: {e.Message}"));
        }
        catch
        {
            // Stopped (CloseAsync, disposal): release the socket and let the loop end.
            socket.Dispose();
            throw;
        }

        if (socket.SubProtocol != WireFormat.Subprotocol)
        {
            socket.Abort();
            socket.Dispose();
            return (null, new Ending(CloseAction.Final, 0, "", Error: new RoomClosedException(
                $"The server at {RoomUrl.Redacted(uri)} did not accept the subprotocol {WireFormat.Subprotocol}: it is older than this "
                + "client; update the server, or use a plain ClientWebSocket.")));
        }

        return (new Link(socket, _stop.Token), null);
    }

    private static string RefusalHint(int status) => status switch
    {
        400 => ": check RoomSocketOptions.Name and Query.",
        401 => ": the ticket is missing, expired or forged; set RoomSocketOptions.Ticket to a fresh one from your backend, "
            + "or a TicketProvider that asks it for one before every connect.",
        403 => ": the ticket is for another room or user, or the origin is not allowed.",
        404 => ": no room type of that name; check RoomSocketOptions.Type (and that the server hosts it).",
        _ => ".",
    };

    /// <summary>
    /// Reads the first frame: <c>welcome</c> (a new connection: forget any old one) or <c>resumed</c> (the same one).
    /// Returns null when the connection is ready to serve, else how it ended.
    /// </summary>
    private async Task<Ending?> HandshakeAsync(Link link, Uri uri, bool resuming)
    {
        Received frame;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(link.Abort.Token))
        {
            timeout.CancelAfter(_options.ConnectTimeout);
            try
            {
                frame = await ReceiveAsync(link, timeout.Token).ConfigureAwait(false);
            }
            catch (MessageTooBigException e)
            {
                // Final, as on a served connection: asking again brings the same frame.
                return new Ending(CloseAction.Final, ClientMessageTooBig, "message too big", Error: new RoomClosedException(e.Message, ClientMessageTooBig, "message too big"));
            }
            catch (Exception e) when (!_stop.IsCancellationRequested)
            {
                // Retry: the socket dropped, or the server did not speak within ConnectTimeout.
                return new Ending(CloseAction.Resume, 1006, $"no welcome from {RoomUrl.Redacted(uri)}: {e.Message}");
            }
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

        if (parsed.Kind is not (FrameKind.Welcome or FrameKind.Resumed)
            || !WireFormat.TryParseHandshake(data[parsed.BodyStart..], out var handshake))
        {
            return await ProtocolErrorAsync(link, $"the server's first frame was not a welcome or resumed with a JSON body ({frame.Length} bytes)")
                .ConfigureAwait(false);
        }

        if (parsed.Kind == FrameKind.Resumed && !resuming)
        {
            return await ProtocolErrorAsync(link, "the server answered a new connection with resumed").ConfigureAwait(false);
        }

        if (parsed.Kind == FrameKind.Welcome && resuming)
        {
            Resync(ClosePolicy.Resync, "resync: the server answered the resume with a new connection (welcome)");
        }

        lock (_gate)
        {
            _connectionId = handshake!.ConnectionId;
            if (parsed.Kind == FrameKind.Welcome)
            {
                _token = handshake.Token;
                _seq.OnWelcome(parsed.Seq);
            }
            else
            {
                _seq.OnResumed(parsed.Seq, handshake.Replayed);
            }
        }

        RaiseOpened(resumed: parsed.Kind == FrameKind.Resumed);
        return null;
    }

    /// <summary>
    /// The connection is ready: the writer re-sends the unacknowledged messages and then writes new ones, while the
    /// reader delivers messages and acks until the socket ends. Then the close handshake is completed.
    /// </summary>
    private async Task<Ending> ServeAsync(Link link)
    {
        var writer = Task.Run(() => WriteAsync(link), CancellationToken.None);
        lock (_gate)
        {
            _state = RoomSocketState.Open;
        }

        _firstOpen.TrySetResult();
        Ending ending;
        try
        {
            ending = await ReadAsync(link).ConfigureAwait(false);
        }
        finally
        {
            await link.StopWriter.CancelAsync().ConfigureAwait(false);
            if (await Task.WhenAny(writer, Task.Delay(_options.CloseTimeout, _time, _stop.Token)).ConfigureAwait(false) != writer)
            {
                await link.Abort.CancelAsync().ConfigureAwait(false); // a write stuck for CloseTimeout: abort it
            }

            await writer.ConfigureAwait(false); // never throws
        }

        await AnswerCloseAsync(link, ending).ConfigureAwait(false);
        return ending with { Opened = true };
    }

    private bool HasToken()
    {
        lock (_gate)
        {
            return _token is not null;
        }
    }

    /// <summary>The connection cannot be resumed: forget it, fail the sends whose fate is unknown, tell the app.</summary>
    private void Resync(int code, string reason)
    {
        lock (_gate)
        {
            _token = null;
            _connectionId = null;
            _outbox.FailUnacked(message => new RoomResyncException(message.Id, code, reason));
        }

        RaiseResynced(code, reason);
    }

    /// <summary>The end: closed for good; held sends fail; the reader ends (with <paramref name="error"/> if not the app's close).</summary>
    private void Finish(RoomClosedException? error)
    {
        RoomClosedException failure;
        lock (_gate)
        {
            _state = RoomSocketState.Closed;
            failure = error ?? new RoomClosedException(
                $"The socket was closed by the app ({_closeRequest?.Code ?? 1000}) before the room acknowledged this message.",
                _closeRequest?.Code ?? 1000, _closeRequest?.Reason ?? "");
            _outbox.FailAll(failure);
        }

        _messages.Writer.TryComplete(error);
        if (_firstOpen.TrySetException(failure))
        {
            _ = _firstOpen.Task.Exception; // observed here: nobody may be waiting in ConnectAsync
        }
    }
}
