using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace RoomActors.Gateway.Sockets;

/// <summary>
/// Accepts a WebSocket over HTTP/1.1 with the RFC 6455 handshake done here, or over HTTP/2 (RFC 8441), so that the socket
/// reads and writes through a <see cref="CoalescingStream"/> (frame deadline, header checks, batched writes); a socket
/// handed over from its request is a <see cref="PipeWebSocket"/> on the bare connection. Requests that cannot be
/// upgraded either way use the framework's accept.
/// </summary>
internal static class ServerWebSockets
{
    private const string Rfc6455Guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    /// <param name="http">The upgrade request.</param>
    /// <param name="options">The ping interval, the pong timeout and the frame timeout.</param>
    /// <param name="subprotocol">The subprotocol to answer with (one the client offered), or null.</param>
    public static async Task<(WebSocket Socket, IFrameLayer? Frames)> AcceptAsync(HttpContext http, GatewayOptions options, string? subprotocol = null)
    {
        var creation = Creation(options);
        if (http.Features.Get<IHttpExtendedConnectFeature>() is { IsExtendedConnect: true } connect)
        {
            // HTTP/2 (RFC 8441, extended CONNECT; the caller checked it asks for a WebSocket): the same stream checks as
            // HTTP/1.1. The answer is a 200 with the subprotocol, sent by AcceptAsync.
            if (subprotocol is not null)
            {
                http.Response.Headers.SecWebSocketProtocol = subprotocol;
            }

            var h2 = new CoalescingStream(await connect.AcceptAsync(), options.FrameTimeout, options.MaxMessageBytes);
            return (WebSocket.CreateFromStream(h2, creation), h2);
        }

        var upgrade = http.Features.Get<IHttpUpgradeFeature>();
        var key = http.Request.Headers["Sec-WebSocket-Key"].ToString();
        if (upgrade is not { IsUpgradableRequest: true } || key.Length == 0)
        {
            return (await http.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext { KeepAliveInterval = creation.KeepAliveInterval, KeepAliveTimeout = creation.KeepAliveTimeout, SubProtocol = subprotocol }), null);
        }

        SetHandshakeHeaders(http, key, subprotocol);
        var stream = new CoalescingStream(await upgrade.UpgradeAsync(), options.FrameTimeout, options.MaxMessageBytes);
        var socket = WebSocket.CreateFromStream(stream, creation);
        return (socket, stream);
    }

    /// <summary>
    /// The HTTP/1.1 handshake only (the 101 is flushed when this returns), for a socket handed over from its request
    /// (<see cref="SocketHandover"/>); <see cref="Open"/> then makes the socket on the bare transport.
    /// </summary>
    public static async Task UpgradeAsync(HttpContext http, string? subprotocol)
    {
        SetHandshakeHeaders(http, http.Request.Headers["Sec-WebSocket-Key"].ToString(), subprotocol);
        await http.Features.GetRequiredFeature<IHttpUpgradeFeature>().UpgradeAsync();
    }

    /// <summary>A server WebSocket on a connection's bare transport (after <see cref="UpgradeAsync"/>), with the same checks.</summary>
    public static (WebSocket Socket, IFrameLayer Frames) Open(System.IO.Pipelines.IDuplexPipe transport, Microsoft.AspNetCore.Connections.Features.IConnectionHeartbeatFeature heartbeat,
        GatewayOptions options, string? subprotocol)
    {
        var socket = new PipeWebSocket(transport, options, subprotocol, heartbeat);
        return (socket, socket);
    }

    /// <summary>A peer that does not answer a ping within the timeout is aborted (the room hears 1006); zero: pings only.</summary>
    private static WebSocketCreationOptions Creation(GatewayOptions options) => new()
    {
        IsServer = true,
        KeepAliveInterval = options.KeepAliveInterval,
        KeepAliveTimeout = options.KeepAliveTimeout > TimeSpan.Zero ? options.KeepAliveTimeout : Timeout.InfiniteTimeSpan,
    };

    private static void SetHandshakeHeaders(HttpContext http, string key, string? subprotocol)
    {
        http.Response.Headers.Connection = "Upgrade";
        http.Response.Headers.Upgrade = "websocket";
        http.Response.Headers.SecWebSocketAccept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + Rfc6455Guid)));
        if (subprotocol is not null)
        {
            http.Response.Headers.SecWebSocketProtocol = subprotocol;
        }
    }
}
