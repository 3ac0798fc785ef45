using System.Text.Json;

namespace RoomActors.Bench;

/// <summary>
/// The precomputed Yjs updates of bench/yjs (updates.mjs for docs-editors, document.mjs for docs-sync): a manifest and
/// files of length-prefixed updates (a little-endian uint32 length, then the bytes, one after another).
/// </summary>
internal static class YjsFiles
{
    public static byte[][] ReadSequence(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var updates = new List<byte[]>();
        for (var at = 0; at < bytes.Length;)
        {
            var length = BitConverter.ToInt32(bytes, at);
            updates.Add(bytes.AsSpan(at + 4, length).ToArray());
            at += 4 + length;
        }

        return updates.ToArray();
    }

    public static JsonElement Manifest(string directory, string kind, string script)
    {
        var path = Path.Combine(directory, "manifest.json");
        if (!File.Exists(path))
        {
            throw new BenchException($"{path} is missing; write it with `node bench/yjs/{script} --out {directory}` (bench/run does)");
        }

        var manifest = JsonDocument.Parse(File.ReadAllText(path)).RootElement;
        if (manifest.GetProperty("kind").GetString() != kind)
        {
            throw new BenchException($"{path} holds {manifest.GetProperty("kind").GetString()} updates, not {kind}");
        }

        return manifest;
    }
}

/// <summary>The docs-editors updates: the seed every editor starts from, and each editor's client ID and updates.</summary>
internal sealed record EditorUpdates(ulong SeedClient, ulong SeedClock, byte[] Seed, ulong[] Clients, byte[][][] Updates)
{
    public static EditorUpdates Load(string directory, int editors)
    {
        var manifest = YjsFiles.Manifest(directory, "editors", "updates.mjs");
        var available = manifest.GetProperty("editors").GetInt32();
        if (editors > available)
        {
            throw new BenchException($"{directory} has updates for {available} editors, not {editors}; write more with bench/yjs/updates.mjs --editors {editors}");
        }

        var clients = manifest.GetProperty("editorClients").EnumerateArray().Take(editors).Select(c => c.GetUInt64()).ToArray();
        var updates = Enumerable.Range(0, editors).Select(e => YjsFiles.ReadSequence(Path.Combine(directory, $"editor-{e:D3}.bin"))).ToArray();
        return new EditorUpdates(manifest.GetProperty("seedClient").GetUInt64(), manifest.GetProperty("seedClock").GetUInt64(),
            YjsFiles.ReadSequence(Path.Combine(directory, "seed.bin"))[0], clients, updates);
    }
}

/// <summary>The docs-sync document: its chunks and what a client that synced all of it must have.</summary>
internal sealed record DocumentUpdates(byte[][] Chunks, long StateBytes, Dictionary<ulong, ulong> StateVector)
{
    public static DocumentUpdates Load(string directory)
    {
        var manifest = YjsFiles.Manifest(directory, "document", "document.mjs");
        var vector = manifest.GetProperty("stateVector").EnumerateObject().ToDictionary(p => ulong.Parse(p.Name, System.Globalization.CultureInfo.InvariantCulture), p => p.Value.GetUInt64());
        return new DocumentUpdates(YjsFiles.ReadSequence(Path.Combine(directory, "chunks.bin")), manifest.GetProperty("stateBytes").GetInt64(), vector);
    }

    /// <summary>What <paramref name="covered"/> lacks of the document: empty when it has all of it.</summary>
    public string Missing(Dictionary<ulong, ulong> covered)
    {
        var missing = StateVector.Where(c => covered.GetValueOrDefault(c.Key) < c.Value)
            .Select(c => $"client {c.Key} to clock {covered.GetValueOrDefault(c.Key)} of {c.Value}").ToList();
        return string.Join(", ", missing);
    }
}
