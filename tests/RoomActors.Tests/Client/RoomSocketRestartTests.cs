using RoomActors.Tests.Distributed;
using RoomActors.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RoomActors.Tests.Client;

using RoomActors.Client;

/// <summary>
/// <see cref="RoomSocket"/> against a real all-in-one process that is killed and started again on the same port: the
/// room forgot the connection, so the socket must resync (not wait in silence), and what it buffered meanwhile is sent
/// on the fresh connection.
/// </summary>
[Collection(DistributedCollection.Name)]
public sealed class RoomSocketRestartTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_restarted_server_resyncs_the_socket_and_the_offline_buffer_is_bounded_then_sent()
    {
        var url = new Uri($"http://127.0.0.1:{FreePort.Next()}");
        var node = await StartAsync(url);
        try
        {
            var options = RoomSocketServerTests.Options(node.WebSocket!, "echo", RoomSocketServerTests.NewName());
            options.MaxBufferedMessages = 5;
            await using var socket = new RoomSocket(options);
            var resynced = new TaskCompletionSource<RoomResyncedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
            socket.Resynced += (_, e) => resynced.TrySetResult(e);
            await socket.ConnectAsync().WaitAsync(Timeout);
            var first = socket.ConnectionId;
            await socket.SendAsync("before").WaitAsync(Timeout);

            await node.KillAsync();
            await WaitForStateAsync(socket, RoomSocketState.Reconnecting);
            var buffered = Enumerable.Range(1, 5).Select(i => socket.SendAsync($"offline {i}")).ToList();
            var full = await Assert.ThrowsAsync<RoomBufferFullException>(() => socket.SendAsync("offline 6"));
            Assert.Equal(5, full.Limit);

            var opened = RoomSocketServerTests.OpenedAsync(socket);
            await node.DisposeAsync();
            node = await StartAsync(url);
            var resync = await resynced.Task.WaitAsync(Timeout);
            output.WriteLine($"resynced with {resync.Code} {resync.Reason}");
            Assert.True(resync.Code is 4403 or 4410, $"resynced with {resync.Code} {resync.Reason}");
            Assert.False(await opened.WaitAsync(Timeout), "a fresh connection (welcome)");
            Assert.NotEqual(first, socket.ConnectionId);

            var acks = await Task.WhenAll(buffered).WaitAsync(Timeout); // never written before: sent on the new connection
            Assert.Equal([1L, 2, 3, 4, 5], acks.Select(a => a.Id));
            var echoed = await RoomSocketServerTests.TakeAsync(socket, 6);
            Assert.Equal(["before", "offline 1", "offline 2", "offline 3", "offline 4", "offline 5"], echoed.Select(m => m.Text));
        }
        finally
        {
            await node.DisposeAsync();
        }
    }

    private static Task<NodeProcess> StartAsync(Uri url) => NodeProcess.StartAsync("Silo", "all-in-one", url,
        "--silo-port", FreePort.Next().ToString(), "--client-port", FreePort.Next().ToString());

    private static async Task WaitForStateAsync(RoomSocket socket, RoomSocketState state)
    {
        for (var i = 0; i < 200 && socket.State != state; i++)
        {
            await Task.Delay(50);
        }

        Assert.Equal(state, socket.State);
    }
}
