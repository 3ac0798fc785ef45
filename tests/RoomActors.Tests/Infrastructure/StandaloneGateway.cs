using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RoomActors.Gateway.Sockets;
using RoomActors.Hosting;

namespace RoomActors.Tests.Infrastructure;

/// <summary>
/// The standalone gateway host (an Orleans client), built by <see cref="RoomActorsHost.BuildGateway"/> as
/// src/GatewayHost's Program does, on port 0.
/// </summary>
public sealed class StandaloneGateway : IAsyncDisposable
{
    private StandaloneGateway(WebApplication app, Uri http)
    {
        App = app;
        Http = http;
        WebSocket = new UriBuilder(http) { Scheme = "ws" }.Uri;
    }

    public WebApplication App { get; }

    public Uri Http { get; }

    public Uri WebSocket { get; }

    internal GatewayService Gateway => App.Services.GetRequiredService<GatewayService>();

    public Uri Room(string type, string name) => new(WebSocket, $"/rooms/{type}/{name}");

    /// <summary>Starts a gateway that joins the cluster of <paramref name="server"/> through its gateway port.</summary>
    /// <param name="server">The cluster's silo.</param>
    /// <param name="settings">Extra command-line settings, e.g. <c>--RoomActors:Operator:Key=…</c>.</param>
    public static Task<StandaloneGateway> StartAsync(AllInOneServer server, params string[] settings)
    {
        var options = server.App.Configuration.GetRoomActorsOptions();
        return StartAsync(options.ClientPort, ["--cluster-id", options.ClusterId, .. settings]);
    }

    /// <summary>Starts a gateway that joins the localhost silo (no Redis) listening for clients on <paramref name="clientPort"/>.</summary>
    public static async Task<StandaloneGateway> StartAsync(int clientPort, string[] settings)
    {
        var app = RoomActorsHost.BuildGateway(
            [
                "--urls", "http://127.0.0.1:0",
                "--gateway-port", clientPort.ToString(), // the former name of --client-port: still accepted
                .. settings,
            ],
            builder => builder.Logging.ClearProviders());
        return new StandaloneGateway(app, await AllInOneServer.StartAsync(app));
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await App.StopAsync(timeout.Token);
        await App.DisposeAsync();
    }
}
