using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using RoomActors.Diagnostics;
using RoomActors.Gateway.Auth;
using RoomActors.Gateway.Diagnostics;
using RoomActors.Gateway.Limits;

namespace RoomActors.Gateway.Sockets;

/// <summary>
/// Serves <c>/rooms/{type}/{name}</c>: validate → upgrade → connect → run → cleanup, one method per phase.
/// </summary>
internal sealed partial class RoomSocketHandler(GatewayService gateway, RoomTypeCatalog catalog, TicketCheck tickets, ConnectionLimits limits, ILogger<RoomSocketHandler> logger)
{
    public async Task HandleAsync(HttpContext http, string type, string name)
    {
        if ((Validate(type, name) ?? ValidateUpgrade(http, type, name)) is { } rejection)
        {
            await rejection.ExecuteAsync(http);
            return;
        }

        var (caller, denied) = await tickets.CheckAsync(http, type, name);
        if ((denied ?? OverRoomBudget(http, type, name)) is { } refusal)
        {
            await refusal.ExecuteAsync(http);
            return;
        }

        if (!http.WebSockets.IsWebSocketRequest)
        {
            await ForwardHttpAsync(http, type, name, "", caller!);
            return;
        }

        // One permit per WebSocket, held until it closes: over the cap, 503 with Retry-After before the upgrade.
        var permit = limits.TryAcquireWebSocket();
        if (permit is null)
        {
            await ConnectionLimits.Refusal(http, limits.Budget.WebSockets).ExecuteAsync(http);
            return;
        }

        // From here the socket's run owns the permit, the address lease and the span (it may run after the request).
        System.Threading.RateLimiting.RateLimitLease? addressLease = null;
        Activity? span = null;
        var handedOver = false;
        try
        {
            // Per client address: one more socket than the limit is refused before the upgrade.
            addressLease = gateway.ConnectionsPerAddress?.AttemptAcquire(http.Connection.RemoteIpAddress ?? System.Net.IPAddress.None);
            if (addressLease is { IsAcquired: false })
            {
                GatewayMetrics.LimitRefused(LimitRefusal.ConnectionsPerAddress);
                Log.PerAddressRefused(logger, AddressOf(http), gateway.Options.MaxConnectionsPerAddress);
                http.Response.Headers.RetryAfter = "10";
                await Results.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many connections",
                    detail: $"This address has {gateway.Options.MaxConnectionsPerAddress} open connections to this gateway "
                    + "(RoomActors:Gateway:MaxConnectionsPerAddress); close one or try again later.").ExecuteAsync(http);
                return;
            }

            // roomactors.v1: envelopes, a welcome with a resume token, acks; with ?resume= it continues a connection.
            var v1 = http.WebSockets.WebSocketRequestedProtocols.Contains(WireV1.Subprotocol);
            var resume = v1 ? WireV1.ReadResume(http.Request.Query) : null;
            var request = ConnectRequestFor(http, caller!, "", 0);
            if (resume is null && catalog.ChecksBeforeConnect(type) && await AdmitAsync(type, name, request) is { } refused)
            {
                await refused.ExecuteAsync(http);
                return;
            }

            // The connect span: from the upgrade to the room's answer (null unless a tracing listener samples it).
            span = GatewayTracing.Start(RoomActorsNames.ConnectSpan, type, name);
            var start = new SocketStart(type, name, v1, resume, caller!, request, span, permit, addressLease, AddressOf(http));
            var subprotocol = v1 ? WireV1.Subprotocol : null;
            if (gateway.Options.HandOverSockets && SocketHandover.For(http) is { } handover)
            {
                // HTTP/1.1: the 101 leaves with this request, which then ends; the socket runs on the bare connection.
                // The run captures the bare connection only: the stand-in and the HTTP layer's objects are garbage then.
                await ServerWebSockets.UpgradeAsync(http, subprotocol);
                var (transport, heartbeat, abort) = (handover.BareTransport, handover.BareHeartbeat, handover.AbortConnection);
                handover.Hand(() => RunSocketAsync(start, ServerWebSockets.Open(transport, heartbeat, gateway.Options, subprotocol), abort));
                handedOver = true;
                return;
            }

            var accepted = await ServerWebSockets.AcceptAsync(http, gateway.Options, subprotocol);
            handedOver = true; // to the run below, which disposes them
            await RunSocketAsync(start, accepted, http.Abort);
        }
        finally
        {
            if (!handedOver)
            {
                span?.Dispose();
                addressLease?.Dispose();
                permit.Dispose();
            }
        }
    }

    /// <summary>What a socket's run takes over from its request: the room, the caller, and what it holds until it closes.</summary>
    private sealed record SocketStart(string Type, string Name, bool V1, ResumeTicket? Resume, Caller Caller, ConnectRequest Request,
        Activity? Span, IDisposable Permit, IDisposable? AddressLease, string Address);

    /// <summary>Connect → run → cleanup for an accepted socket; disposes what <paramref name="start"/> holds.</summary>
    private async Task RunSocketAsync(SocketStart start, (System.Net.WebSockets.WebSocket Socket, IFrameLayer? Frames) accepted, Action abortTransport)
    {
        var (v1, resume, caller, span) = (start.V1, start.Resume, start.Caller, start.Span);
        var (type, name, address, request) = (start.Type, start.Name, start.Address, start.Request);
        using var permit = start.Permit;
        using var addressLease = start.AddressLease;
        start = null!; // an open socket keeps only what it uses (the request goes once the room has it)
        using var _ = accepted.Socket;
        var secret = v1 && resume is null ? WireV1.NewSecret() : null;
        using var connection = new ClientConnection(resume is { Error: null } ? resume.ConnectionId : NewConnectionId(), accepted.Socket, gateway.Options, accepted.Frames, abortTransport)
        {
            Enveloped = v1,
            Attachment = v1 ? WireV1.NewAttachment() : 0,
            ResumeSecret = secret,
            MessageRate = gateway.MessageRate,
        };
        var room = gateway.Acquire(RoomGrainIds.Of(type, name));
        gateway.Track(connection);
        GatewayMetrics.Connected(v1);
        try
        {
            room.AddPending(connection);
            span?.SetTag(RoomActorsNames.ProtocolTag, v1 ? "v1" : "raw");
            span?.SetTag(RoomActorsNames.ConnectionIdTag, connection.Id);
            var joined = await JoinRoomAsync(room, connection, request, resume, secret, caller);
            EndConnectSpan(span, joined, connection);
            span = null;
            if (joined)
            {
                request = null!; // the room has it: an open connection keeps no copy
                using var expiry = TicketExpiry(connection, caller, room.RoomId);
                var (code, reason) = await connection.RunReaderAsync(room, _autoResponse);
                if (connection.RateExceeded)
                {
                    GatewayMetrics.RateClosed();
                    Log.RateClosed(logger, connection.Id, room.RoomId, address, gateway.Options.MessageRatePerSecond, gateway.Options.MessageRateBurst);
                }

                // Exactly once, after the connection's last frame: the room's close hook runs for it (or, for a client
                // that may resume, the room waits for it).
                room.Remove(connection);
                if (!connection.ClosedByRoom)
                {
                    var mayResume = connection.Enveloped && WireV1.MayResume(code, closedByServer: connection.ServerClose is not null);
                    await room.SendToRoomAsync(InboundEvent.Closed(connection.Id, code, reason, mayResume, connection.Attachment));
                }
            }

            await connection.WriterFinished;
        }
        finally
        {
            span?.Dispose(); // the join threw
            room.Remove(connection);
            gateway.Release(room);
            gateway.Untrack(connection);
            GatewayMetrics.Disconnected(v1);
        }
    }

    /// <summary>Ends the connect span with the room's answer; the socket's life goes on outside it.</summary>
    private static void EndConnectSpan(Activity? span, bool joined, ClientConnection connection)
    {
        if (span is null)
        {
            return;
        }

        if (!joined && connection.ServerClose is { } refused)
        {
            span.SetTag(RoomActorsNames.CloseCodeTag, refused.Code);
            span.SetStatus(ActivityStatusCode.Error, refused.Reason);
        }

        span.Dispose();
    }

    /// <summary>Serves <c>/rooms/{type}/{name}/{**path}</c>: HTTP only, to rooms that answer HTTP.</summary>
    public async Task HandleHttpAsync(HttpContext http, string type, string name, string path)
    {
        if (Validate(type, name) is { } rejection)
        {
            await rejection.ExecuteAsync(http);
            return;
        }

        if (!catalog.HandlesHttp(type))
        {
            await Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "No HTTP handler",
                detail: $"Room type '{type}' does not answer HTTP requests (it has no request hook).").ExecuteAsync(http);
            return;
        }

        var (caller, denied) = await tickets.CheckAsync(http, type, name);
        if ((denied ?? OverRoomBudget(http, type, name)) is { } refusal)
        {
            await refusal.ExecuteAsync(http);
            return;
        }

        await ForwardHttpAsync(http, type, name, path, caller!);
    }

    private IResult? Validate(string type, string name)
    {
        if (!catalog.Contains(type))
        {
            return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown room type",
                detail: $"There is no room type '{type}'. Known types: {string.Join(", ", catalog.Types.Keys)}.");
        }

        if (!RoomRoute.IsValidName(name))
        {
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid room name",
                detail: $"A room name is 1-{RoomRoute.MaxNameLength} characters of A-Z a-z 0-9 . _ ~ -.");
        }

        return null;
    }

    /// <summary>
    /// The room-name flood guard: a request to a room with no socket on this gateway may bring a room into memory, and
    /// each client address may ask for <c>RoomActors:Gateway:NewRoomsPerMinute</c> distinct such rooms a minute; then 429.
    /// </summary>
    private IResult? OverRoomBudget(HttpContext http, string type, string name)
    {
        if (gateway.NewRooms is not { } budget || gateway.CurrentLink(RoomGrainIds.Of(type, name)) is not null)
        {
            return null;
        }

        if (budget.TryAdmit(http.Connection.RemoteIpAddress ?? System.Net.IPAddress.None, type, name) is not { } retry)
        {
            return null;
        }

        GatewayMetrics.LimitRefused(LimitRefusal.NewRooms);
        Log.NewRoomsRefused(logger, AddressOf(http), type, name, gateway.Options.NewRoomsPerMinute);
        http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retry.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Results.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many new rooms",
            detail: $"This address asked for {gateway.Options.NewRoomsPerMinute} distinct rooms without a connection here in the last minute "
            + "(RoomActors:Gateway:NewRoomsPerMinute); try again later, or reuse rooms.");
    }

    private IResult? ValidateUpgrade(HttpContext http, string type, string name)
    {
        if (!http.WebSockets.IsWebSocketRequest)
        {
            if (catalog.HandlesHttp(type))
            {
                return null; // the room's request hook answers
            }

            http.Response.Headers.Upgrade = "websocket";
            return Results.Problem(statusCode: StatusCodes.Status426UpgradeRequired, title: "WebSocket upgrade required",
                detail: $"Connect to /rooms/{type}/{name} with a WebSocket client (Upgrade: websocket).");
        }

        if (gateway.IsStopping)
        {
            return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Shutting down",
                detail: "This gateway is shutting down; connect again to another one.");
        }

        return null;
    }

    private ConnectRequest ConnectRequestFor(HttpContext http, Caller caller, string connectionId, long session)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var header in gateway.Options.ForwardedHeaders)
        {
            if (http.Request.Headers.TryGetValue(header, out var value))
            {
                headers[header.ToLowerInvariant()] = value.ToString();
            }
        }

        return new ConnectRequest
        {
            ConnectionId = connectionId,
            Gateway = gateway.Reference,
            Session = session,
            QueryString = tickets.RoomQueryString(http.Request),
            Headers = headers,
            UserId = caller.UserId,
            Claims = caller.Claims,
        };
    }

    /// <summary>The room's before-connect hook: a refusal is an HTTP status, before any socket opens.</summary>
    private async Task<IResult?> AdmitAsync(string type, string name, ConnectRequest request)
    {
        var room = RoomGrainIds.Of(type, name);
        Admission admission;
        try
        {
            admission = await gateway.Calls.CallAsync(room, "before-connect check", () => gateway.Room(room).Admit(request));
        }
        catch (RoomUnavailableException ex)
        {
            // Refuse and report: without the room's answer the client cannot be let in.
            Log.ConnectFailed(logger, ex, room);
            return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Room unavailable", detail: "The room could not be asked; try again.");
        }

        return admission.Allowed
            ? null
            : Results.Problem(statusCode: admission.Status, title: "Refused by the room", detail: admission.Reason);
    }

    /// <summary>Connects or resumes: true when the room took the connection; otherwise the socket is closing.</summary>
    /// <summary>
    /// Connects or resumes <paramref name="connection"/> in its room. Its own call: what the calls capture is garbage once
    /// the socket has joined, not kept for the socket's life.
    /// </summary>
    private Task<bool> JoinRoomAsync(RoomLink room, ClientConnection connection, ConnectRequest request, ResumeTicket? resume, string? secret, Caller caller) =>
        resume switch
        {
            null => JoinAsync(room, connection, "connect", () => room.Grain.Connect(request with
            {
                ConnectionId = connection.Id,
                Gateway = gateway.Reference,
                Session = room.Session,
                ResumeSecret = secret,
                Attachment = connection.Attachment,
            })),
            { Error: { } error } => Task.FromResult(Refuse(connection, CloseCodes.ResumeRefused, error)),
            _ => JoinAsync(room, connection, "resume", () => room.Grain.Resume(new ResumeRequest
            {
                ConnectionId = connection.Id,
                Secret = resume.Secret,
                LastSeq = resume.Seq,
                Gateway = gateway.Reference,
                Session = room.Session,
                Attachment = connection.Attachment,
                UserId = caller.UserId,
            })),
        };

    private async Task<bool> JoinAsync(RoomLink room, ClientConnection connection, string what, Func<Task<ConnectResult>> call)
    {
        ConnectResult result;
        try
        {
            // Asked again on failure: a connect is idempotent per connection id, a resume per socket (see RoomCalls).
            result = await gateway.Calls.CallAsync(room.RoomId, what, call);
        }
        catch (RoomUnavailableException ex)
        {
            // Close and report: the room could not be reached.
            Log.ConnectFailed(logger, ex, room.RoomId);
            connection.RequestClose(CloseCodes.InternalError, "room unavailable");
            return false;
        }

        return result.Accepted || Refuse(connection, result.CloseCode, result.Reason ?? "");
    }

    /// <summary>
    /// A socket does not outlive its ticket: when the ticket stops being accepted (<c>exp</c> + clock skew) the gateway
    /// closes it with 4401; the client gets a new ticket and resumes.
    /// </summary>
    private Timer? TicketExpiry(ClientConnection connection, Caller caller, GrainId room)
    {
        if (caller.EndsAt is not { } endsAt)
        {
            return null;
        }

        var due = endsAt - DateTimeOffset.UtcNow;
        var longest = TimeSpan.FromMilliseconds(uint.MaxValue - 1); // the longest a Timer waits (49 days)
        return new Timer(_ =>
            {
                GatewayMetrics.TicketExpiryClosed();
                Log.TicketExpired(logger, connection.Id, room, caller.UserId);
                connection.RequestClose(CloseCodes.TicketExpired, "ticket expired; reconnect with a new ticket");
            },
            null, due < TimeSpan.Zero ? TimeSpan.Zero : due > longest ? longest : due, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Closes a socket the room did not take (refused by the room or, for a malformed resume, by the gateway).</summary>
    private static bool Refuse(ClientConnection connection, int code, string reason)
    {
        connection.RequestClose(code, reason, byRoom: true);
        return false;
    }

    private async Task ForwardHttpAsync(HttpContext http, string type, string name, string path, Caller caller)
    {
        var limit = gateway.Options.MaxMessageBytes;
        if (http.Request.ContentLength > limit)
        {
            await TooLarge().ExecuteAsync(http);
            return;
        }

        var body = new MemoryStream();
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await http.Request.Body.ReadAsync(buffer, http.RequestAborted)) > 0)
        {
            if (body.Length + read > limit)
            {
                await TooLarge().ExecuteAsync(http);
                return;
            }

            body.Write(buffer, 0, read);
        }

        // Credentials (Authorization, Cookie) reach the room only when listed in ForwardedHeaders.
        var headers = http.Request.Headers
            .Where(h => !IsCredential(h.Key) || gateway.Options.ForwardedHeaders.Contains(h.Key, StringComparer.OrdinalIgnoreCase))
            .ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString());
        var room = RoomGrainIds.Of(type, name);
        var request = new RoomHttpRequest
        {
            Method = http.Request.Method,
            Path = path,
            QueryString = tickets.RoomQueryString(http.Request),
            Headers = headers,
            Body = body.ToArray(),
            UserId = caller.UserId,
            Claims = caller.Claims,
        };
        RoomHttpResponse response;
        using var span = GatewayTracing.Start(RoomActorsNames.HttpSpan, type, name);
        try
        {
            // Only requests that read are sent again; any other may have run (see RoomCalls).
            var repeatable = HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method);
            response = await gateway.Calls.CallAsync(room, "HTTP request", () => gateway.Room(room).Request(request), repeatable);
            span?.SetTag("http.response.status_code", response.Status);
        }
        catch (RoomUnavailableException ex)
        {
            // Answer 503 (504 when it timed out) and report: the room could not answer; the client may retry.
            span?.SetStatus(ActivityStatusCode.Error, "room unavailable");
            Log.RequestFailed(logger, ex, type, name);
            await Results.Problem(statusCode: ex.TimedOut ? StatusCodes.Status504GatewayTimeout : StatusCodes.Status503ServiceUnavailable,
                title: "Room unavailable", detail: "The room could not answer; try again.").ExecuteAsync(http);
            return;
        }

        http.Response.StatusCode = response.Status;
        foreach (var (key, value) in response.Headers)
        {
            if (key.Equals("content-type", StringComparison.OrdinalIgnoreCase))
            {
                http.Response.ContentType = value;
            }
            else
            {
                http.Response.Headers[key] = value;
            }
        }

        await http.Response.Body.WriteAsync(response.Body, http.RequestAborted);

        IResult TooLarge() => Results.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Body too large",
            detail: $"Request bodies are limited to {limit} bytes (RoomActors:Gateway:MaxMessageBytes).");
    }

    /// <summary>The gateway's auto-response, encoded once for every connection.</summary>
    private readonly (Payload Request, OutboundFrame Response)? _autoResponse = AutoResponse(gateway.Options);

    private static (Payload Request, OutboundFrame Response)? AutoResponse(GatewayOptions options)
    {
        return options.AutoResponseRequest is { Length: > 0 } request && options.AutoResponseResponse is { } response
            ? (new Payload(true, System.Text.Encoding.UTF8.GetBytes(request)), new OutboundFrame(new Payload(true, System.Text.Encoding.UTF8.GetBytes(response))))
            : null;
    }

    private static bool IsCredential(string header) =>
        header.Equals("authorization", StringComparison.OrdinalIgnoreCase) || header.Equals("cookie", StringComparison.OrdinalIgnoreCase);

    private static string NewConnectionId() => Guid.NewGuid().ToString("N");

    private static string AddressOf(HttpContext http) => http.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    private static partial class Log
    {
        [LoggerMessage(EventId = 2032, Level = LogLevel.Debug,
            Message = "WebSocket from {Address} refused with 429: the address holds its maximum of {Limit} connections (RoomActors:Gateway:MaxConnectionsPerAddress).")]
        public static partial void PerAddressRefused(ILogger logger, string address, int limit);

        [LoggerMessage(EventId = 2033, Level = LogLevel.Debug,
            Message = "Request from {Address} to {RoomType}/{RoomName} refused with 429: the address opened {Limit} new rooms in the last minute (RoomActors:Gateway:NewRoomsPerMinute).")]
        public static partial void NewRoomsRefused(ILogger logger, string address, string roomType, string roomName, int limit);

        [LoggerMessage(EventId = 2034, Level = LogLevel.Information,
            Message = "Connection {ConnectionId} to {Room} from {Address} closed with 1008: over the message rate ({Rate}/s, burst {Burst}; RoomActors:Gateway:MessageRatePerSecond, MessageRateBurst).")]
        public static partial void RateClosed(ILogger logger, string connectionId, GrainId room, string address, int rate, int burst);

        [LoggerMessage(EventId = 2035, Level = LogLevel.Debug,
            Message = "Connection {ConnectionId} to {Room} (user {UserId}) closed with 4401: its ticket expired.")]
        public static partial void TicketExpired(ILogger logger, string connectionId, GrainId room, string? userId);

        [LoggerMessage(EventId = 2021, Level = LogLevel.Error, Message = "Room {RoomType}/{RoomName}: HTTP request failed.")]
        public static partial void RequestFailed(ILogger logger, Exception exception, string roomType, string roomName);

        [LoggerMessage(EventId = 2020, Level = LogLevel.Error, Message = "Room {Room}: connect failed.")]
        public static partial void ConnectFailed(ILogger logger, Exception exception, GrainId room);
    }
}
