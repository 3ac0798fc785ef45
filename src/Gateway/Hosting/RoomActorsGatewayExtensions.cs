using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using RoomActors.Gateway.Auth;
using RoomActors.Gateway.Sockets;

namespace RoomActors.Gateway.Hosting;

/// <summary>Adds and maps the WebSocket gateway. Used by the standalone gateway and by the co-hosted silo.</summary>
public static class RoomActorsGatewayExtensions
{
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
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.Section);
        services.AddSingleton<TicketCheck>();
        services.AddAuthentication().AddJwtBearer();
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IOptions<AuthOptions>>((jwt, auth) => ConfigureTickets(jwt, auth.Value));

        services.AddSingleton<RoomGateway>();
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<RoomGateway>());
        services.AddSingleton<RoomTypeCatalog>();
        services.AddSingleton<RoomSocketHandler>();
        return services;
    }

    private static void ConfigureTickets(JwtBearerOptions jwt, AuthOptions auth)
    {
        jwt.MapInboundClaims = false; // keep "sub" and "room" as they are in the ticket
        jwt.TokenValidationParameters = new TokenValidationParameters
        {
            IssuerSigningKey = auth.Enabled ? RoomTickets.Key(auth.SigningKey!) : null,
            ValidateIssuerSigningKey = true,
            ValidateIssuer = auth.Issuer is not null,
            ValidIssuer = auth.Issuer,
            ValidateAudience = auth.Audience is not null,
            ValidAudience = auth.Audience,
            ValidateLifetime = true,
            RequireExpirationTime = true,
            ClockSkew = auth.ClockSkew,
        };
        jwt.Events = new JwtBearerEvents
        {
            // Browsers cannot set headers on a WebSocket: the ticket may come as ?ticket=…
            OnMessageReceived = context =>
            {
                if (context.Request.Query.TryGetValue("ticket", out var ticket) && ticket.Count > 0)
                {
                    context.Token = ticket[0];
                }

                return Task.CompletedTask;
            },
        };
    }

    /// <summary>
    /// Maps <c>/rooms/{type}/{name}</c> (WebSocket, or HTTP to the room's request hook), <c>/rooms/{type}/{name}/{**path}</c>
    /// (HTTP to the room) and the demo page at <c>/</c>. Call <c>app.UseWebSockets()</c> first.
    /// </summary>
    public static IEndpointRouteBuilder MapRoomActors(this IEndpointRouteBuilder endpoints)
    {
        endpoints.Map(RoomRoute.Pattern, (HttpContext http, string type, string name, RoomSocketHandler handler) =>
            handler.HandleAsync(http, type, name));
        endpoints.Map(RoomRoute.Pattern + "/{**path}", (HttpContext http, string type, string name, string path, RoomSocketHandler handler) =>
            handler.HandleHttpAsync(http, type, name, path));
        endpoints.MapGet("/", () => Results.Text(DemoPage.Html, "text/html; charset=utf-8"));
        return endpoints;
    }
}
