using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using RoomActors.Hosting;
using RoomActors.Mud;
using RoomActors.Tests.Infrastructure;

namespace RoomActors.Tests.Browser;

/// <summary>
/// The MUD (samples/Mud) as its Program runs it all-in-one, in this process: the silo with the MUD's settings
/// (<see cref="MudHosting.AddMud"/>), the gateway and the page at <c>/mud</c> (<see cref="MudHosting.MapMud"/>), Kestrel on
/// 127.0.0.1 port 0, free silo/gateway ports, no log output.
/// </summary>
public sealed class MudServer : IAsyncDisposable
{
    private MudServer(WebApplication app, Uri http)
    {
        App = app;
        Http = http;
    }

    public WebApplication App { get; }

    /// <summary>The server's base address, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri Http { get; }

    /// <summary>The page, with an optional query (e.g. <c>?ticket=…</c>).</summary>
    public string Page(string query = "") => new Uri(Http, "/mud" + query).ToString();

    /// <param name="settings">Extra command-line settings, e.g. <c>--Mud:Moderators:0=Mod</c>.</param>
    public static async Task<MudServer> StartAsync(params string[] settings)
    {
        string[] args =
        [
            "--urls", "http://127.0.0.1:0",
            "--silo-port", FreePort.Next().ToString(),
            "--client-port", FreePort.Next().ToString(),
            "--cluster-id", "mud-" + Guid.NewGuid().ToString("N")[..8],
            "--Logging:LogLevel:Default=Warning",
            .. settings,
        ];
        var app = RoomActorsHost.BuildAllInOne(args, builder =>
        {
            builder.Logging.ClearProviders();
            builder.AddMud();
        });
        app.MapMud();
        return new MudServer(app, await AllInOneServer.StartAsync(app));
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await App.StopAsync(timeout.Token);
        }
        finally
        {
            await App.DisposeAsync();
        }
    }
}
