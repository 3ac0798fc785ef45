using Xunit.Abstractions;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;
using RoomActors.Samples;
using RoomActors.Tests.Infrastructure;

namespace RoomActors.Tests.Integration;

/// <summary>An all-in-one host whose room storage counts what each room writes.</summary>
public sealed class CountingStorageFixture : IAsyncLifetime
{
    public AllInOneServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await AllInOneServer.StartAsync(
        builder => builder.Services.AddKeyedSingleton<IGrainStorage>(RoomOptions.StorageName, (sp, _) =>
            new CountingGrainStorage(
                ActivatorUtilities.CreateInstance<MemoryGrainStorage>(sp, RoomOptions.StorageName, new Orleans.Configuration.MemoryGrainStorageOptions()),
                sp.GetRequiredService<Serializer>())));

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>
/// The chat sample (samples/Rooms/ChatRoom.cs) as people copy it: a message's storage cost does not grow with the
/// history, a joiner's history frame is bounded, and display names are unique and visible.
/// </summary>
public sealed class ChatSampleTests(CountingStorageFixture fixture, ITestOutputHelper output) : IClassFixture<CountingStorageFixture>
{
    private AllInOneServer Server => fixture.Server;

    private static string NewName() => "chat-" + Guid.NewGuid().ToString("N")[..12];

    private async Task<TestClient> JoinAsync(string room, string name)
    {
        var client = await TestClient.ConnectAsync(Server.Room("chat", room));
        await client.SendAsync(JsonSerializer.Serialize(new { type = "join", name }));
        Assert.Contains("\"history\"", await client.ReceiveTextAsync());
        Assert.Contains("\"presence\"", await client.ReceiveTextAsync());
        return client;
    }

    /// <summary>Sends <paramref name="count"/> messages and waits for each to come back (after its writes: output gate).</summary>
    private static async Task SayAsync(TestClient client, int count, Func<int, string> text)
    {
        for (var i = 0; i < count; i++)
        {
            await client.SendAsync(JsonSerializer.Serialize(new { type = "message", text = text(i) }));
        }

        for (int got = 0, frames = 0; got < count; frames++)
        {
            Assert.True(frames < count + 10, "more than 10 frames other than the messages"); // presence of others
            if ((await client.ReceiveAsync()).Text.StartsWith("{\"type\":\"message\"", StringComparison.Ordinal))
            {
                got++;
            }
        }
    }

    [Fact]
    public async Task A_message_writes_the_same_few_records_whether_the_history_is_empty_or_full_of_long_messages()
    {
        var room = NewName();
        await using var ada = await JoinAsync(room, "ada");
        var longText = new string('x', ChatRoom.MaxTextLength);
        const int Measured = 10;

        var before = CountingGrainStorage.Of(room);
        await SayAsync(ada, Measured, _ => longText);
        var early = CountingGrainStorage.Of(room);

        await SayAsync(ada, ChatRoom.HistoryLength, _ => longText); // the history is now full of the longest messages
        var full = CountingGrainStorage.Of(room);
        await SayAsync(ada, Measured, _ => longText);
        var late = CountingGrainStorage.Of(room);

        var earlyWrites = (early.Writes + early.Clears - before.Writes - before.Clears) / (double)Measured;
        var lateWrites = (late.Writes + late.Clears - full.Writes - full.Clears) / (double)Measured;
        var earlyBytes = (early.Bytes - before.Bytes) / (double)Measured;
        var lateBytes = (late.Bytes - full.Bytes) / (double)Measured;

        output.WriteLine($"per message: {earlyWrites} writes, {earlyBytes:F0} bytes with an empty history; {lateWrites} writes, {lateBytes:F0} bytes with a full one");

        // A message: its own slot of the ring, written over the oldest; nothing else of the history, not even the key index.
        Assert.True(lateWrites <= 1, $"{lateWrites} writes per message with a full history (early: {earlyWrites})");
        Assert.True(lateBytes < 2 * ChatRoom.MaxTextLength + 4096,
            $"{lateBytes:F0} bytes written per message with a full history of {ChatRoom.HistoryLength} messages of {ChatRoom.MaxTextLength} characters (early: {earlyBytes:F0})");
        Assert.True(lateBytes < earlyBytes + 4096, $"per-message bytes grew with the history: {earlyBytes:F0} then {lateBytes:F0}");

        // What is written is what a new activation reads back: the newest HistoryLength messages.
        await ada.CloseAsync();
        await Server.Grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        await using var bob = await TestClient.ConnectAsync(Server.Room("chat", room));
        await bob.SendAsync("""{"type":"join","name":"bob"}""");
        using var history = JsonDocument.Parse(await bob.ReceiveTextAsync());
        var messages = history.RootElement.GetProperty("messages");
        Assert.InRange(messages.GetArrayLength(), 1, ChatRoom.HistoryLength);
    }

    [Fact]
    public async Task A_joiner_s_history_frame_is_bounded_in_bytes_and_count_and_holds_the_newest_messages()
    {
        var room = NewName();
        await using var ada = await JoinAsync(room, "ada");

        // '<' is escaped as \u003C in JSON: each of these messages is about 24 KB in the history.
        await SayAsync(ada, ChatRoom.HistoryLength, i => i.ToString("D3") + new string('<', ChatRoom.MaxTextLength - 3));

        await using var bob = await TestClient.ConnectAsync(Server.Room("chat", room));
        await bob.SendAsync("""{"type":"join","name":"bob"}""");
        var frame = await bob.ReceiveAsync();
        output.WriteLine($"history frame: {frame.Data.Length} bytes");
        Assert.True(frame.Data.Length <= ChatRoom.HistoryBytes + 64, $"history frame of {frame.Data.Length} bytes");
        using var history = JsonDocument.Parse(frame.Data);
        var texts = history.RootElement.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("text").GetString()![..3]).ToList();
        Assert.NotEmpty(texts);
        var newest = ChatRoom.HistoryLength - 1;
        Assert.Equal(Enumerable.Range(newest - texts.Count + 1, texts.Count).Select(i => i.ToString("D3")), texts); // the newest, in order

        // Short messages: bounded by count, the ring read back in order by a new activation.
        await SayAsync(ada, ChatRoom.HistoryLength + 5, i => "m" + i);
        await ada.CloseAsync();
        await bob.CloseAsync();
        await Server.Grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        await using var cy = await TestClient.ConnectAsync(Server.Room("chat", room));
        await cy.SendAsync("""{"type":"join","name":"cy"}""");
        using var shortHistory = JsonDocument.Parse(await cy.ReceiveTextAsync());
        Assert.Equal(Enumerable.Range(5, ChatRoom.HistoryLength).Select(i => "m" + i),
            shortHistory.RootElement.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("text").GetString()));
    }

    public static TheoryData<string, int> Refused => new()
    {
        { "admin", ChatRoom.NameTaken },
        { "ADMIN", ChatRoom.NameTaken },
        { "  Admin  ", ChatRoom.NameTaken },
        { "\uFF41\uFF44\uFF4D\uFF49\uFF4E", ChatRoom.NameTaken }, // full-width: NFKC makes it "admin"
        { "ad\u200Bmin", ChatRoom.InvalidName },                  // zero-width space
        { "ad\u200Dmin", ChatRoom.InvalidName },                  // zero-width joiner
        { "\u202Enimda", ChatRoom.InvalidName },                  // right-to-left override
        { "\u2067admin\u2069", ChatRoom.InvalidName },            // right-to-left isolate
        { "admin\u200F", ChatRoom.InvalidName },                  // right-to-left mark
        { "ad\u034Fmin", ChatRoom.InvalidName },                  // combining grapheme joiner (invisible)
        { "\u3164", ChatRoom.InvalidName },                       // Hangul filler (a blank letter)
        { "admin\u0007", ChatRoom.InvalidName },                  // a control character
        { "ad\nmin", ChatRoom.InvalidName },
        { "\uFEFFadmin", ChatRoom.InvalidName },                  // byte order mark
        { "...", ChatRoom.InvalidName },                          // no letter or digit
        { "   ", ChatRoom.InvalidName },
        { "a-very-long-name-that-goes-on-and-on-and-on-well-past-sixty-four-chars", ChatRoom.InvalidName },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task A_duplicate_or_spoofed_name_is_refused_with_a_close_code_and_reason(string name, int code)
    {
        var room = NewName();
        await using var admin = await JoinAsync(room, "admin");

        await using var spoofer = await TestClient.ConnectAsync(Server.Room("chat", room));
        await spoofer.SendAsync(JsonSerializer.Serialize(new { type = "join", name }));
        var (status, reason, error) = await spoofer.WaitClosedAsync();
        Assert.Null(error);
        Assert.Equal(code, (int)status!.Value);
        Assert.StartsWith(code == ChatRoom.NameTaken ? "name taken" : "invalid name: ", reason);
        Assert.DoesNotContain(spoofer.Drain(), m => m.Text.Contains("\"history\""));

        // The room still has one admin, and an honest second name joins.
        await using var bob = await JoinAsync(room, "b\u00F6b"); // composed or not, NFKC keeps it one name
        var presence = await admin.ReceiveTextAsync();
        Assert.Contains("\"users\":[\"admin\",\"b\\u00F6b\"]", presence);
    }

    [Fact]
    public async Task A_name_is_free_again_once_its_holder_left_and_composed_and_decomposed_forms_are_one_name()
    {
        var room = NewName();
        await using (var first = await JoinAsync(room, "Zoe\u0301")) // e + combining acute: NFKC composes it to é
        {
            await using var second = await TestClient.ConnectAsync(Server.Room("chat", room));
            await second.SendAsync("""{"type":"join","name":"zo\u00E9"}""");
            Assert.Equal(ChatRoom.NameTaken, (int)(await second.WaitClosedAsync()).Status!.Value);
            await first.CloseAsync();
        }

        // The close reaches the room a moment after the client's close handshake: until then the name is still taken.
        // Join again (bounded) until the room has let it go.
        TestClient? again = null;
        for (var attempt = 0; attempt < 50 && again is null; attempt++)
        {
            var client = await TestClient.ConnectAsync(Server.Room("chat", room));
            await client.SendAsync("""{"type":"join","name":"ZO\u00C9"}""");
            var reply = await client.ReceiveAsync().ContinueWith(t => t.IsCompletedSuccessfully ? t.Result.Text : null);
            if (reply is not null && reply.Contains("\"history\"", StringComparison.Ordinal))
            {
                again = client;
                break;
            }

            Assert.Equal(ChatRoom.NameTaken, (int)(await client.WaitClosedAsync()).Status!.Value);
            await client.DisposeAsync();
            await Task.Delay(100);
        }

        Assert.NotNull(again);
        await using (again)
        {
            Assert.Contains("\"name\":\"ZO\\u00C9\"", await again.ReceiveTextAsync());
        }
    }

    [Fact]
    public async Task A_name_stays_taken_and_its_holder_keeps_it_after_the_room_hibernated_and_came_back()
    {
        using var tally = new MeterTally();
        var hibernations = tally.Sum("roomactors.room.hibernations", "roomactors.room.type=chat");
        await using var server = await AllInOneServer.StartAsync("--RoomActors:Rooms:HibernateAfter=00:00:01");
        var room = NewName();
        await using var ada = await TestClient.ConnectAsync(server.Room("chat", room));
        await ada.SendAsync("""{"type":"join","name":"ada"}""");
        Assert.Contains("\"history\"", await ada.ReceiveTextAsync());
        Assert.Contains("\"presence\"", await ada.ReceiveTextAsync());

        // No traffic for a second: the room leaves memory with its connection; the next join brings it back.
        await GatewayTests.Eventually(() => tally.Sum("roomactors.room.hibernations", "roomactors.room.type=chat") > hibernations);
        await using var spoofer = await TestClient.ConnectAsync(server.Room("chat", room));
        await spoofer.SendAsync("""{"type":"join","name":"ADA"}""");
        Assert.Equal(ChatRoom.NameTaken, (int?)(await spoofer.WaitClosedAsync()).Status);

        await ada.SendAsync("""{"type":"message","text":"still me"}""");
        Assert.Contains("\"name\":\"ada\"", await ada.ReceiveTextAsync());
    }
}
