using RoomActors.Gateway.Sockets;
using RoomActors.Tests.Infrastructure;
using RoomActors.Tests.Integration;

namespace RoomActors.Tests.Gateway;

/// <summary>
/// A client frame left unfinished and a peer that does not answer pings are closed within a bounded time (issue 13);
/// before, both held their sockets forever.
/// </summary>
public sealed class StalledPeerTests
{
    [Theory]
    [InlineData("header cut short", new byte[] { 0x81, 0x85, 0x01, 0x02 })]                 // 4 of a 6-byte header
    [InlineData("2^62 bytes declared, none sent", new byte[] { 0x82, 0xFF, 0x40, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4 })]
    [InlineData("payload cut short", new byte[] { 0x81, 0x85, 1, 2, 3, 4, 0x69 })]             // 1 of 5 bytes
    public async Task AnUnfinishedFrameIsAbortedAfterTheFrameTimeout(string what, byte[] bytes)
    {
        await using var server = await AllInOneServer.StartAsync("--RoomActors:Gateway:FrameTimeout=00:00:01", "--RoomActors:Gateway:KeepAliveInterval=00:00:00");
        var room = "stall-" + Guid.NewGuid().ToString("N")[..8];
        await using var client = await RawWebSocket.ConnectAsync(server.Room("it-relay", room));
        Assert.Equal(RawFrame.Text, (await client.ReadFrameAsync(TimeSpan.FromSeconds(10)))!.Opcode); // the welcome

        await client.SendAsync(bytes);
        var (close, _, elapsed) = await client.ReadUntilClosedAsync(TimeSpan.FromSeconds(8));
        Assert.Null(close); // aborted: no close frame after a broken frame
        Assert.InRange(elapsed, TimeSpan.FromSeconds(0.8), TimeSpan.FromSeconds(4));

        var (_, code, reason) = await ClosedAsync(room);
        Assert.True(code == CloseCodes.ProtocolError, $"{what}: the room heard {code} {reason}");
        Assert.Equal("frame not completed within 1 s", reason);
    }

    [Fact]
    public async Task FramesThatComeInPiecesWithinTheTimeoutPass()
    {
        await using var server = await AllInOneServer.StartAsync("--RoomActors:Gateway:FrameTimeout=00:00:02", "--RoomActors:Gateway:KeepAliveInterval=00:00:00");
        await using var client = await RawWebSocket.ConnectAsync(server.Room("echo", "pieces"));
        var frame = RawFrame.Encode(RawFrame.Text, "hello"u8);
        for (var round = 0; round < 3; round++)
        {
            // Byte by byte, 100 ms apart: 1.1 s per frame, 3.3 s in all, each frame within its 2 s.
            foreach (var b in frame)
            {
                await client.SendAsync([b]);
                await Task.Delay(100);
            }

            var echo = await client.ReadFrameAsync(TimeSpan.FromSeconds(5));
            Assert.Equal("hello", System.Text.Encoding.UTF8.GetString(echo!.Payload));
        }
    }

    [Fact]
    public async Task APeerThatDoesNotAnswerPingsIsAbortedAndTheRoomHears1006()
    {
        await using var server = await AllInOneServer.StartAsync("--RoomActors:Gateway:KeepAliveInterval=00:00:01", "--RoomActors:Gateway:KeepAliveTimeout=00:00:01");
        var room = "silent-" + Guid.NewGuid().ToString("N")[..8];

        // A client that reads (and so answers pings) stays.
        await using var healthy = await TestClient.ConnectAsync(server.Room("it-relay", room));
        await healthy.ReceiveTextAsync(); // welcome

        await using var silent = await RawWebSocket.ConnectAsync(server.Room("it-relay", room));
        var (close, before, elapsed) = await silent.ReadUntilClosedAsync(TimeSpan.FromSeconds(10));
        Assert.Null(close);
        Assert.Contains(before, f => f.Opcode == RawFrame.Ping);
        Assert.InRange(elapsed, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5)); // interval + timeout + the heartbeat's granularity

        var (id, code, _) = await ClosedAsync(room);
        Assert.Equal(CloseCodes.Abnormal, code);

        await Task.Delay(TimeSpan.FromSeconds(2)); // two more pings the healthy client answers
        await healthy.SendAsync("still here");
        await healthy.SkipUntilAsync("still here"); // relayed back: the healthy client was kept
        Assert.DoesNotContain(RecordingRelayRoom.ClosesOf(room), c => c.Id != id);
    }

    private static async Task<(string Id, int Code, string Reason)> ClosedAsync(string room)
    {
        for (var i = 0; i < 100; i++)
        {
            if (RecordingRelayRoom.ClosesOf(room) is [var close, ..])
            {
                return close;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"room {room} heard no close within 10 s");
    }
}
