using System.Collections.Concurrent;
using System.Diagnostics;
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
