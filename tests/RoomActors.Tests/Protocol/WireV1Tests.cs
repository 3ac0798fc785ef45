using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using RoomActors.Gateway.Sockets;

namespace RoomActors.Tests.Protocol;

/// <summary>The gateway's reading of <c>roomactors.v1</c> client frames and resume queries.</summary>
public sealed class WireV1Tests
{
    private static Payload Text(string text) => new(true, Encoding.UTF8.GetBytes(text));

    [Theory]
    [InlineData("m\nhello", 0, "hello")]
    [InlineData("m 7\nhello", 7, "hello")]
    [InlineData("m 9007199254740991\n", 9007199254740991, "")]
    [InlineData("m", 0, "")]
    [InlineData("m 3", 3, "")]
    [InlineData("m 1\nline\nbreaks stay", 1, "line\nbreaks stay")]
    public void Client_frames_that_follow_the_grammar_are_read(string frame, long id, string payload)
    {
        Assert.True(WireV1.TryParseClientFrame(Text(frame), out var read, out var clientId));
        Assert.Equal(id, clientId);
        Assert.Equal(payload, Encoding.UTF8.GetString(read.Data));
        Assert.True(read.IsText);
    }

    [Theory]
    [InlineData("hello")]
    [InlineData("")]
    [InlineData("m 0\nx")]
    [InlineData("m -1\nx")]
    [InlineData("m 9007199254740992\nx")]
    [InlineData("m 12a\nx")]
    [InlineData("m  1\nx")]
    [InlineData("mm\nx")]
    [InlineData("ack 1 2")]
    public void Anything_else_is_refused(string frame) =>
        Assert.False(WireV1.TryParseClientFrame(Text(frame), out _, out _));

    [Fact]
    public void A_binary_frame_keeps_its_type_and_bytes()
    {
        byte[] frame = [.. "m 2\n"u8, 0, 255, 10, 1];
        Assert.True(WireV1.TryParseClientFrame(new Payload(false, frame), out var read, out var id));
        Assert.Equal(2, id);
        Assert.False(read.IsText);
        Assert.Equal(new byte[] { 0, 255, 10, 1 }, read.Data);
    }

    [Fact]
    public void Resume_queries_are_read_or_say_what_is_wrong()
    {
        static ResumeTicket? Read(string query) => WireV1.ReadResume(new QueryCollection(Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(query)));

        Assert.Null(Read("?name=ann"));
        var ok = Read("?resume=abc.SECRET_-x&seq=42")!;
        Assert.Equal(("abc", "SECRET_-x", 42L, (string?)null), (ok.ConnectionId, ok.Secret, ok.Seq, ok.Error));
        Assert.StartsWith("resume refused: malformed token", Read("?resume=nodot&seq=1")!.Error);
        Assert.StartsWith("resume refused: malformed token", Read("?resume=a.b%20c&seq=1")!.Error);
        Assert.StartsWith("resume refused: seq", Read("?resume=a.b")!.Error);
        Assert.StartsWith("resume refused: seq", Read("?resume=a.b&seq=-3")!.Error);
    }

    [Theory]
    [InlineData(1000, false, false)]
    [InlineData(4001, false, false)]
    [InlineData(1001, false, true)]
    [InlineData(1006, false, true)]
    [InlineData(1001, true, true)]
    [InlineData(1012, true, true)]
    [InlineData(1008, true, false)]
    [InlineData(1009, true, false)]
    [InlineData(1002, true, false)]
    public void Who_may_resume(int code, bool byServer, bool mayResume) => Assert.Equal(mayResume, WireV1.MayResume(code, byServer));

    [Fact]
    public void Server_frames_have_the_documented_shape()
    {
        Assert.Equal("welcome 5\n{\"connection\":\"c1\",\"token\":\"c1.s\",\"resumeWindowSeconds\":120}", Encoding.UTF8.GetString(WireV1.Welcome("c1", "s", 5, 120).Payload.Data));
        Assert.Equal("resumed 9\n{\"connection\":\"c1\",\"replayed\":2}", Encoding.UTF8.GetString(WireV1.Resumed("c1", 9, 2).Payload.Data));
        Assert.Equal("ack 3 9", Encoding.UTF8.GetString(WireV1.Ack(3, 9).Payload.Data));
        var frame = OutboundFrame.Enveloped(new Payload(false, [1, 2]), 12);
        Assert.Equal([.. "m 12\n"u8, 1, 2], frame.Body);
        Assert.Equal(0x82, frame.Encoded[0]); // binary stays binary
        Assert.Equal(frame.Length, frame.Encoded[1]);
    }
}
