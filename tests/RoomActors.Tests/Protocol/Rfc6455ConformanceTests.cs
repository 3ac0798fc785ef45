using System.Diagnostics;
using System.Text;
using RoomActors.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RoomActors.Tests.Protocol;

/// <summary>
/// The Autobahn cases that matter, as a table, over raw TCP against a real gateway: framing, fragmentation, UTF-8,
/// control frames, oversize, and the close handshake. Each row sends its bytes to the echo room and expects either
/// frames back or the server's close code, within a bound. Run on both server sockets: the gateway's own on a
/// handed-over connection (<see cref="Rfc6455ConformanceTests"/>, the default), and .NET's under the request with the
/// hand-written accept and the coalescing writer (<see cref="Rfc6455ConformanceUnderRequestTests"/>).
/// </summary>
public abstract class Rfc6455Table(Rfc6455Table.Server server, ITestOutputHelper output)
{
    /// <summary>How long a row may take for the server's answer (its close frame or its frames).</summary>
    private static readonly TimeSpan AnswerBound = TimeSpan.FromSeconds(2);

    /// <summary>The gateway's close timeout here: a client that does not answer the server's close is aborted after it.</summary>
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(1);

    /// <summary>How long the server may take to end the TCP connection after its close frame, without the client's answer.</summary>
    private static readonly TimeSpan EndBound = CloseTimeout + TimeSpan.FromSeconds(2);

    private const int MaxMessageBytes = 1024;

    /// <param name="Send">The client's bytes, in order.</param>
    /// <param name="Close">The close code the server must send, or null when it must answer with <paramref name="Frames"/>.</param>
    /// <param name="Frames">The frames the server must send (opcode, payload), in order, when it does not close.</param>
    public sealed record Case(byte[][] Send, int? Close, (int Opcode, byte[] Payload)[]? Frames = null);

    private static byte[] F(int opcode, string text, bool fin = true, bool masked = true, int rsv = 0) =>
        RawFrame.Encode(opcode, Encoding.UTF8.GetBytes(text), fin, masked, rsv);

    private static byte[] F(int opcode, byte[] payload, bool fin = true) => RawFrame.Encode(opcode, payload, fin);

    private static byte[] CloseFrame(int code, string reason = "") => F(RawFrame.Close, RawFrame.ClosePayload(code, reason));

    private static (int, byte[]) Text(string text) => (RawFrame.Text, Encoding.UTF8.GetBytes(text));

    public static readonly Dictionary<string, Case> Cases = new()
    {
        // Framing (Autobahn 1.x, 2.x, 3.x, 4.x)
        ["text echoed"] = new([F(RawFrame.Text, "hello")], null, [Text("hello")]),
        ["binary echoed"] = new([F(RawFrame.Binary, [0, 1, 2, 255])], null, [(RawFrame.Binary, [0, 1, 2, 255])]),
        ["empty text echoed"] = new([F(RawFrame.Text, "")], null, [Text("")]),
        ["7-bit and 16-bit lengths"] = new([F(RawFrame.Binary, new byte[125]), F(RawFrame.Binary, new byte[126])], null,
            [(RawFrame.Binary, new byte[125]), (RawFrame.Binary, new byte[126])]),
        ["unmasked client frame"] = new([F(RawFrame.Text, "hi", masked: false)], 1002),
        ["RSV1 set"] = new([F(RawFrame.Text, "hi", rsv: 4)], 1002),
        ["RSV2 set"] = new([F(RawFrame.Text, "hi", rsv: 2)], 1002),
        ["RSV3 set"] = new([F(RawFrame.Text, "hi", rsv: 1)], 1002),
        ["RSV on a ping"] = new([F(RawFrame.Ping, "p", rsv: 7)], 1002),
        ["opcode 3"] = new([F(3, "x")], 1002),
        ["opcode 4"] = new([F(4, "x")], 1002),
        ["opcode 5"] = new([F(5, "x")], 1002),
        ["opcode 6"] = new([F(6, "x")], 1002),
        ["opcode 7"] = new([F(7, "x")], 1002),
        ["opcode 11"] = new([F(11, "x")], 1002),
        ["opcode 12"] = new([F(12, "x")], 1002),
        ["opcode 13"] = new([F(13, "x")], 1002),
        ["opcode 14"] = new([F(14, "x")], 1002),
        ["opcode 15"] = new([F(15, "x")], 1002),
        ["reserved opcode after a good frame"] = new([F(RawFrame.Text, "ok"), F(5, "x")], 1002),

        // Fragmentation (Autobahn 5.x)
        ["fragments reassembled"] = new([F(RawFrame.Text, "hel", fin: false), F(RawFrame.Continuation, "lo")], null, [Text("hello")]),
        ["fragments, empty ones included"] = new([F(RawFrame.Text, "", fin: false), F(RawFrame.Continuation, "a", fin: false),
            F(RawFrame.Continuation, "")], null, [Text("a")]),
        ["continuation without a start"] = new([F(RawFrame.Continuation, "x")], 1002),
        ["final continuation without a start"] = new([F(RawFrame.Continuation, "x", fin: false)], 1002),
        ["text inside a fragmented message"] = new([F(RawFrame.Text, "a", fin: false), F(RawFrame.Text, "b")], 1002),
        ["binary inside a fragmented message"] = new([F(RawFrame.Binary, "a", fin: false), F(RawFrame.Binary, "b")], 1002),
        ["ping between fragments answered"] = new([F(RawFrame.Text, "hel", fin: false), F(RawFrame.Ping, "p"), F(RawFrame.Continuation, "lo")],
            null, [(RawFrame.Pong, "p"u8.ToArray()), Text("hello")]),
        ["pong between fragments ignored"] = new([F(RawFrame.Text, "hel", fin: false), F(RawFrame.Pong, "x"), F(RawFrame.Continuation, "lo")],
            null, [Text("hello")]),

        // UTF-8 (Autobahn 6.x)
        ["invalid UTF-8"] = new([F(RawFrame.Text, [0xC3, 0x28])], 1007),
        ["overlong UTF-8"] = new([F(RawFrame.Text, [0xC0, 0xAF])], 1007),
        ["UTF-16 surrogate in UTF-8"] = new([F(RawFrame.Text, [0xED, 0xA0, 0x80])], 1007),
        ["invalid UTF-8 split across fragments"] = new([F(RawFrame.Text, [0xE2, 0x82], fin: false), F(RawFrame.Continuation, [0x28])], 1007),
        ["valid UTF-8 split across fragments"] = new([F(RawFrame.Text, [0xE2, 0x82], fin: false), F(RawFrame.Continuation, [0xAC])],
            null, [Text("€")]),
        ["truncated UTF-8 at the end of a message"] = new([F(RawFrame.Text, [0x61, 0xE2, 0x82])], 1007),
        ["invalid UTF-8 in binary is fine"] = new([F(RawFrame.Binary, [0xC3, 0x28])], null, [(RawFrame.Binary, [0xC3, 0x28])]),

        // Control frames (Autobahn 2.x, 7.x)
        ["ping answered with its payload"] = new([F(RawFrame.Ping, "abc")], null, [(RawFrame.Pong, "abc"u8.ToArray())]),
        ["ping with 125 bytes answered"] = new([F(RawFrame.Ping, new byte[125])], null, [(RawFrame.Pong, new byte[125])]),
        ["ping with 126 bytes"] = new([F(RawFrame.Ping, new byte[126])], 1002),
        ["fragmented ping"] = new([F(RawFrame.Ping, "p", fin: false)], 1002),
        ["close with 126 bytes"] = new([F(RawFrame.Close, [0x03, 0xE8, .. new byte[124]])], 1002),
        ["close with a 1-byte payload"] = new([F(RawFrame.Close, [0x03])], 1002),
        ["close code 0"] = new([CloseFrame(0)], 1002),
        ["close code 999"] = new([CloseFrame(999)], 1002),
        ["close code 1004"] = new([CloseFrame(1004)], 1002),
        ["close code 1005"] = new([CloseFrame(1005)], 1002),
        ["close code 1006"] = new([CloseFrame(1006)], 1002),
        ["close code 1015"] = new([CloseFrame(1015)], 1002),
        ["close code 1016"] = new([CloseFrame(1016)], 1002),
        ["close code 2999"] = new([CloseFrame(2999)], 1002),
        ["close code 5000"] = new([CloseFrame(5000)], 1002),
        ["close code 65535"] = new([CloseFrame(65535)], 1002),
        // Autobahn 7.5.1 wants the connection failed; .NET's socket fails it with 1002 (1007 would name the cause).
        ["close reason not UTF-8"] = new([F(RawFrame.Close, [0x03, 0xE8, 0xC3, 0x28])], 1002),

        // Close handshake (Autobahn 7.x): echoed, then the server ends the connection
        ["close 1000 echoed"] = new([CloseFrame(1000, "bye")], 1000),
        ["close without a code answered with 1000"] = new([F(RawFrame.Close, [])], 1000),
        ["close 1001 echoed"] = new([CloseFrame(1001)], 1001),
        ["close 3000 echoed"] = new([CloseFrame(3000)], 3000),
        ["close 4999 echoed"] = new([CloseFrame(4999)], 4999),
        ["close after a fragment"] = new([F(RawFrame.Text, "a", fin: false), CloseFrame(1000)], 1000),

        // Size (Autobahn 9.x, with the gateway's limit)
        ["message over the limit"] = new([F(RawFrame.Binary, new byte[MaxMessageBytes + 1])], 1009),
        ["fragments over the limit"] = new([F(RawFrame.Binary, new byte[MaxMessageBytes / 2 + 1], fin: false),
            F(RawFrame.Continuation, new byte[MaxMessageBytes / 2 + 1])], 1009),
        ["64-bit length over the limit"] = new([F(RawFrame.Binary, new byte[65536])], 1009),
        ["header declaring 2^62 bytes, nothing after it"] = new([[0x82, 0xFF, 0x40, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4]], 1009),
        ["header declaring 2^16 bytes, nothing after it"] = new([[0x82, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4]], 1009),
        ["unmasked header only"] = new([[0x81, 0x05]], 1002),
        ["message at the limit echoed"] = new([F(RawFrame.Binary, new byte[MaxMessageBytes])], null, [(RawFrame.Binary, new byte[MaxMessageBytes])]),
    };

    public static IEnumerable<object[]> CaseNames => Cases.Keys.Select(name => new object[] { name });

    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task Row(string name)
    {
        var row = Cases[name];
        await using var client = await RawWebSocket.ConnectAsync(server.Instance.Room("echo", "rfc6455"));
        var clock = Stopwatch.StartNew();
        foreach (var bytes in row.Send)
        {
            await client.SendAsync(bytes);
        }

        if (row.Close is { } expected)
        {
            var (close, before, elapsed) = await client.ReadUntilClosedAsync(AnswerBound);
            output.WriteLine($"{name}: close {close?.CloseCode} after {elapsed.TotalMilliseconds:0} ms, frames before: {before.Count}");
            Assert.NotNull(close);
            Assert.Equal(expected, close!.CloseCode);
            Assert.InRange(elapsed, TimeSpan.Zero, AnswerBound);

            // The server ends the connection after its close frame (bounded), whether or not the client answers.
            var end = Stopwatch.StartNew();
            Assert.True(await client.EndsWithinAsync(EndBound), $"{name}: the connection was still open {EndBound} after the close frame");
            output.WriteLine($"{name}: connection ended {end.ElapsedMilliseconds} ms after the close frame");
            return;
        }

        foreach (var (opcode, payload) in row.Frames!)
        {
            var frame = await client.ReadFrameAsync(AnswerBound - clock.Elapsed > TimeSpan.Zero ? AnswerBound - clock.Elapsed : TimeSpan.FromMilliseconds(1));
            Assert.NotNull(frame);
            Assert.Equal((opcode, Convert.ToHexString(payload)), (frame!.Opcode, Convert.ToHexString(frame.Payload)));
            Assert.True(frame.Fin);
        }

        output.WriteLine($"{name}: answered in {clock.ElapsedMilliseconds} ms");
    }

    /// <summary>One all-in-one host for the table, with a small message limit.</summary>
    public abstract class Server : IAsyncLifetime
    {
        public AllInOneServer Instance { get; private set; } = null!;

        /// <summary>More settings for the host.</summary>
        protected virtual string[] Settings => [];

        public async Task InitializeAsync() =>
            Instance = await AllInOneServer.StartAsync([$"--RoomActors:Gateway:MaxMessageBytes={MaxMessageBytes}", $"--RoomActors:Gateway:CloseTimeout={CloseTimeout}", .. Settings]);

        public async Task DisposeAsync() => await Instance.DisposeAsync();
    }
}

/// <summary>The table on the default host: the gateway's own socket on the handed-over connection.</summary>
public sealed class Rfc6455ConformanceTests(Rfc6455ConformanceTests.HandedOver server, ITestOutputHelper output)
    : Rfc6455Table(server, output), IClassFixture<Rfc6455ConformanceTests.HandedOver>
{
    /// <summary>The host as it comes.</summary>
    public sealed class HandedOver : Server;
}

/// <summary>The same table with every socket under its request: .NET's server socket over the gateway's coalescing stream.</summary>
public sealed class Rfc6455ConformanceUnderRequestTests(Rfc6455ConformanceUnderRequestTests.UnderRequest server, ITestOutputHelper output)
    : Rfc6455Table(server, output), IClassFixture<Rfc6455ConformanceUnderRequestTests.UnderRequest>
{
    /// <summary>The host with <c>HandOverSockets</c> off.</summary>
    public sealed class UnderRequest : Server
    {
        protected override string[] Settings => ["--RoomActors:Gateway:HandOverSockets=false"];
    }
}
