using System.Net;
using System.Net.WebSockets;
using RoomActors.Tests.Infrastructure;

namespace RoomActors.Tests.Gateway;

/// <summary>
/// HTTP/2 WebSockets (RFC 8441, extended CONNECT) bypass the gateway's own accept, so the frame deadline
/// (<c>FrameTimeout</c>) and the early header checks do not apply to them. On the default cleartext endpoints they cannot
/// be opened at all: Kestrel speaks HTTP/2 without TLS only on an endpoint configured for HTTP/2 alone.
/// </summary>
public sealed class Http2WebSocketTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_HTTP2_WebSocket_opens_only_where_HTTP2_is_configured(bool http2Only)
    {
        await using var server = await AllInOneServer.StartAsync(http2Only ? ["--Kestrel:EndpointDefaults:Protocols=Http2"] : []);
        using var socket = new ClientWebSocket();
        socket.Options.HttpVersion = HttpVersion.Version20;
        socket.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        using var invoker = new HttpMessageInvoker(new SocketsHttpHandler());
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var connect = socket.ConnectAsync(server.Room("echo", "h2"), invoker, timeout.Token);
        if (!http2Only)
        {
            await Assert.ThrowsAsync<WebSocketException>(() => connect);
            return;
        }

        // Configured for HTTP/2 alone (h2c), the framework's accept serves it: documented as outside the gateway's frame checks.
        await connect;
        await socket.SendAsync("over h2"u8.ToArray(), WebSocketMessageType.Text, true, timeout.Token);
        var buffer = new byte[64];
        var received = await socket.ReceiveAsync(buffer, timeout.Token);
        Assert.Equal("over h2", System.Text.Encoding.UTF8.GetString(buffer, 0, received.Count));
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
    }
}
