using System.Text;

namespace RoomActors.Tests.Client;

using RoomActors.Client;
using RoomActors.Client.Internal;

/// <summary>The client's pure pieces, without a server: frame grammar, last seen number, backoff, close codes, URL.</summary>
public sealed class ProtocolLogicTests
{
    [Theory]
    [InlineData("m 7\nhello", "Message", 7, 0, "hello")]
    [InlineData("m 7", "Message", 7, 0, "")]
    [InlineData("m 9007199254740991\n", "Message", 9007199254740991, 0, "")]
    [InlineData("m 7\n\nline\n", "Message", 7, 0, "\nline\n")]
    [InlineData("ack 3 12", "Ack", 12, 3, "")]
    [InlineData("ack 3 12 later-field", "Ack", 12, 3, "")]
    [InlineData("welcome 5\n{}", "Welcome", 5, 0, "{}")]
    [InlineData("resumed 40\n{}", "Resumed", 40, 0, "{}")]
    [InlineData("pong", "Unknown", 0, 0, "")]
    [InlineData("", "Unknown", 0, 0, "")]
    [InlineData("mm 1\nx", "Unknown", 0, 0, "x")]
    public void Frames_parse_into_kind_numbers_and_body(string frame, string kind, long seq, long id, string body)
    {
        var bytes = Encoding.UTF8.GetBytes(frame);
        Assert.True(WireFormat.TryParse(bytes, out var parsed, out var error), error);
        Assert.Equal(kind, parsed.Kind.ToString());
        Assert.Equal(seq, parsed.Seq);
        Assert.Equal(id, parsed.Id);
        Assert.Equal(body, Encoding.UTF8.GetString(bytes.AsSpan(parsed.BodyStart)));
    }

    [Theory]
    [InlineData("m\nx")]            // a room message without its number
    [InlineData("m x\n")]
    [InlineData("m -1")]
    [InlineData("m 1.5")]
    [InlineData("m 9007199254740992")] // 2^53: above the limit
    [InlineData("m 12345678901234567")]
    [InlineData("ack 3")]
    [InlineData("ack 0 5")]         // client ids are positive
    [InlineData("welcome\n{}")]
    [InlineData("resumed abc")]
    public void Known_kinds_with_bad_fields_are_protocol_errors(string frame)
    {
        Assert.False(WireFormat.TryParse(Encoding.UTF8.GetBytes(frame), out _, out var error));
        Assert.Contains("roomactors.v1", error);
    }

    [Fact]
    public void Binary_bodies_keep_every_byte()
    {
        byte[] payload = [0, 10, 255, 10, 13, 32];
        var frame = "m 42\n"u8.ToArray().Concat(payload).ToArray();
        Assert.True(WireFormat.TryParse(frame, out var parsed, out _));
        Assert.Equal(payload, frame[parsed.BodyStart..]);
    }

    [Fact]
    public void Client_messages_are_m_id_lf_payload()
    {
        Assert.Equal("m 1\nhi", Encoding.UTF8.GetString(WireFormat.EncodeMessage(1, "hi"u8)));
        Assert.Equal("m 9007199254740991\n", Encoding.UTF8.GetString(WireFormat.EncodeMessage(WireFormat.MaxNumber, [])));
        Assert.Equal("m 12\n\0\n"u8.ToArray(), WireFormat.EncodeMessage(12, [0, 10]));
    }

    [Theory]
    [InlineData("""{"connection":"c-1","token":"t","resumeWindowSeconds":120}""", "c-1", "t", 0)]
    [InlineData("""{"connection":17,"token":"t"}""", "17", "t", 0)]
    [InlineData("""{"connection":"c-1","replayed":4}""", "c-1", null, 4)]
    [InlineData("""{"connection":"c-1","token":""}""", "c-1", null, 0)]
    public void Handshake_bodies_give_connection_token_and_replay_count(string json, string connection, string? token, long replayed)
    {
        Assert.True(WireFormat.TryParseHandshake(Encoding.UTF8.GetBytes(json), out var handshake));
        Assert.Equal(new Handshake(connection, token, replayed), handshake);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("""{"token":"t"}""")]
    [InlineData("""{"connection":null}""")]
    public void Handshake_bodies_without_a_connection_are_refused(string json) =>
        Assert.False(WireFormat.TryParseHandshake(Encoding.UTF8.GetBytes(json), out _));

    [Fact]
    public void Last_seq_follows_welcome_messages_and_acks()
    {
        var seq = new SeqTracker();
        Assert.Null(seq.LastSeq);
        seq.OnWelcome(10);
        Assert.Equal(10, seq.LastSeq);
        seq.OnMessage(12);
        Assert.Equal(12, seq.LastSeq);
        seq.OnAck(15); // the room's number when the turn ended: messages 13-15 were for others
        Assert.Equal(15, seq.LastSeq);
    }

    [Fact]
    public void Last_seq_of_a_resume_reaches_its_seq_only_after_the_replayed_frames()
    {
        var seq = new SeqTracker();
        seq.OnWelcome(1);
        seq.OnResumed(20, replayed: 2);
        Assert.Equal(1, seq.LastSeq); // nothing replayed yet: a drop now resumes from 1 again
        seq.OnMessage(5);
        Assert.Equal(5, seq.LastSeq);
        seq.OnMessage(9);
        Assert.Equal(20, seq.LastSeq); // the last replayed frame: everything up to the resumed SEQ is seen
        seq.OnMessage(21);
        Assert.Equal(21, seq.LastSeq);
    }

    [Fact]
    public void Last_seq_of_a_resume_without_replay_is_its_seq_at_once_and_a_cut_replay_stays_where_it_was()
    {
        var seq = new SeqTracker();
        seq.OnWelcome(1);
        seq.OnResumed(8, replayed: 0);
        Assert.Equal(8, seq.LastSeq);

        seq.OnResumed(30, replayed: 3);
        seq.OnMessage(10);
        seq.OnDisconnected();
        Assert.Equal(10, seq.LastSeq);
        Assert.False(seq.Replaying);
    }

    [Theory]
    [InlineData(0, 0.0, 125)]
    [InlineData(0, 0.999, 249)]
    [InlineData(1, 0.0, 250)]
    [InlineData(2, 1.0, 1000)]
    [InlineData(10, 0.0, 5000)]  // capped at 10 s, then jittered
    [InlineData(10, 1.0, 10000)]
    [InlineData(1000, 0.5, 7500)] // no overflow for large attempts
    public void Backoff_doubles_from_the_minimum_up_to_the_maximum_with_equal_jitter(int attempt, double random, int expectedMs)
    {
        var delay = Backoff.Delay(attempt, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(10), random);
        Assert.Equal(expectedMs, (int)delay.TotalMilliseconds);
    }

    [Theory]
    [InlineData(null, "Resume")] // dropped: no close frame
    [InlineData(1001, "Resume")]
    [InlineData(1011, "Resume")]
    [InlineData(1012, "Resume")]
    [InlineData(1013, "Resume")]
    [InlineData(4401, "Resume")] // ticket expired: resume with a new ticket
    [InlineData(4403, "Resync")]
    [InlineData(4410, "Resync")]
    [InlineData(4409, "Final")]
    [InlineData(1000, "Final")]
    [InlineData(1002, "Final")]
    [InlineData(1008, "Final")]
    [InlineData(1009, "Final")]
    [InlineData(4000, "Final")] // the room's own close
    [InlineData(3000, "Final")]
    public void Close_codes_resume_resync_or_end(int? code, string action) => Assert.Equal(action, ClosePolicy.Of(code).ToString());

    [Fact]
    public async Task Outbox_numbers_messages_per_connection_and_acks_cumulatively()
    {
        var outbox = new Outbox(limit: 10);
        var messages = Enumerable.Range(0, 3).Select(i => new OutgoingMessage(true, [(byte)('a' + i)])).ToList();
        messages.ForEach(outbox.Add);
        Assert.Equal([1L, 2, 3], outbox.TakeWaiting().Select(m => m.Id));
        Assert.Equal("m 2\nb", Encoding.UTF8.GetString(messages[1].Frame!));

        Assert.Equal(2, outbox.Ack(2, seq: 50)); // 1 and 2: the room handles a connection's messages in order
        Assert.Equal(new RoomAck(1, 50), await messages[0].Done.Task);
        Assert.Equal(new RoomAck(2, 50), await messages[1].Done.Task);
        Assert.False(messages[2].Done.Task.IsCompleted);
        Assert.Equal(0, outbox.Ack(2, seq: 51)); // a repeated ack changes nothing

        var late = new OutgoingMessage(false, [1]);
        outbox.Add(late);
        outbox.FailUnacked(m => new RoomResyncException(m.Id, 4410, "resync"));
        Assert.Equal(3, (await Assert.ThrowsAsync<RoomResyncException>(() => messages[2].Done.Task)).MessageId);
        Assert.False(late.Done.Task.IsCompleted); // never written: kept for the next connection
        Assert.Equal(1, Assert.Single(outbox.TakeWaiting()).Id); // ids start again on a new connection
    }

    [Fact]
    public void Outbox_bounds_what_it_holds_written_or_not()
    {
        var outbox = new Outbox(limit: 2);
        outbox.Add(new OutgoingMessage(true, []));
        outbox.TakeWaiting(); // written, not acknowledged: still held
        outbox.Add(new OutgoingMessage(true, []));
        var full = Assert.Throws<RoomBufferFullException>(() => outbox.Add(new OutgoingMessage(true, [])));
        Assert.Equal(2, full.Limit);
        Assert.Contains("MaxBufferedMessages", full.Message);

        outbox.Ack(1, 1);
        outbox.Add(new OutgoingMessage(true, [])); // room again
        var closed = new RoomClosedException("closed");
        outbox.FailAll(closed);
        Assert.Equal(0, outbox.Count);
    }

    [Fact]
    public void Urls_carry_query_ticket_and_resume()
    {
        var options = new RoomSocketOptions { Server = new Uri("ws://localhost:8080"), Type = "chat", Name = "lobby", Ticket = "a.b.c" };
        options.Query["name"] = "ann & bob";
        Assert.Equal("ws://localhost:8080/rooms/chat/lobby?name=ann%20%26%20bob&ticket=a.b.c", RoomUrl.Build(options, null).AbsoluteUri);
        Assert.Equal("ws://localhost:8080/rooms/chat/lobby?name=ann%20%26%20bob&ticket=a.b.c&resume=tok%2Fen&seq=42",
            RoomUrl.Build(options, ("tok/en", 42)).AbsoluteUri);
        Assert.Equal("ws://localhost:8080/rooms/chat/lobby?name=ann%20%26%20bob&ticket=…&resume=…&seq=42",
            RoomUrl.Redacted(RoomUrl.Build(options, ("tok/en", 42))));

        var https = new RoomSocketOptions { Server = new Uri("https://example.org/app/"), Type = "echo", Name = "x" };
        Assert.Equal("wss://example.org/app/rooms/echo/x", RoomUrl.Build(https, null).AbsoluteUri);
    }

    [Theory]
    [InlineData(null, "chat", "lobby", "Server")]
    [InlineData("ftp://h", "chat", "lobby", "Server")]
    [InlineData("ws://h", "", "lobby", "Type")]
    [InlineData("ws://h", "chat", "", "Name")]
    [InlineData("ws://h", "chat", "a b", "Name")]
    public void Options_name_what_is_wrong(string? server, string type, string name, string option)
    {
        var options = new RoomSocketOptions { Server = server is null ? null : new Uri(server), Type = type, Name = name };
        var error = Assert.Throws<ArgumentException>(() => new RoomSocket(options));
        Assert.Contains($"RoomSocketOptions.{option}", error.Message);
    }

    [Fact]
    public void Options_refuse_bad_bounds_and_the_protocols_query_keys()
    {
        RoomSocketOptions Valid() => new() { Server = new Uri("ws://h"), Type = "chat", Name = "lobby" };
        Assert.Contains("MaxBufferedMessages", Assert.Throws<ArgumentException>(() => new RoomSocket(Edit(Valid(), o => o.MaxBufferedMessages = 0))).Message);
        Assert.Contains("MaxReconnectDelay", Assert.Throws<ArgumentException>(() => new RoomSocket(Edit(Valid(), o => o.MaxReconnectDelay = TimeSpan.FromMilliseconds(1)))).Message);
        Assert.Contains("Ticket instead", Assert.Throws<ArgumentException>(() => new RoomSocket(Edit(Valid(), o => o.Query["ticket"] = "x"))).Message);
        Assert.Contains("resume", Assert.Throws<ArgumentException>(() => new RoomSocket(Edit(Valid(), o => o.Query["resume"] = "x"))).Message);

        static RoomSocketOptions Edit(RoomSocketOptions options, Action<RoomSocketOptions> edit)
        {
            edit(options);
            return options;
        }
    }
}
