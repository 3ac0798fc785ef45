using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace RoomActors.Gateway.Sockets;

/// <summary>
/// Accepts a WebSocket over HTTP/1.1 with the RFC 6455 handshake done here, or over HTTP/2 (RFC 8441), so that the socket
/// reads and writes through a <see cref="CoalescingStream"/> (frame deadline, header checks, batched writes). Requests
/// that cannot be upgraded either way use the framework's accept.
/// </summary>
internal static class ServerWebSockets
{
    private const string Rfc6455Guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    /// <param name="http">The upgrade request.</param>
    /// <param name="options">The ping interval, the pong timeout and the frame timeout.</param>
    /// <param name="subprotocol">The subprotocol to answer with (one the client offered), or null.</param>
    public static async Task<(WebSocket Socket, CoalescingStream? Stream)> AcceptAsync(HttpContext http, GatewayOptions options, string? subprotocol = null)
    {
        // A peer that does not answer a ping within the timeout is aborted (the room hears 1006); zero: pings only.
        var keepAlive = options.KeepAliveInterval;
        var pongTimeout = options.KeepAliveTimeout > TimeSpan.Zero ? options.KeepAliveTimeout : Timeout.InfiniteTimeSpan;
        var creation = new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = keepAlive, KeepAliveTimeout = pongTimeout };
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
            return (await http.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext { KeepAliveInterval = keepAlive, KeepAliveTimeout = pongTimeout, SubProtocol = subprotocol }), null);
        }

        var accept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + Rfc6455Guid)));
        http.Response.Headers.Connection = "Upgrade";
        http.Response.Headers.Upgrade = "websocket";
        http.Response.Headers.SecWebSocketAccept = accept;
        if (subprotocol is not null)
        {
            http.Response.Headers.SecWebSocketProtocol = subprotocol;
        }

        var stream = new CoalescingStream(await upgrade.UpgradeAsync(), options.FrameTimeout, options.MaxMessageBytes);
        var socket = WebSocket.CreateFromStream(stream, creation);
        return (socket, stream);
    }
}
