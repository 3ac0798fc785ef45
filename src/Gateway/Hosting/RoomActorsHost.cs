using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;

namespace RoomActors.Gateway.Hosting;

/// <summary>Builds a RoomActors host (silo or gateway) with the shared configuration.</summary>
public static class RoomActorsHost
{
    /// <summary>Short command-line switches for the common settings.</summary>
    public static IReadOnlyDictionary<string, string> SwitchMappings { get; } = new Dictionary<string, string>
    {
        ["--redis"] = "RoomActors:Redis",
        ["--silo-port"] = "RoomActors:SiloPort",
        ["--gateway-port"] = "RoomActors:GatewayPort",
        ["--cluster-id"] = "RoomActors:ClusterId",
        ["--service-id"] = "RoomActors:ServiceId",
    };

    /// <summary>
    /// A web application builder reading appsettings, <c>RoomActors__*</c> environment variables and the command line
    /// (with <see cref="SwitchMappings"/>), listening on <see cref="RoomActorsOptions.DefaultUrls"/> unless
    /// <c>--urls</c> says otherwise.
    /// </summary>
    public static WebApplicationBuilder CreateBuilder(string[] args)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args });
        builder.Configuration.AddCommandLine(args, SwitchMappings.ToDictionary());
        if (string.IsNullOrEmpty(builder.Configuration["urls"]))
        {
            builder.WebHost.UseUrls(RoomActorsOptions.DefaultUrls);
        }

        return builder;
    }

    /// <summary>The cluster settings of <paramref name="configuration"/>.</summary>
    public static RoomActorsOptions GetRoomActorsOptions(this IConfiguration configuration) =>
        configuration.GetSection(RoomActorsOptions.Section).Get<RoomActorsOptions>() ?? new RoomActorsOptions();
}
