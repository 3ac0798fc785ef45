using System.Diagnostics;
using System.Text.Json;
using RoomActors.Documents;
using RoomActors.Tests.Docs;

namespace RoomActors.Tests.Documents;

/// <summary>
/// <see cref="YUpdate"/> against the npm yjs package (tests/yjs/oracle.mjs): seeded random documents of several clients
/// editing texts, maps, arrays, nested types and XML at once; the same bytes as yjs's mergeUpdates, diffUpdate and
/// encodeStateVectorFromUpdate, and the same texts as Y.Text.toString().
/// </summary>
public sealed class YUpdateInteropTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Merge_diff_state_vector_and_texts_are_what_yjs_gives(int seed)
    {
        var cases = await OracleAsync(25, seed);
        Assert.Equal(25, cases.GetArrayLength());
        var i = 0;
        foreach (var c in cases.EnumerateArray())
        {
            var updates = c.GetProperty("updates").EnumerateArray().Select(u => (ReadOnlyMemory<byte>)Convert.FromBase64String(u.GetString()!)).ToList();
            var merged = Convert.FromBase64String(c.GetProperty("merged").GetString()!);
            Assert.True(merged.AsSpan().SequenceEqual(YUpdate.Merge(updates)), $"seed {seed} case {i}: merge of {updates.Count} updates differs from yjs's");
            Assert.Equal(Convert.FromBase64String(c.GetProperty("stateVector").GetString()!), YUpdate.StateVector(merged));
            foreach (var d in c.GetProperty("diffs").EnumerateArray())
            {
                var sv = Convert.FromBase64String(d.GetProperty("stateVector").GetString()!);
                Assert.True(Convert.FromBase64String(d.GetProperty("diff").GetString()!).AsSpan().SequenceEqual(YUpdate.Diff(merged, sv)),
                    $"seed {seed} case {i}: diff against [{string.Join(",", sv)}] differs from yjs's");
            }

            var texts = YUpdate.ReadTexts(merged);
            foreach (var expected in c.GetProperty("texts").EnumerateObject())
            {
                var text = expected.Value.GetString()!;
                Assert.Equal(text, texts.GetValueOrDefault(expected.Name) ?? (text.Length == 0 ? "" : null));
            }

            foreach (var u in updates)
            {
                YUpdate.Validate(u.Span); // every update yjs wrote is accepted (it throws otherwise)
            }
            i++;
        }
    }

    [Fact]
    public async Task Garbage_collection_keeps_the_document_and_drops_deleted_content()
    {
        var cases = await OracleAsync(25, 4);
        var collected = new List<byte[]>();
        var expected = new List<string>();
        long before = 0, after = 0;
        foreach (var c in cases.EnumerateArray())
        {
            var merged = Convert.FromBase64String(c.GetProperty("merged").GetString()!);
            var garbage = YGarbage.Collect(merged);
            Assert.Equal(YUpdate.StateVector(merged), YUpdate.StateVector(garbage)); // every clock is still there
            Assert.Equal(YUpdate.ReadTexts(merged), YUpdate.ReadTexts(garbage));
            collected.Add(garbage);
            expected.Add(c.GetProperty("json").GetString()!);
            before += merged.Length;
            after += garbage.Length;
        }

        // Loaded by yjs, each collected update is the same document as the update it came from.
        var documents = await OracleAsync(["verify"], JsonSerializer.Serialize(collected.Select(Convert.ToBase64String)));
        Assert.Equal(expected, documents.EnumerateArray().Select(d => d.GetString()!).ToList());
        Assert.True(after < before * 1.05, $"collected {after} bytes of {before}"); // small deletes split items: about even here

        // One client typed 1,000 characters and deleted 900 of them: the collected document keeps 100.
        byte[] typed = YUpdate.Merge([YTestUpdates.Insert(7, 0, new string('a', 1000)), YTestUpdates.Delete(7, 50, 900)]);
        var kept = YGarbage.Collect(typed);
        Assert.Equal(new string('a', 100), YUpdate.ReadTexts(kept)["text"]);
        Assert.InRange(kept.Length, 1, 200);
    }

    /// <summary>Runs the oracle: <paramref name="count"/> cases from <paramref name="seed"/>.</summary>
    internal static Task<JsonElement> OracleAsync(int count, int seed) => OracleAsync([count.ToString(), seed.ToString()], null);

    private static async Task<JsonElement> OracleAsync(string[] args, string? input)
    {
        var root = ReadmeTests.RepositoryRoot();
        Assert.True(File.Exists(Path.Combine(root, "tests", "yjs", "node_modules", "yjs", "package.json")),
            "tests/yjs/node_modules is missing: run ./test.sh, or npm ci in tests/yjs");
        var start = new ProcessStartInfo("node", ["tests/yjs/oracle.mjs", .. args])
        {
            WorkingDirectory = root,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var node = Process.Start(start)!;
        await node.StandardInput.WriteAsync(input ?? "");
        node.StandardInput.Close();
        var output = node.StandardOutput.ReadToEndAsync();
        var error = node.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await node.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            // Policy: a hung oracle fails the test, and is stopped by its pid.
            node.Kill(entireProcessTree: true);
            throw new TimeoutException("tests/yjs/oracle.mjs did not finish within 60 s");
        }

        Assert.True(node.ExitCode == 0, $"the oracle failed ({node.ExitCode}): {await error}");
        return JsonDocument.Parse(await output).RootElement.Clone();
    }
}
