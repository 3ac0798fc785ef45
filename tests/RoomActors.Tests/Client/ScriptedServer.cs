using System.Net.WebSockets;
using System.Text;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace RoomActors.Tests.Client;

/// <summary>
/// A WebSocket server whose every frame a test writes by hand (Kestrel on 127.0.0.1 port 0): for what the real server
/// does rarely or never on purpose (a protocol error, a welcome answering a resume, a refusal). Each accepted socket is
/// handed to the test, which plays the server's side; every wait is bounded.
/// </summary>
public sealed class ScriptedServer : IAsyncDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private readonly WebApplication _app;
    private readonly Channel<ScriptedSocket> _accepted = Channel.CreateUnbounded<ScriptedSocket>();

    private ScriptedServer(WebApplication app) => _app = app;

    public Uri Server { get; private set; } = null!;

    /// <summary>The HTTP status of every upgrade request, or null to accept them with <c>roomactors.v1</c>.</summary>
    public int? RefuseWith { get; set; }

    public static async Task<ScriptedServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var server = new ScriptedServer(app);
        app.UseWebSockets();
        app.Map("/rooms/{type}/{name}", server.AcceptAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        server.Server = new UriBuilder(address) { Scheme = "ws" }.Uri;
        return server;
    }

    /// <summary>The next socket a client opened.</summary>
    public async Task<ScriptedSocket> AcceptAsync()
    {
        using var timeout = new CancellationTokenSource(Timeout);
        return await _accepted.Reader.ReadAsync(timeout.Token);
    }

    private async Task AcceptAsync(HttpContext context)
    {
        if (RefuseWith is { } status || !context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = RefuseWith ?? 400;
            return;
        }

        var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext { SubProtocol = "roomactors.v1" });
        var scripted = new ScriptedSocket(context.Request.Query.ToDictionary(q => q.Key, q => q.Value.ToString()), socket);
        _accepted.Writer.TryWrite(scripted);
        await scripted.Ended.WaitAsync(TimeSpan.FromSeconds(60)); // the request lives as long as the test plays it
    }

    public async ValueTask DisposeAsync()
    {
        _accepted.Writer.TryComplete();
        await foreach (var socket in _accepted.Reader.ReadAllAsync())
        {
            socket.Abort();
        }

        using var timeout = new CancellationTokenSource(Timeout);
        await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
    }
}

/// <summary>The server's side of one socket, played by a test.</summary>
public sealed class ScriptedSocket(IReadOnlyDictionary<string, string> query, WebSocket socket)
{
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public IReadOnlyDictionary<string, string> Query { get; } = query;

    internal Task Ended => _ended.Task;

    public Task SendAsync(string frame) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(frame), WebSocketMessageType.Text, true, CancellationToken.None);

    public Task SendBinaryAsync(byte[] frame) =>
        socket.SendAsync(frame, WebSocketMessageType.Binary, true, CancellationToken.None);

    /// <summary>The next frame from the client as text (header and body), or <c>close CODE</c> when it closed.</summary>
    public async Task<string> ReceiveAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var buffer = new byte[64 * 1024];
        var count = 0;
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer.AsMemory(count), timeout.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return $"close {(int?)socket.CloseStatus}";
            }

            count += result.Count;
            if (result.EndOfMessage)
            {
                return Encoding.UTF8.GetString(buffer, 0, count);
            }
        }
    }

    public async Task CloseAsync(int code, string reason)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await socket.CloseOutputAsync((WebSocketCloseStatus)code, reason, timeout.Token);
        }
        finally
        {
            _ended.TrySetResult();
        }
    }

    /// <summary>Drops the TCP connection without a close frame: the client sees 1006.</summary>
    public void Abort()
    {
        socket.Abort();
        _ended.TrySetResult();
    }
}
