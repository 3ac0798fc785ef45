using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Dashboard;
using RoomActors.Gateway.Sockets;

namespace RoomActors.Hosting;

/// <summary>
/// The operator endpoints: the room inspector and the Orleans Dashboard under <c>/operator</c>, behind
/// <c>RoomActors:Operator:Key</c> (<see cref="OperatorOptions"/>). Mapped by every RoomActors process with HTTP.
/// </summary>
public static class RoomActorsOperatorExtensions
{
    /// <summary>The path of the operator endpoints.</summary>
    public const string Path = "/operator";

    /// <summary>
    /// Maps the operator endpoints under <c>/operator</c>, every one behind the operator credential (one endpoint filter on
    /// the group): <c>GET /operator</c> (a page: the rooms in memory, a link to the dashboard), <c>GET /operator/rooms</c>
    /// and <c>/operator/rooms/{type}</c> (the rooms in memory by type), <c>GET /operator/rooms/{type}/{name}</c> (one room:
    /// connections, state size, last turn, alarm; read from storage when it is asleep, without waking it),
    /// <c>POST …/{name}/hibernate</c>, <c>POST …/{name}/connections/{id}/close</c> (<c>?code=</c>, <c>?reason=</c>; 1008
    /// "closed by an operator" by default), and the Orleans Dashboard at <c>/operator/dashboard/</c>. The inspector's GET
    /// routes answer a page to a browser (<c>Accept: text/html</c>) and JSON otherwise. Needs the services of
    /// <see cref="RoomActorsSiloExtensions.UseRoomActorsSilo"/> or <see cref="RoomActorsClientExtensions.UseRoomActorsClient"/>.
    /// </summary>
    /// <returns>The <c>/operator</c> route group, for more conventions (e.g. <c>RequireHost</c>).</returns>
    public static RouteGroupBuilder MapRoomActorsOperator(this IEndpointRouteBuilder endpoints)
    {
        var inspector = endpoints.ServiceProvider.GetService<RoomInspector>()
            ?? throw new InvalidOperationException("The operator services are missing: build the host with UseRoomActorsSilo or "
                + "UseRoomActorsClient (the RoomActorsHost builders do) before mapping the operator endpoints.");
        var options = endpoints.ServiceProvider.GetRequiredService<IOptions<OperatorOptions>>().Value;

        // Every endpoint below is a route handler (never a bare RequestDelegate, which would skip the filter).
        var group = endpoints.MapGroup(Path).AddEndpointFilter<OperatorCredentialFilter>().AddEndpointFilter(AnswerTimeoutsAsync);
        group.MapGet("/", (HttpRequest request, int? limit) => ListAsync(inspector, request, inspector.Types, limit, page: true));
        group.MapGet("/rooms", (HttpRequest request, int? limit) => ListAsync(inspector, request, inspector.Types, limit, OperatorPages.WantsHtml(request)));
        group.MapGet("/rooms/{type}", (HttpRequest request, string type, int? limit) => inspector.Validate(type, null) is { } invalid
            ? Task.FromResult(invalid)
            : ListAsync(inspector, request, [type], limit, OperatorPages.WantsHtml(request)));
        group.MapGet("/rooms/{type}/{name}", async (HttpRequest request, string type, string name) =>
        {
            if (inspector.Validate(type, name) is { } invalid)
            {
                return invalid;
            }

            var room = await inspector.InspectAsync(type, name);
            return OperatorPages.WantsHtml(request) ? OperatorPages.Room(request, room) : Results.Json(room, Json.Options);
        });
        group.MapPost("/rooms/{type}/{name}/hibernate", (HttpContext http, string type, string name) =>
            inspector.Validate(type, name) is { } invalid ? Task.FromResult(invalid) : inspector.HibernateAsync(http, type, name));
        group.MapPost("/rooms/{type}/{name}/connections/{id}/close", (HttpContext http, string type, string name, string id, int? code, string? reason) =>
            inspector.Validate(type, name) is { } invalid ? Task.FromResult(invalid) : inspector.CloseAsync(http, type, name, id, code, reason));

        if (options.Dashboard)
        {
            // The dashboard's own routes, in the filtered group: its page, assets and API under /operator/dashboard/.
            group.MapOrleansDashboard("/dashboard");
        }
        else
        {
            group.MapGet("/dashboard/{**path}", (string? path) => Results.Text(
                "The Orleans Dashboard is off: RoomActors:Operator:Dashboard is false. Set it to true on every process of the cluster to have it.",
                "text/plain; charset=utf-8", statusCode: StatusCodes.Status404NotFound));
        }

        return group;
    }

    /// <summary>The operator services (options validated at start, the inspector); added by every RoomActors process.</summary>
    internal static IServiceCollection AddRoomActorsOperator(this IServiceCollection services)
    {
        services.AddOptions<OperatorOptions>().BindConfiguration(OperatorOptions.Section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<OperatorOptions>, OperatorOptionsValidator>());
        services.TryAddSingleton<RoomTypeCatalog>();
        services.TryAddSingleton<RoomInspector>();
        return services;
    }

    /// <summary>The operator settings as a host builder reads them (before the services exist).</summary>
    internal static OperatorOptions GetOperatorOptions(this Microsoft.Extensions.Configuration.IConfiguration configuration) =>
        Microsoft.Extensions.Configuration.ConfigurationBinder.Get<OperatorOptions>(configuration.GetSection(OperatorOptions.Section)) ?? new OperatorOptions();

    /// <summary>A room (or the cluster) that does not answer in time is a 504 saying so, not a 500.</summary>
    private static async ValueTask<object?> AnswerTimeoutsAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (TimeoutException)
        {
            // Answer and go on: the room or silo may answer the next request.
            return Results.Problem(statusCode: StatusCodes.Status504GatewayTimeout, title: "No answer in time",
                detail: $"The room or the cluster did not answer within {RoomInspector.CallTimeout.TotalSeconds:0} s: a turn of the room may be "
                    + "running long (see its logs), or its silo may be unreachable. Try again.");
        }
    }

    private static async Task<IResult> ListAsync(RoomInspector inspector, HttpRequest request, IEnumerable<string> types, int? limit, bool page)
    {
        if (limit is < 1)
        {
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid limit",
                detail: $"limit is the most room names listed per type: a number from 1 (default {RoomInspector.DefaultLimit}).");
        }

        var listing = await inspector.ListAsync(types, limit ?? RoomInspector.DefaultLimit);
        return page ? OperatorPages.Rooms(request, listing) : Results.Json(listing, Json.Options);
    }
}
