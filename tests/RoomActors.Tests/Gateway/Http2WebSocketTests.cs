using System.Net;
using System.Net.WebSockets;
using RoomActors.Tests.Infrastructure;

namespace RoomActors.Tests.Gateway;

/// <summary>
/// HTTP/2 WebSockets (RFC 8441, extended CONNECT) go through the gateway's own accept, so the frame deadline
/// (<c>FrameTimeout</c>) and the early header checks apply to them too. On the default cleartext endpoints they cannot
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

        // Configured for HTTP/2 alone (h2c), it opens and serves.
        await connect;
        await socket.SendAsync("over h2"u8.ToArray(), WebSocketMessageType.Text, true, timeout.Token);
        var buffer = new byte[64];
        var received = await socket.ReceiveAsync(buffer, timeout.Token);
        Assert.Equal("over h2", System.Text.Encoding.UTF8.GetString(buffer, 0, received.Count));
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
    }

    /// <summary>
    /// Over HTTP/2 the gateway's frame checks apply as over HTTP/1.1: a frame header cut short is aborted after
    /// <c>FrameTimeout</c>, and a header declaring more than <c>MaxMessageBytes</c> is answered with 1009 at once. Raw
    /// frames on an extended CONNECT stream (h2c, an endpoint set to HTTP/2 alone).
    /// </summary>
    [Fact]
    public async Task Over_HTTP2_the_frame_deadline_and_header_checks_apply()
    {
        await using var server = await AllInOneServer.StartAsync("--Kestrel:EndpointDefaults:Protocols=Http2", "--RoomActors:Gateway:FrameTimeout=00:00:01",
            "--RoomActors:Gateway:KeepAliveTimeout=00:05:00");
        using var client = new HttpMessageInvoker(new SocketsHttpHandler());

        // A header cut short (2 of the 6 bytes of a masked text frame's header): aborted after FrameTimeout (1 s).
        await using (var stalled = await RawStream.OpenAsync(client, server.Http, "/rooms/echo/h2-stalled"))
        {
            await stalled.Write.WriteAsync(new byte[] { 0x81, 0x85 });
            await stalled.Write.FlushAsync();
            Assert.True(await stalled.EndsWithinAsync(TimeSpan.FromSeconds(10)), "a frame header cut short kept its HTTP/2 WebSocket open");
        }

        // A header declaring 2^62 bytes and nothing after it: 1009 at once (a close frame: 0x88, then the code).
        await using var oversize = await RawStream.OpenAsync(client, server.Http, "/rooms/echo/h2-oversize");
        await oversize.Write.WriteAsync(new byte[] { 0x82, 0xFF, 0x40, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4 });
        await oversize.Write.FlushAsync();
        var close = new byte[4];
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(5)); // FrameTimeout is 1 s, but 1009 must not wait for it
        await oversize.Read.ReadExactlyAsync(close, wait.Token);
        Assert.Equal(0x88, close[0]);
        Assert.Equal(1009, (close[2] << 8) | close[3]);
    }

    /// <summary>An extended CONNECT (RFC 8441) stream: raw bytes both ways (the response stream is duplex, as ClientWebSocket uses it).</summary>
    private sealed class RawStream : IAsyncDisposable
    {
        private readonly HttpResponseMessage _response;

        private RawStream(HttpResponseMessage response, Stream stream)
        {
            _response = response;
            Read = stream;
            Write = stream;
        }

        public Stream Read { get; }

        public Stream Write { get; }

        public static async Task<RawStream> OpenAsync(HttpMessageInvoker client, Uri server, string path)
        {
            var request = new HttpRequestMessage(HttpMethod.Connect, new Uri(server, path))
            {
                Version = HttpVersion.Version20,
                VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            };
            request.Headers.Protocol = "websocket";
            request.Headers.Add("Sec-WebSocket-Version", "13");
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            var response = await client.SendAsync(request, timeout.Token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return new RawStream(response, await response.Content.ReadAsStreamAsync(timeout.Token));
        }

        /// <summary>True when the server ends the stream (end of data or a reset) within <paramref name="timeout"/>.</summary>
        public async Task<bool> EndsWithinAsync(TimeSpan timeout)
        {
            using var wait = new CancellationTokenSource(timeout);
            var buffer = new byte[256];
            try
            {
                while (await Read.ReadAsync(buffer, wait.Token) > 0)
                {
                    // A close frame may come first; read on until the stream ends.
                }

                return true;
            }
            catch (OperationCanceledException) when (wait.IsCancellationRequested)
            {
                return false; // still open
            }
            catch (Exception ex) when (ex is IOException or HttpRequestException)
            {
                return true; // reset by the server
            }
        }

        public async ValueTask DisposeAsync()
        {
            await Read.DisposeAsync();
            _response.Dispose();
        }
    }
}
