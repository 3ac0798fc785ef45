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
    [InlineData("200 bytes declared, none sent", new byte[] { 0x82, 0xFE, 0x00, 0xC8, 1, 2, 3, 4 })]
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
        for (var round = 0; round < 2; round++)
        {
            // Byte by byte, 100 ms apart: 1.1 s per frame, 2.2 s in all (more than the timeout), each frame within its 2 s.
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

/// <summary>The frame follower under the gateway's reads: a table of byte streams and what it sees.</summary>
public sealed class FrameClockTests
{
    [Theory]
    [InlineData("", false, "None")]
    [InlineData("81", true, "None")]                          // first byte of a header
    [InlineData("8185", true, "None")]                        // masked, 5 bytes: 4 mask bytes to come
    [InlineData("818501020304", true, "None")]                // header in, payload to come
    [InlineData("81850102030461626364", true, "None")]        // one payload byte to come
    [InlineData("8185010203046162636465", false, "None")]     // complete
    [InlineData("818001020304", false, "None")]               // empty payload: complete with the header
    [InlineData("8102", true, "Unmasked")]                    // unmasked: seen at the second byte
    [InlineData("82FE00C801020304", true, "None")]            // 16-bit length 200, no payload yet
    [InlineData("82FE040101020304", true, "TooBig")]          // 16-bit length 1025 > 1024, seen with the header
    [InlineData("82FF400000000000000001020304", true, "TooBig")] // 2^62
    [InlineData("89850102030401020304FF", false, "None")]     // a ping is not counted as a message
    public void Frames(string hex, bool inFrame, string violation)
    {
        var clock = new FrameClock();
        Assert.Equal(Enum.Parse<FrameViolation>(violation), clock.Advance(Convert.FromHexString(hex), now: 7, maxMessageBytes: 1024));
        Assert.Equal(inFrame, clock.InFrame);
        if (inFrame)
        {
            Assert.Equal(7, clock.StartedAt);
        }
    }

    [Fact]
    public void FragmentsAddUpAndBytesMayComeOneByOne()
    {
        var clock = new FrameClock();
        byte[] first = [0x02, 0xFE, 0x02, 0x00, 1, 2, 3, 4, .. new byte[512]];     // 512 bytes, not final
        byte[] second = [0x80, 0xFE, 0x02, 0x01, 1, 2, 3, 4];                     // 513 more: 1025 in all
        var now = 0;
        foreach (var b in first)
        {
            Assert.Equal(FrameViolation.None, clock.Advance([b], now++, 1024));
        }

        Assert.False(clock.InFrame);
        Assert.Equal(FrameViolation.TooBig, clock.Advance(second, 1000, 1024));
        Assert.Equal(1000, clock.StartedAt);
    }
}
