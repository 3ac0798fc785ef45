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

/// <summary>Connecting a y-websocket client: the upgrade (a clear error for a server without the room type) and the sync steps.</summary>
internal static class YjsClient
{
    public static async Task<LeanWebSocket> ConnectAsync(string urlTemplate, string document, CancellationToken cancellationToken)
    {
        var uri = new Uri(urlTemplate.Replace("{room}", document, StringComparison.Ordinal));
        try
        {
            return await LeanWebSocket.ConnectAsync(uri, cancellationToken);
        }
        catch (BenchException ex) when (ex.Message.Contains(" 404", StringComparison.Ordinal))
        {
            throw new BenchException($"{uri} answered 404: this server has no Yjs document room there (RoomActors: the `doc` room " +
                                     "type, /rooms/doc/{name}, is not in this build). Run the docs scenarios on a build that has it.");
        }
    }

    /// <summary>
    /// A client's side of the sync handshake: sends sync step 1 with <paramref name="stateVector"/>, answers the
    /// server's step 1 with step 2 (the update <paramref name="answer"/> gives for the server's state vector), and
    /// returns the server's step 2 once both have arrived. Either order: y-websocket's server sends its step 1 on
    /// connect, RoomActors' document room with its answer to the client's step 1; the client sends its step 1 first, as
    /// y-websocket's provider does.
    /// </summary>
    public static async Task<byte[]> HandshakeAsync(LeanWebSocket socket, byte[] stateVector, Func<Dictionary<ulong, ulong>, byte[]> answer,
        TimeSpan timeout, string who)
    {
        await socket.SendBinaryAsync(YjsWire.Sync(YjsWire.SyncStep1, stateVector));
        byte[]? step2 = null;
        var answered = false;
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            while (step2 is null || !answered)
            {
                var message = await socket.ReceiveMessageAsync(cancel.Token);
                if (!YjsWire.TryReadSync(message, out var sub, out var body))
                {
                    continue; // awareness
                }

                if (sub == YjsWire.SyncStep1 && !answered)
                {
                    var reply = YjsWire.Sync(YjsWire.SyncStep2, answer(YjsWire.ReadStateVector(body)));
                    await socket.SendBinaryAsync(reply);
                    answered = true;
                }
                else if (sub == YjsWire.SyncStep2 && step2 is null)
                {
                    step2 = body.ToArray();
                }
            }
        }
        catch (OperationCanceledException)
        {
            throw new BenchException($"{who}: {(step2 is null ? "no sync step 2 answered its sync step 1" : "the server sent no sync step 1")} within {timeout.TotalSeconds:F0} s");
        }
        catch (Exception ex) when (ex is BenchException or System.Net.Sockets.SocketException)
        {
            throw new BenchException($"{who}: {ex.Message}{Closed(socket)}");
        }

        return step2;
    }

    /// <summary>The body of the next sync message of <paramref name="subType"/>; other messages before it are skipped.</summary>
    public static async Task<byte[]> ReceiveSyncAsync(LeanWebSocket socket, int subType, TimeSpan timeout, string what)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            while (true)
            {
                var message = await socket.ReceiveMessageAsync(cancel.Token);
                if (YjsWire.TryReadSync(message, out var sub, out var body) && sub == subType)
                {
                    return body.ToArray();
                }
            }
        }
        catch (OperationCanceledException)
        {
            throw new BenchException($"no {what} within {timeout.TotalSeconds:F0} s");
        }
        catch (Exception ex) when (ex is BenchException or System.Net.Sockets.SocketException)
        {
            throw new BenchException($"waiting for {what}: {ex.Message}{Closed(socket)}");
        }
    }

    /// <summary>The server's close code and reason, when it sent a close frame.</summary>
    public static string Closed(LeanWebSocket socket) => socket.CloseCode is { } code ? $" (the server closed it: {code} {socket.CloseReason})" : "";
}
