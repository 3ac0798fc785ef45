using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace RoomActors.Mud;

/// <summary>Hosting the MUD: its settings on a silo, its page on a gateway.</summary>
public static class MudHosting
{
    /// <summary>
    /// Binds <see cref="MudOptions"/> (section <c>Mud</c>) for the MUD's rooms, validated at start, and shortens the resume
    /// window to 30 s unless configured (an attendee whose network dropped is shown as gone 30 s later, not 2 minutes).
    /// </summary>
    public static IHostApplicationBuilder AddMud(this IHostApplicationBuilder builder)
    {
        const string resumeWindow = "RoomActors:Rooms:ResumeWindow";
        builder.Configuration[resumeWindow] ??= "00:00:30";
        builder.Services.AddOptions<MudOptions>().Bind(builder.Configuration.GetSection(MudOptions.Section))
            .Validate(o => o.History is >= 1 and <= 1000, "Mud:History must be 1-1000 (messages a room keeps for arrivals)")
            .Validate(o => o.MaxText >= 1, "Mud:MaxText must be at least 1 (characters in a line)")
            .Validate(o => o.ShoutCooldown >= TimeSpan.Zero, "Mud:ShoutCooldown must not be negative (e.g. 00:00:10)")
            .Validate(o => o.CensusInterval >= TimeSpan.FromSeconds(1), "Mud:CensusInterval must be at least 00:00:01")
            .Validate(o => o.RoomListInterval >= TimeSpan.FromMilliseconds(100), "Mud:RoomListInterval must be at least 00:00:00.1")
            .ValidateOnStart();
        return builder;
    }

    /// <summary>Serves the browser client at <c>/mud</c> (embedded files, no build step).</summary>
    public static IEndpointRouteBuilder MapMud(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/mud", () => Page("mud.html", "text/html; charset=utf-8"));
        endpoints.MapGet("/mud/{file}", (string file) => file switch
        {
            "mud.js" => Page(file, "text/javascript; charset=utf-8"),
            "mud.css" => Page(file, "text/css; charset=utf-8"),
            _ => Results.NotFound(),
        });
        return endpoints;
    }

    private static IResult Page(string file, string contentType)
    {
        var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream($"RoomActors.Mud.Pages.{file}");
        return stream is null ? Results.NotFound() : Results.Stream(stream, contentType);
    }
}
