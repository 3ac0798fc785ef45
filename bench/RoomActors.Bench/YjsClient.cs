namespace RoomActors.Bench;

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
