using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using RoomActors.Tests.Infrastructure;

namespace RoomActors.Tests.Integration;

/// <summary>An upgraded socket leaves its HTTP request (RoomActors:Gateway:HandOverSockets) and is served the same.</summary>
public sealed class SocketHandoverTests
{
    /// <summary>Records the room requests that ended, with their status: the outermost middleware of the app.</summary>
    private sealed class EndedRequests : IStartupFilter
    {
        public ConcurrentQueue<(string Path, int Status)> Ended { get; } = new();

        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (context, inner) =>
            {
                await inner(context);
                if (context.Request.Path.StartsWithSegments("/rooms"))
                {
                    Ended.Enqueue((context.Request.Path.Value!, context.Response.StatusCode));
                }
            });
            next(app);
        };
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_socket_is_served_on_its_bare_connection_after_its_request_ended_or_under_it_when_turned_off(bool handOver)
    {
        var ended = new EndedRequests();
        await using var server = await AllInOneServer.StartAsync(
            builder => builder.Services.AddSingleton<IStartupFilter>(ended), $"--RoomActors:Gateway:HandOverSockets={handOver}");
        var name = "r-" + Guid.NewGuid().ToString("N")[..12];
        var clients = await TestClient.JoinRelayAsync([server.Room("broadcast", name), server.Room("broadcast", name)]);
        await using var first = clients[0];
        await using var second = clients[1];

        // Handed over, both upgrade requests have ended (101) while their sockets go on; else none has.
        await Task.Delay(200);
        Assert.Equal(handOver ? [101, 101] : [], ended.Ended.Where(e => e.Path == $"/rooms/broadcast/{name}").Select(e => e.Status));
        await first.SendAsync("after the request");
        Assert.Equal("after the request", await second.ReceiveTextAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal("after the request", await first.ReceiveTextAsync(TimeSpan.FromSeconds(5)));

        // A close handshake on the bare connection: the other client hears nothing more, the closer gets its close answered.
        await first.CloseAsync();
        await second.SendAsync("still here");
        Assert.Equal("still here", await second.ReceiveTextAsync(TimeSpan.FromSeconds(5)));
    }
}
