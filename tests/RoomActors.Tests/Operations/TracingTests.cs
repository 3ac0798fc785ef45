using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using RoomActors.Diagnostics;
using RoomActors.Tests.Infrastructure;
using RoomActors.Tests.Integration;

namespace RoomActors.Tests.Operations;

/// <summary>
/// The RoomActors spans, as an <see cref="ActivityListener"/> (what OpenTelemetry's tracing attaches) sees them on a real
/// all-in-one host: a connect on the gateway, from the upgrade to the room's answer; the room's turns on the silo; an
/// HTTP request forwarded to a room.
/// </summary>
public sealed class TracingTests
{
    [Fact]
    public async Task A_listener_sees_the_connect_the_turns_and_the_http_request_of_a_room()
    {
        var room = "t-" + Guid.NewGuid().ToString("N")[..12];
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == RoomActorsDiagnostics.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.GetTagItem("roomactors.room.name") as string == room)
                {
                    spans.Enqueue(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);

        await using var server = await AllInOneServer.StartAsync();
        await using (var client = await TestClient.ConnectAsync(server.Room("counter", room)))
        {
            await client.SendAsync("inc");
            Assert.Equal("1", await client.ReceiveTextAsync());
        }

        using var http = new HttpClient();
        Assert.Equal("1", await http.GetStringAsync(new Uri(server.Http, $"/rooms/counter/{room}")));

        await GatewayTests.Eventually(() => spans.Any(s => s.OperationName == "roomactors.turn" && Kind(s) == "http"));
        var connect = Assert.Single(spans, s => s.OperationName == "roomactors.connect");
        Assert.Equal("counter", connect.GetTagItem("roomactors.room.type"));
        Assert.Equal("raw", connect.GetTagItem("roomactors.protocol"));
        Assert.Equal(ActivityStatusCode.Unset, connect.Status);
        Assert.Single(spans, s => s.OperationName == "roomactors.http");

        // The connect span, from the upgrade to the room's answer, covers the room's connect turn.
        var connectTurn = Assert.Single(spans, s => s.OperationName == "roomactors.turn" && Kind(s) == "connect");
        Assert.InRange(connectTurn.StartTimeUtc, connect.StartTimeUtc, connect.StartTimeUtc + connect.Duration);
        Assert.True(connectTurn.StartTimeUtc + connectTurn.Duration <= connect.StartTimeUtc + connect.Duration);
        Assert.Contains(spans, s => s.OperationName == "roomactors.turn" && Kind(s) == "message");

        static string? Kind(Activity span) => span.GetTagItem("roomactors.turn.kind") as string;
    }
}

/// <summary>
/// With <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> set, a host exports its spans over OTLP (HTTP/protobuf here) to that collector:
/// a stand-in collector on loopback receives the connect and turn spans, under the silo's service name.
/// </summary>
public sealed class OtlpExportTests
{
    [Fact]
    public async Task Spans_go_to_the_collector_named_by_the_standard_environment_variables()
    {
        var received = new ConcurrentQueue<byte[]>();
        var collector = WebApplication.CreateSlimBuilder();
        collector.WebHost.UseUrls("http://127.0.0.1:0");
        collector.Logging.ClearProviders();
        await using var collectorApp = collector.Build();
        collectorApp.MapPost("/v1/traces", async (Microsoft.AspNetCore.Http.HttpContext http) =>
        {
            using var body = new MemoryStream();
            await http.Request.Body.CopyToAsync(body);
            received.Enqueue(body.ToArray());
            http.Response.ContentType = "application/x-protobuf"; // an empty ExportTraceServiceResponse
        });
        var endpoint = await AllInOneServer.StartAsync(collectorApp);

        var room = "o-" + Guid.NewGuid().ToString("N")[..12];
        var server = await AllInOneServer.StartAsync(
            $"--OTEL_EXPORTER_OTLP_ENDPOINT={endpoint.ToString().TrimEnd('/')}",
            "--OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf");
        try
        {
            await using var client = await TestClient.ConnectAsync(server.Room("counter", room));
            await client.SendAsync("inc");
            Assert.Equal("1", await client.ReceiveTextAsync());
        }
        finally
        {
            await server.DisposeAsync(); // the tracer provider flushes what it holds
        }

        var exported = string.Join('\n', received.Select(b => System.Text.Encoding.UTF8.GetString(b)));
        Assert.Contains(room, exported); // the room name tag of our spans
        Assert.Contains("roomactors.connect", exported);
        Assert.Contains("roomactors.turn", exported);
        Assert.Contains("roomactors-silo", exported); // service.name
    }
}
