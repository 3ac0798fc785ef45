using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using RoomActors.Diagnostics;
using RoomActors.Gateway.Hosting;

namespace RoomActors.Hosting;

/// <summary>
/// What an operator looks at: health (<c>/health/live</c>, <c>/health/ready</c>), Prometheus metrics (<c>/metrics</c>)
/// and OpenTelemetry traces exported over OTLP. <see cref="RoomActorsHost"/> wires both into every host it builds.
/// </summary>
public static class RoomActorsObservabilityExtensions
{
    /// <summary>200 while the process runs.</summary>
    public const string LivePath = "/health/live";

    /// <summary>200 when the process can serve (joined to the cluster, Redis reachable), else 503; a JSON body names each check.</summary>
    public const string ReadyPath = "/health/ready";

    /// <summary>The metrics in Prometheus' text format.</summary>
    public const string MetricsPath = "/metrics";

    /// <summary>The meters exported at <see cref="MetricsPath"/> beside <see cref="RoomActorsDiagnostics.MeterName"/> and the runtime's.</summary>
    internal static readonly string[] ExportedMeters =
    [
        RoomActorsDiagnostics.MeterName,
        "Microsoft.Orleans",
        "Microsoft.AspNetCore.Hosting",
        "Microsoft.AspNetCore.Server.Kestrel",
    ];

    /// <summary>
    /// Most tag combinations one instrument keeps (OpenTelemetry's default, 2,000, allocates its points up front: about
    /// 15 MB for the meters above). Ours have a few per room type; Orleans' a few per grain type or silo.
    /// </summary>
    private const int MetricPointsPerInstrument = 200;

    /// <summary>
    /// Adds metrics and traces. Metrics: RoomActors' meter, Orleans' (<c>Microsoft.Orleans</c>), ASP.NET Core's and
    /// Kestrel's, and the .NET runtime's, for <see cref="MapRoomActorsManagement"/> to serve at <see cref="MetricsPath"/>.
    /// Traces: when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> or <c>OTEL_EXPORTER_OTLP_TRACES_ENDPOINT</c> is set (environment or
    /// configuration), the RoomActors spans, ASP.NET Core's requests and Orleans' grain calls go out over OTLP, configured
    /// by the standard <c>OTEL_*</c> variables; the service is named by <c>OTEL_SERVICE_NAME</c>, else
    /// <c>roomactors-silo</c> for a process that hosts rooms and <c>roomactors-gateway</c> for one that does not. Call it
    /// after <c>UseRoomActorsSilo</c> or <c>UseRoomActorsClient</c>.
    /// </summary>
    public static IHostApplicationBuilder AddRoomActorsObservability(this IHostApplicationBuilder builder) =>
        builder.AddObservability(metrics: true);

    /// <summary>The same, with or without metrics (a process without HTTP has nothing to serve them on).</summary>
    internal static IHostApplicationBuilder AddObservability(this IHostApplicationBuilder builder, bool metrics)
    {
        var silo = builder.Services.Any(s => s.ServiceType == typeof(GatewayLivenessCache)); // UseRoomActorsSilo registers it
        var serviceName = builder.Configuration["OTEL_SERVICE_NAME"] is { Length: > 0 } name ? name : silo ? "roomactors-silo" : "roomactors-gateway";
        var telemetry = builder.Services.AddOpenTelemetry().ConfigureResource(r => r.AddService(serviceName));
        if (metrics)
        {
            telemetry.WithMetrics(m => m
                .AddMeter(ExportedMeters)
                .AddView(_ => new MetricStreamConfiguration { CardinalityLimit = MetricPointsPerInstrument })
                .AddRuntimeInstrumentation()
                .AddPrometheusExporter());
        }

        if (TracingEnabled(builder.Configuration))
        {
            telemetry.WithTracing(t => t
                .AddSource(RoomActorsDiagnostics.ActivitySourceName, "Microsoft.Orleans.Application")
                .AddAspNetCoreInstrumentation()
                .AddOtlpExporter());
        }

        return builder;
    }

    /// <summary>True when an OTLP endpoint for traces is configured (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c> or <c>OTEL_EXPORTER_OTLP_TRACES_ENDPOINT</c>).</summary>
    internal static bool TracingEnabled(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"])
        || !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]);

    /// <summary>
    /// Maps the management endpoints: <see cref="LivePath"/>, <see cref="ReadyPath"/> (the health checks tagged
    /// <see cref="RoomActorsGatewayExtensions.ReadyTag"/>) and <see cref="MetricsPath"/> (needs
    /// <see cref="AddRoomActorsObservability"/>), open to anyone who reaches the port, as scrapers and probes expect (bind
    /// a pure silo's <c>RoomActors:ManagementUrls</c> to an internal network); and the operator endpoints under
    /// <c>/operator</c>, behind the operator key (<see cref="RoomActorsOperatorExtensions.MapRoomActorsOperator"/>). Every
    /// RoomActors host maps these, on its <c>--urls</c> or, for a pure silo, on its management URLs: the one place for
    /// what operators use.
    /// </summary>
    public static IEndpointRouteBuilder MapRoomActorsManagement(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapRoomActorsOperator();
        endpoints.MapHealthChecks(LivePath, new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteJsonAsync });
        endpoints.MapHealthChecks(ReadyPath, new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(RoomActorsGatewayExtensions.ReadyTag),
            ResponseWriter = WriteJsonAsync,
        });
        endpoints.MapPrometheusScrapingEndpoint(MetricsPath);
        return endpoints;
    }

    /// <summary>
    /// <c>{"status":"Unhealthy","checks":{"gateway":{"status":"Unhealthy","description":"no connection to any silo",
    /// "durationMs":0.1,"data":{…}}}}</c>.
    /// </summary>
    private static async Task WriteJsonAsync(HttpContext http, HealthReport report)
    {
        http.Response.ContentType = "application/json; charset=utf-8";
        http.Response.Headers.CacheControl = "no-store";
        var body = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(body))
        {
            WriteReport(json, report);
        }

        await http.Response.Body.WriteAsync(body.WrittenMemory, http.RequestAborted);
    }

    private static void WriteReport(Utf8JsonWriter json, HealthReport report)
    {
        json.WriteStartObject();
        json.WriteString("status", report.Status.ToString());
        json.WriteNumber("durationMs", Math.Round(report.TotalDuration.TotalMilliseconds, 1));
        json.WriteStartObject("checks");
        foreach (var (name, entry) in report.Entries)
        {
            json.WriteStartObject(name);
            json.WriteString("status", entry.Status.ToString());
            if (entry.Description is { } description)
            {
                json.WriteString("description", description);
            }

            if (entry.Exception is { } error)
            {
                json.WriteString("error", error.Message);
            }

            json.WriteNumber("durationMs", Math.Round(entry.Duration.TotalMilliseconds, 1));
            if (entry.Data.Count > 0)
            {
                json.WritePropertyName("data");
                JsonSerializer.Serialize(json, entry.Data);
            }

            json.WriteEndObject();
        }

        json.WriteEndObject();
        json.WriteEndObject();
    }
}
