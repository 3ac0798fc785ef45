using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RoomActors.Gateway.Hosting;

namespace RoomActors.Hosting;

/// <summary>Builds a RoomActors host (silo or gateway) with the shared configuration.</summary>
public static class RoomActorsHost
{
    private const string HostingDiagnostics = "Microsoft.AspNetCore.Hosting.Diagnostics";

    /// <summary>Short command-line switches for the common settings.</summary>
    public static IReadOnlyDictionary<string, string> SwitchMappings { get; } = new Dictionary<string, string>
    {
        ["--redis"] = "RoomActors:Redis",
        ["--silo-port"] = "RoomActors:SiloPort",
        ["--client-port"] = "RoomActors:ClientPort",
        ["--gateway-port"] = "RoomActors:ClientPort", // the former name of --client-port, still accepted
        ["--cluster-id"] = "RoomActors:ClusterId",
        ["--service-id"] = "RoomActors:ServiceId",
        ["--advertised-ip"] = "RoomActors:AdvertisedIp",
        ["--samples"] = "RoomActors:Samples",
        ["--management-urls"] = "RoomActors:ManagementUrls",
        ["--log-format"] = LogFormatKey, // json | simple | systemd: ASP.NET Core's console logger reads it
    };

    /// <summary>The console logger's formatter (<c>--log-format</c>): <c>json</c> (one JSON object a line, for log shippers), <c>simple</c> (default) or <c>systemd</c>.</summary>
    private const string LogFormatKey = "Logging:Console:FormatterName";

    private static readonly string[] LogFormats = ["json", "simple", "systemd"];

    /// <summary>
    /// The all-in-one host: a silo hosting the rooms (<see cref="RoomActorsSiloExtensions.UseRoomActorsSilo"/>) with the
    /// WebSocket gateway in the same process, <c>/rooms/{type}/{name}</c> and the demo page mapped. Rooms are the
    /// grain classes of every assembly the app references (with the <c>Microsoft.Orleans.Sdk</c> package).
    /// </summary>
    /// <param name="args">The command line (see <see cref="SwitchMappings"/>).</param>
    /// <param name="configure">Changes to the host before it is built, after the RoomActors services were added.</param>
    public static WebApplication BuildAllInOne(string[] args, Action<WebApplicationBuilder>? configure = null) =>
        AllInOne(CreateBuilder(args), configure);

    /// <summary>
    /// What <c>src/Silo</c> runs: the all-in-one host (<see cref="BuildAllInOne"/>) unless the silo joins a Redis
    /// cluster without <c>--urls</c>; then a silo without a web server.
    /// </summary>
    /// <param name="args">The command line (see <see cref="SwitchMappings"/>).</param>
    /// <param name="configure">Changes to the host before it is built, after the RoomActors services were added.</param>
    public static IHost BuildSilo(string[] args, Action<IHostApplicationBuilder>? configure = null)
    {
        var builder = CreateBuilder(args);
        if (builder.CoHostsGateway())
        {
            return AllInOne(builder, configure);
        }

        var options = builder.Configuration.GetRoomActorsOptions();
        if (options.ManagementUrls is { Length: > 0 } management)
        {
            // A pure silo with a management port: a web server with only the management endpoints.
            builder.WebHost.UseUrls(management);
            builder.UseRoomActorsSilo();
            builder.AddRoomActorsObservability();
            configure?.Invoke(builder);
            var app = builder.Build();
            app.MapRoomActorsManagement();
            return app;
        }

        var silo = CreateHeadlessBuilder(args);
        silo.UseRoomActorsSilo();
        silo.AddObservability(metrics: false); // traces only: there is no port to serve metrics on
        configure?.Invoke(silo);
        return silo.Build();
    }

    /// <summary>
    /// A standalone gateway: an Orleans client of the cluster (<see cref="RoomActorsClientExtensions.UseRoomActorsClient"/>)
    /// that holds WebSockets and routes them to the room grains, with <c>/rooms/{type}/{name}</c> and the demo page mapped.
    /// </summary>
    /// <param name="args">The command line (see <see cref="SwitchMappings"/>).</param>
    /// <param name="configure">Changes to the host before it is built, after the RoomActors services were added.</param>
    public static WebApplication BuildGateway(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = CreateBuilder(args);
        RejectManagementUrls(builder.Configuration);
        builder.UseRoomActorsClient();
        builder.Services.AddRoomActorsGateway();
        builder.AddRoomActorsObservability();
        configure?.Invoke(builder);
        return MapGateway(builder.Build());
    }

    /// <summary>
    /// A web application builder reading appsettings, <c>RoomActors__*</c> environment variables and the command line
    /// (with <see cref="SwitchMappings"/>). In the all-in-one mode (no Redis) it listens on
    /// <see cref="RoomActorsOptions.DefaultUrls"/> unless <c>--urls</c> says otherwise.
    /// </summary>
    public static WebApplicationBuilder CreateBuilder(string[] args)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args });
        builder.Configuration.AddCommandLine(args, SwitchMappings.ToDictionary());
        if (!HasUrls(builder.Configuration) && !builder.Configuration.GetRoomActorsOptions().IsDistributed)
        {
            builder.WebHost.UseUrls(RoomActorsOptions.DefaultUrls);
        }

        if (builder.Configuration[$"Logging:LogLevel:{HostingDiagnostics}"] is null)
        {
            // With request logging on, every request gets an Activity and a log scope, kept for as long as its socket
            // is open (about 1 KiB per idle connection). Off unless configured; a tracing listener still gets activities.
            builder.Logging.AddFilter(HostingDiagnostics, LogLevel.None);
        }

        QuietPolly(builder);
        if (builder.Configuration[$"Logging:LogLevel:{Gateway.Limits.ConnectionLimits.KestrelConnectionsCategory}"] is null)
        {
            // Kestrel warns once per connection it closes at MaxConcurrentConnections: a flood would be a flood of lines.
            // The gateway logs the count instead (event 2036, at most every 10 s); Kestrel's errors in this category stay.
            builder.Logging.AddFilter(Gateway.Limits.ConnectionLimits.KestrelConnectionsCategory, LogLevel.Error);
        }

        CheckLogFormat(builder.Configuration);
        return builder;
    }

    /// <summary>
    /// A host builder without a web server (a pure silo), reading the same configuration as <see cref="CreateBuilder"/>.
    /// </summary>
    public static HostApplicationBuilder CreateHeadlessBuilder(string[] args)
    {
        var builder = Host.CreateApplicationBuilder(args);
        builder.Configuration.AddCommandLine(args, SwitchMappings.ToDictionary());
        QuietPolly(builder);
        CheckLogFormat(builder.Configuration);
        return builder;
    }

    /// <summary><c>--log-format</c> names one of the console logger's formatters; anything else would fall back silently.</summary>
    private static void CheckLogFormat(IConfiguration configuration)
    {
        if (configuration[LogFormatKey] is { Length: > 0 } format && !LogFormats.Contains(format, StringComparer.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"--log-format ({LogFormatKey}) is '{format}'; use json (one JSON object a line, for log shippers), "
                + "simple (the default) or systemd.");
        }
    }

    /// <summary>A process with <c>--urls</c> serves the management endpoints there: a second port would be a mistake.</summary>
    private static void RejectManagementUrls(IConfiguration configuration)
    {
        if (!string.IsNullOrWhiteSpace(configuration[$"{RoomActorsOptions.Section}:{nameof(RoomActorsOptions.ManagementUrls)}"]))
        {
            throw new InvalidOperationException($"{RoomActorsOptions.Section}:{nameof(RoomActorsOptions.ManagementUrls)} (--management-urls) is for a "
                + $"silo without a web server (Redis mode, no --urls); this process serves {RoomActorsObservabilityExtensions.LivePath}, "
                + $"{RoomActorsObservabilityExtensions.ReadyPath} and {RoomActorsObservabilityExtensions.MetricsPath} on its --urls. Remove the setting.");
        }
    }

    /// <summary>
    /// Orleans' placement runs in a Polly resilience pipeline whose telemetry logs two lines under <c>Polly</c> at
    /// Information for every placement (every room activation); retries and failures are warnings. Warning unless configured.
    /// </summary>
    private static void QuietPolly(IHostApplicationBuilder builder)
    {
        if (builder.Configuration["Logging:LogLevel:Polly"] is null)
        {
            builder.Logging.AddFilter("Polly", LogLevel.Warning);
        }
    }

    /// <summary>True when <c>--urls</c> (or <c>ASPNETCORE_URLS</c>, or <c>urls</c> in appsettings) is set.</summary>
    public static bool HasUrls(IConfiguration configuration) => !string.IsNullOrEmpty(configuration["urls"]);

    /// <summary>The cluster settings of <paramref name="configuration"/>; throws <see cref="Microsoft.Extensions.Options.OptionsValidationException"/> naming any bad one.</summary>
    public static RoomActorsOptions GetRoomActorsOptions(this IConfiguration configuration) =>
        RoomActorsOptionsValidator.ThrowIfInvalid(Bind(configuration.GetSection(RoomActorsOptions.Section)));

    private static RoomActorsOptions Bind(IConfigurationSection section)
    {
        var options = section.Get<RoomActorsOptions>() ?? new RoomActorsOptions();
        if (section[nameof(RoomActorsOptions.ClientPort)] is null && section["GatewayPort"] is { } former && int.TryParse(former, out var port))
        {
            options.ClientPort = port; // RoomActors:GatewayPort, the former name of RoomActors:ClientPort
        }

        return options;
    }

    private static WebApplication AllInOne(WebApplicationBuilder builder, Action<WebApplicationBuilder>? configure)
    {
        RejectManagementUrls(builder.Configuration);
        builder.UseRoomActorsSilo();
        builder.Services.AddRoomActorsGateway();
        builder.AddRoomActorsObservability();
        configure?.Invoke(builder);
        return MapGateway(builder.Build());
    }

    private static WebApplication MapGateway(WebApplication app)
    {
        app.UseWebSockets();
        app.MapRoomActors();
        app.MapRoomActorsManagement(); // health, metrics and the operator endpoints
        return app;
    }
}
