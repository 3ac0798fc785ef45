using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using RoomActors.Gateway.Auth;
using RoomActors.Gateway.Diagnostics;
using RoomActors.Gateway.Limits;
using RoomActors.Gateway.Sockets;

namespace RoomActors.Gateway.Hosting;

/// <summary>Adds and maps the WebSocket gateway. Used by the standalone gateway and by the co-hosted silo.</summary>
public static class RoomActorsGatewayExtensions
{
    /// <summary>The tag of the health checks that decide readiness (<c>/health/ready</c>).</summary>
    public const string ReadyTag = "ready";

    /// <summary>
    /// Adds the gateway services. Needs an <see cref="IGrainFactory"/>: a co-hosted silo (<c>UseOrleans</c>) or an
    /// Orleans client (<c>UseOrleansClient</c>), never both in one process.
    /// </summary>
    public static IServiceCollection AddRoomActorsGateway(this IServiceCollection services, Action<GatewayOptions>? configure = null)
    {
        services.AddOptions<GatewayOptions>()
            .BindConfiguration(GatewayOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<GatewayOptions>, GatewayOptionsValidator>();
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AuthOptions>, AuthOptionsValidator>();
        services.AddSingleton<TicketCheck>();

        // The connection caps, and the Kestrel section's limits, which ASP.NET Core alone does not apply.
        services.AddSingleton<ConnectionLimits>();
        services.AddSingleton<IConfigureOptions<KestrelServerOptions>>(sp => sp.GetRequiredService<ConnectionLimits>());

        // Upgraded sockets leave their HTTP requests (RoomActors:Gateway:HandOverSockets).
        services.AddSingleton<IConfigureOptions<KestrelServerOptions>>(sp => new ConfigureOptions<KestrelServerOptions>(kestrel =>
        {
            if (sp.GetRequiredService<IOptions<GatewayOptions>>().Value.HandOverSockets)
            {
                kestrel.ConfigureEndpointDefaults(listen => listen.Use(next => connection => SocketHandover.RunAsync(connection, next)));
            }
        }));

        // Readiness (see the README's "Operating" section).
        services.AddSingleton<SiloConnections>();
        services.AddSingleton<IClusterConnectionStatusObserver>(sp => sp.GetRequiredService<SiloConnections>());
        services.AddHealthChecks().AddCheck<GatewayReadyCheck>("gateway", tags: [ReadyTag]);

        services.AddSingleton<GatewayService>();
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<GatewayService>());
        services.AddSingleton<RoomTypeCatalog>();
        services.AddSingleton<RoomSocketHandler>();
        return services;
    }

    /// <summary>
    /// Maps <c>/rooms/{type}/{name}</c> (WebSocket, or HTTP to the room's request hook), <c>/rooms/{type}/{name}/{**path}</c>
    /// (HTTP to the room), the demo page at <c>/</c>, the Yjs editor page of <c>doc</c> rooms at <c>/doc</c> (with the
    /// npm packages of <c>RoomActors:Gateway:YjsModules</c> under <c>/doc/modules/</c>) and the JavaScript client at
    /// <c>/client/roomactors.js</c> (types: <c>/client/roomactors.d.ts</c>). Call <c>app.UseWebSockets()</c> first.
    /// </summary>
    public static IEndpointRouteBuilder MapRoomActors(this IEndpointRouteBuilder endpoints)
    {
        // Resolved once: a handler resolved per request would open a service scope that every open socket then keeps.
        var handler = endpoints.ServiceProvider.GetRequiredService<RoomSocketHandler>();
        endpoints.Map(RoomRoute.Pattern, (HttpContext http, string type, string name) => handler.HandleAsync(http, type, name));
        endpoints.Map(RoomRoute.Pattern + "/{**path}", (HttpContext http, string type, string name, string path) =>
            handler.HandleHttpAsync(http, type, name, path));
        endpoints.MapGet("/", () => Results.Text(DemoPage.Html, "text/html; charset=utf-8"));
        var doc = new DocPage(endpoints.ServiceProvider.GetRequiredService<Microsoft.Extensions.Options.IOptions<GatewayOptions>>().Value);
        endpoints.MapGet("/doc", doc.Page);
        endpoints.MapGet("/doc/modules/{package}/{**path}", (string package, string path) => doc.Module(package, path));
        endpoints.MapGet(ClientLibrary.ScriptPath, (HttpContext http) =>
        {
            http.Response.Headers["X-TypeScript-Types"] = ClientLibrary.TypesPath; // where Deno and editors find the types
            return Results.Text(ClientLibrary.Script, "text/javascript; charset=utf-8");
        });
        endpoints.MapGet(ClientLibrary.TypesPath, () => Results.Text(ClientLibrary.Types, "application/typescript; charset=utf-8"));
        return endpoints;
    }
}
