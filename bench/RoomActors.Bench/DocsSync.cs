using System.Diagnostics;
using System.Globalization;
using HdrHistogram;

namespace RoomActors.Bench;

/// <summary>
/// The docs-sync scenario: a loader puts a document of about 1 MB (bench/yjs/document.mjs: real Yjs updates, each
/// well under 512 KiB) into the server and stays connected; then new clients, one after another, connect, send sync
/// step 1 with an empty state vector (and answer the server's step 1 with an empty step 2, as a client does), and
/// the time from the start of the TCP connect to the last byte of the server's step 2 is recorded. Each step 2 is
/// checked to hold the whole document (the state vector its structs cover equals the document's).
/// </summary>
internal static class DocsSync
{
    public static async Task<(string, object, string?)> RunAsync(ArgMap args)
    {
        var options = DocsSyncOptions.Parse(args);
        var result = await new DocsSyncRun(options).ExecuteAsync();
        return (result.Summary(), result, args.GetValueOrDefault("json"));
    }
}

internal sealed record DocsSyncOptions(string UrlTemplate, string Document, int Clients, int WarmupClients, int? ServerPid, string Label)
{
    public static DocsSyncOptions Parse(ArgMap map)
    {
        var options = new DocsSyncOptions(
            map.Get("url-template", "ws://127.0.0.1:8080/rooms/doc/{room}"),
            map.GetValueOrDefault("document") ?? throw new BenchException("docs-sync needs --document DIR (written by bench/yjs/document.mjs)"),
            map.Int("clients", 20), map.Int("warmup-clients", 3), map.Pid, map.Get("label", "docs-sync"));
        if (options.Clients < 1 || options.WarmupClients < 0)
        {
            throw new BenchException("docs-sync needs --clients >= 1 and --warmup-clients >= 0");
        }

        return options;
    }
}

/// <summary>What the docs-sync run saw: sync times in milliseconds, sizes in bytes.</summary>
internal sealed record DocsSyncResult(
    string Label, int Clients, int WarmupClients, long DocumentBytes, int Chunks, double LoadSeconds, long LoadedBytes,
    double P50Ms, double P99Ms, double MaxMs, double MeanMs, long MinStep2Bytes, long MaxStep2Bytes, int Complete, string? FirstIncomplete,
    double? ServerCpuMsPerSync, long? ServerRssKiB, double GeneratorCpuMsPerSync)
{
    public string Summary() =>
        string.Create(CultureInfo.InvariantCulture,
            $"{Label}: document of {DocumentBytes} bytes loaded in {LoadSeconds:F2} s ({Chunks} updates; the server's step 2 {LoadedBytes} bytes); " +
            $"{Clients} new clients one after another (after {WarmupClients} not counted): connect to complete step 2 p50 {P50Ms:F2} ms, p99 {P99Ms:F2} ms, max {MaxMs:F1} ms, mean {MeanMs:F2} ms; " +
            $"step 2 {MinStep2Bytes}–{MaxStep2Bytes} bytes, whole document in {Complete} of {Clients}{(FirstIncomplete is null ? "" : $" (first incomplete: {FirstIncomplete})")}; " +
            $"server CPU {ServerCpuMsPerSync?.ToString("F1", CultureInfo.InvariantCulture) ?? "?"} ms per sync, RSS {(ServerRssKiB / 1024)?.ToString(CultureInfo.InvariantCulture) ?? "?"} MiB");
}

internal sealed class DocsSyncRun(DocsSyncOptions options)
{
    public async Task<DocsSyncResult> ExecuteAsync()
    {
        var document = DocumentUpdates.Load(options.Document);
        var name = $"bench-sync-{Guid.NewGuid():N}"[..20];

        // The loader: joins the empty document, sends the chunks as updates, then asks for everything (step 1 with an
        // empty state vector): the answer comes after the chunks were applied, and must hold the whole document.
        using var connect = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var loader = await YjsClient.ConnectAsync(options.UrlTemplate, name, connect.Token);
        await YjsClient.HandshakeAsync(loader, YjsWire.EmptyStateVector, _ => YjsWire.EmptyUpdate, TimeSpan.FromSeconds(10), "the loader");
        var loadStart = Stopwatch.GetTimestamp();
        foreach (var chunk in document.Chunks)
        {
            await loader.SendBinaryAsync(YjsWire.Sync(YjsWire.SyncUpdate, chunk));
        }

        await loader.SendBinaryAsync(YjsWire.Sync(YjsWire.SyncStep1, YjsWire.EmptyStateVector));
        var loaded = await YjsClient.ReceiveSyncAsync(loader, YjsWire.SyncStep2, TimeSpan.FromSeconds(120), "the server's sync step 2 after loading the document");
        var loadSeconds = Stopwatch.GetElapsedTime(loadStart).TotalSeconds;
        if (Check(document, loaded) is { } missing)
        {
            throw new BenchException($"after loading, the server's document lacks part of what was sent: {missing}");
        }

        // The loader stays in the document (a live document that someone has open); what it receives is dropped.
        using var stopLoader = new CancellationTokenSource();
        var loaderReads = Task.Run(async () =>
        {
            try
            {
                await loader.RunAsync(_ => { }, stopLoader.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or System.Net.Sockets.SocketException or ObjectDisposedException)
            {
                // Stopped.
            }
        });

        var histogram = new LongHistogram(1, 600_000_000, 3);
        long minBytes = long.MaxValue, maxBytes = 0;
        var complete = 0;
        string? firstIncomplete = null;
        long? cpuStart = null;
        var generatorStart = TimeSpan.Zero;
        for (var k = 0; k < options.WarmupClients + options.Clients; k++)
        {
            var counted = k >= options.WarmupClients;
            if (k == options.WarmupClients)
            {
                cpuStart = ServerProcess.CpuTicks(options.ServerPid);
                generatorStart = Process.GetCurrentProcess().TotalProcessorTime;
            }

            var (micros, step2) = await SyncOnceAsync(name, k);
            if (!counted)
            {
                continue;
            }

            histogram.RecordValue(Math.Max(1, micros));
            minBytes = Math.Min(minBytes, step2.Length);
            maxBytes = Math.Max(maxBytes, step2.Length);
            if (Check(document, step2) is { } lacking)
            {
                firstIncomplete ??= $"client {k - options.WarmupClients}: {lacking}";
            }
            else
            {
                complete++;
            }
        }

        var cpuEnd = ServerProcess.CpuTicks(options.ServerPid);
        var generatorEnd = Process.GetCurrentProcess().TotalProcessorTime;
        var rss = ServerProcess.RssKiB(options.ServerPid);
        stopLoader.Cancel();
        await loaderReads;
        loader.Abort();

        return new DocsSyncResult(options.Label, options.Clients, options.WarmupClients, document.StateBytes, document.Chunks.Length, loadSeconds, loaded.Length,
            DocsEditorsRun.Ms(histogram, 50), DocsEditorsRun.Ms(histogram, 99), DocsEditorsRun.Ms(histogram, 100), histogram.GetMean() / 1000.0,
            minBytes, maxBytes, complete, firstIncomplete,
            cpuStart is { } a && cpuEnd is { } b ? (b - a) * 1000.0 / ServerProcess.ClockTicksPerSecond / options.Clients : null, rss,
            (generatorEnd - generatorStart).TotalMilliseconds / options.Clients);
    }

    /// <summary>One new client: connect, step 1 with an empty state vector, until the server's step 2 is in.</summary>
    private async Task<(long Micros, byte[] Step2)> SyncOnceAsync(string name, int k)
    {
        var start = Stopwatch.GetTimestamp();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var socket = await YjsClient.ConnectAsync(options.UrlTemplate, name, timeout.Token);
        try
        {
            await socket.SendBinaryAsync(YjsWire.Sync(YjsWire.SyncStep1, YjsWire.EmptyStateVector));
            while (true)
            {
                byte[] message;
                try
                {
                    message = await socket.ReceiveMessageAsync(timeout.Token);
                }
                catch (OperationCanceledException)
                {
                    throw new BenchException($"sync client {k}: no sync step 2 within 60 s");
                }
                catch (Exception ex) when (ex is BenchException or System.Net.Sockets.SocketException)
                {
                    throw new BenchException($"sync client {k}: {ex.Message}{YjsClient.Closed(socket)}");
                }

                if (!YjsWire.TryReadSync(message, out var sub, out var body))
                {
                    continue; // awareness
                }

                if (sub == YjsWire.SyncStep1)
                {
                    await socket.SendBinaryAsync(YjsWire.Sync(YjsWire.SyncStep2, YjsWire.EmptyUpdate)); // it has nothing the server lacks
                }
                else if (sub == YjsWire.SyncStep2)
                {
                    var elapsed = Stopwatch.GetElapsedTime(start);
                    return ((long)(elapsed.TotalMilliseconds * 1000), body.ToArray());
                }
            }
        }
        finally
        {
            try
            {
                await socket.SendCloseAsync(1000);
            }
            catch (Exception ex) when (ex is System.Net.Sockets.SocketException or ObjectDisposedException)
            {
                // The server closed first: nothing to say goodbye to.
            }

            socket.Dispose();
        }
    }

    /// <summary>Null when <paramref name="update"/> holds the whole document, else what it lacks (or why it could not be read).</summary>
    private static string? Check(DocumentUpdates document, byte[] update)
    {
        try
        {
            var missing = document.Missing(YjsWire.CoveredStateVector(update));
            return missing.Length == 0 ? null : missing;
        }
        catch (Exception ex) when (ex is FormatException or NotSupportedException)
        {
            return $"step 2 of {update.Length} bytes could not be read: {ex.Message}";
        }
    }
}
