using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RoomActors.Gateway.Sockets;
using RoomActors.Hosting;

namespace RoomActors.Tests.Infrastructure;

/// <summary>
/// The all-in-one host (silo + co-hosted gateway), built by <see cref="RoomActorsHost.BuildAllInOne"/> as src/Silo's
/// Program does, in this process, with Kestrel on 127.0.0.1 port 0, free silo/gateway ports and no log output.
/// </summary>
public sealed class AllInOneServer : IAsyncDisposable
{
    private AllInOneServer(WebApplication app, Uri http)
    {
        App = app;
        Http = http;
        WebSocket = new UriBuilder(http) { Scheme = "ws" }.Uri;
    }

    public WebApplication App { get; }

    public Uri Http { get; }

    public Uri WebSocket { get; }

    internal GatewayService Gateway => App.Services.GetRequiredService<GatewayService>();

    public IGrainFactory Grains => App.Services.GetRequiredService<IGrainFactory>();

    public Uri Room(string type, string name, string query = "") => new(WebSocket, $"/rooms/{type}/{name}{query}");

    /// <param name="settings">Extra command-line settings, e.g. <c>--RoomActors:Gateway:OutboundQueueMessages=64</c>.</param>
    public static Task<AllInOneServer> StartAsync(params string[] settings) => StartAsync(null, settings);

    /// <param name="configure">Changes to the host before it is built (e.g. a storage provider that fails on demand).</param>
    /// <param name="settings">Extra command-line settings.</param>
    public static async Task<AllInOneServer> StartAsync(Action<WebApplicationBuilder>? configure, params string[] settings)
    {
        string[] args =
        [
            "--urls", "http://127.0.0.1:0",
            "--silo-port", FreePort.Next().ToString(),
            "--client-port", FreePort.Next().ToString(),
            "--cluster-id", "test-" + Guid.NewGuid().ToString("N")[..8],
            "--Logging:LogLevel:Default=Warning",
            .. settings,
        ];
        var app = RoomActorsHost.BuildAllInOne(args, builder =>
        {
            builder.Logging.ClearProviders();
            configure?.Invoke(builder);
        });
        return new AllInOneServer(app, await StartAsync(app));
    }

    /// <summary>Starts the host; returns the address Kestrel bound (port 0 becomes a real port).</summary>
    internal static async Task<Uri> StartAsync(WebApplication app)
    {
        await app.StartAsync();
        return new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
    }

    public async Task StopAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await App.StopAsync(timeout.Token);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        finally
        {
            await App.DisposeAsync();
        }
    }
}

/// <summary>One all-in-one server shared by the integration tests of a collection.</summary>
public sealed class AllInOneFixture : IAsyncLifetime
{
    public AllInOneServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await AllInOneServer.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class AllInOneCollection : ICollectionFixture<AllInOneFixture>
{
    public const string Name = "all-in-one";
}
