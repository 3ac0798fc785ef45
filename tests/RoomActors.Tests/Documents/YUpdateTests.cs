using System.Diagnostics;
using RoomActors.Documents;

namespace RoomActors.Tests.Documents;

/// <summary><see cref="YUpdate"/> on bad input: a truncated or corrupted update throws FormatException, nothing else.</summary>
public sealed class YUpdateTests
{
    [Fact]
    public async Task Truncated_and_corrupted_updates_throw_format_exceptions_only()
    {
        var cases = await YUpdateInteropTests.OracleAsync(6, 7);
        var random = new Random(7);
        var checkedInputs = 0;
        foreach (var c in cases.EnumerateArray())
        {
            var merged = Convert.FromBase64String(c.GetProperty("merged").GetString()!);
            var step = Math.Max(1, merged.Length / 300); // every length of small updates, a spread of large ones
            for (var length = 0; length < merged.Length; length += step)
            {
                var cut = merged[..length];
                var error = Record.Exception(() => YUpdate.Validate(cut));
                Assert.IsType<FormatException>(error); // a prefix is never a whole update here: it lacks the delete set's end
                Assert.IsType<FormatException>(Record.Exception(() => YUpdate.Merge([cut, merged])));
                checkedInputs++;
            }

            for (var n = 0; n < 200; n++)
            {
                var corrupt = (byte[])merged.Clone();
                corrupt[random.Next(corrupt.Length)] = (byte)random.Next(256);
                foreach (var action in new Action[]
                         {
                             () => YUpdate.Validate(corrupt),
                             () => YUpdate.Merge([corrupt, merged]),
                             () => YUpdate.Diff(corrupt, [0]),
                             () => YUpdate.StateVector(corrupt),
                             () => YUpdate.ReadTexts(corrupt),
                         })
                {
                    var error = Record.Exception(action);
                    Assert.True(error is null or FormatException, $"{error?.GetType().Name}: {error?.Message}");
                }

                checkedInputs++;
            }
        }

        Assert.True(checkedInputs > 1000, $"{checkedInputs} inputs checked");
    }

    [Theory]
    [InlineData(new byte[] { 1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 1, 0, 0 }, "larger than 2^53")]
    [InlineData(new byte[] { 200, 1 }, "more than the")]
    [InlineData(new byte[] { 1, 1, 1, 0, 4, 1, 4, 116, 101, 120, 116, 9, 97, 0 }, "truncated")]
    [InlineData(new byte[] { 1, 1, 1, 0, 0x1f, 0 }, "unknown content type 31")]
    [InlineData(new byte[] { 1, 1, 1, 0, 7, 1, 1, 116, 9, 0 }, "not one of Yjs's")]
    [InlineData(new byte[] { 1, 1, 1, 0, 1, 1, 1, 116, 0, 0 }, "has no length")]
    [InlineData(new byte[] { 0, 0, 5 }, "follow the end")]
    public void A_malformed_update_says_what_is_wrong(byte[] update, string says)
    {
        var error = Assert.Throws<FormatException>(() => YUpdate.Validate(update));
        Assert.Contains(says, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_state_vector_is_validated_and_an_empty_one_diffs_to_everything()
    {
        byte[] update = [1, 1, 1, 0, 4, 1, 4, 116, 101, 120, 116, 1, 97, 0]; // client 1 inserts "a" into "text"
        Assert.Equal(update, YUpdate.Diff(update, [0]));
        Assert.Equal([1, 1, 1], YUpdate.StateVector(update));
        Assert.Equal([0, 0], YUpdate.Diff(update, [1, 1, 1])[..2]);
        Assert.Throws<FormatException>(() => YUpdate.ValidateStateVector([2, 1]));
        Assert.Equal("a", YUpdate.ReadTexts(update)["text"]);
        Assert.Equal(new YUpdateInfo(1, 1, 0), YUpdate.Validate(update));
    }

    [Fact]
    public void A_document_of_a_megabyte_merges_with_a_small_update_quickly_enough_to_serve_from_a_turn()
    {
        // 1,000 updates of 1,000 characters each from one client, appended one after the other: a 1 MB document.
        var updates = new List<ReadOnlyMemory<byte>>();
        for (var i = 0; i < 1000; i++)
        {
            updates.Add(YTestUpdates.Insert(7, i * 1000L, new string((char)('a' + i % 26), 1000)));
        }

        var document = YUpdate.Merge(updates);
        Assert.InRange(document.Length, 1_000_000, 1_020_000);
        var watch = Stopwatch.StartNew();
        var merged = YUpdate.Merge([document, updates[^1]]);
        watch.Stop();
        Assert.Equal(document, merged); // the last update again adds nothing
        Assert.Equal(1_000_000, YUpdate.ReadTexts(document)["text"].Length);
        // Reported, not asserted (timings are measured in bench/): how long one merge of a 1 MB document takes here.
        Console.WriteLine($"merge of a 1 MB document and a small update: {watch.Elapsed.TotalMilliseconds:F1} ms");
    }
}
