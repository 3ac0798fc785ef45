using System.Buffers;
using System.Net.WebSockets;

namespace RoomActors.Gateway.Sockets;

/// <summary>What a <see cref="SocketReader"/> hands on: each complete message, and how the read ended.</summary>
/// <remarks>
/// Each end returns the close code and reason to report for the connection. Implemented by a struct, the handler lives
/// inside the reader's one async call: reading costs no object beyond that call.
/// </remarks>
internal interface ISocketReaderHandler
{
    /// <summary>A complete message, in order; the reader reads on once it completes (back-pressure onto the socket).</summary>
    ValueTask OnMessageAsync(Payload frame);

    /// <summary>The client sent its close frame.</summary>
    (int Code, string Reason) OnClientClose();

    /// <summary>A message passed <paramref name="limit"/> bytes; nothing of it was handed on.</summary>
    (int Code, string Reason) OnMessageTooBig(int limit);

    /// <summary>The connection dropped or was aborted (by the close timeout, the writer, or the transport).</summary>
    (int Code, string Reason) OnConnectionLost();

    /// <summary>Reading or handling a message failed with an exception nobody expected.</summary>
    (int Code, string Reason) OnFault(Exception error);
}

/// <summary>
/// The single reader of one socket: waits for each frame with a zero-byte read (an idle socket holds no buffer), puts
/// together messages of up to a size limit, and hands each complete one to its handler, in order, until the read ends.
/// It ends in exactly one of the handler's ends and never throws: its caller always gets a close to report.
/// </summary>
internal static class SocketReader
{
    private const int BufferBytes = 16 * 1024;

    /// <summary>Reads <paramref name="socket"/> until it closes; returns the close the handler reports.</summary>
    public static async Task<(int Code, string Reason)> RunAsync<THandler>(WebSocket socket, int maxMessageBytes, THandler handler)
        where THandler : ISocketReaderHandler
    {
        MemoryStream? message = null; // only for a message that arrives in several reads
        try
        {
            while (true)
            {
                // A zero-byte read waits for the next frame without holding a buffer: an idle socket costs no buffer.
                // It returns once a frame header is in; a frame with an empty payload may already be complete then.
                // No cancellation token: a close that times out aborts the socket and its transport, which ends the read.
                if (socket is PipeWebSocket pipe)
                {
                    // The gateway's own socket waits on the transport itself: while idle, this call is the reader's only
                    // state machine (the receive below then completes at once).
                    while (!pipe.Waited(await pipe.WaitAsync()))
                    {
                        // Only the keep-alive's pongs, or part of a frame: wait on.
                    }
                }

                var result = await socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None);
                byte[]? buffer = null;
                try
                {
                    if (result.MessageType != WebSocketMessageType.Close && !result.EndOfMessage)
                    {
                        var size = Math.Min(BufferBytes, maxMessageBytes + 1); // computed here: one field less while idle
                        buffer = ArrayPool<byte>.Shared.Rent(size);
                        result = await socket.ReceiveAsync(buffer.AsMemory(0, size), CancellationToken.None);
                    }

                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        return handler.OnClientClose();
                    }

                    var pending = message?.Length ?? 0;
                    if (pending + result.Count > maxMessageBytes)
                    {
                        return handler.OnMessageTooBig(maxMessageBytes);
                    }

                    var chunk = buffer.AsSpan(0, result.Count);
                    var isText = result.MessageType == WebSocketMessageType.Text;
                    if (result.EndOfMessage && pending == 0)
                    {
                        // The common case: the whole message arrived in one read.
                        await handler.OnMessageAsync(new Payload(isText, chunk.ToArray()));
                        continue;
                    }

                    message ??= new MemoryStream();
                    message.Write(chunk);
                    if (result.EndOfMessage)
                    {
                        await handler.OnMessageAsync(new Payload(isText, message.ToArray()));
                        message.SetLength(0);
                    }
                }
                finally
                {
                    if (buffer is not null)
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                    }
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException or ObjectDisposedException)
        {
            // Control flow: the connection dropped or was aborted; the handler reports it.
            return handler.OnConnectionLost();
        }
        catch (Exception ex)
        {
            // Close and report through the handler: whatever else failed (a socket in a state we did not expect, a
            // message the handler could not take), the read is over, and the caller must still hear how it ended.
            return handler.OnFault(ex);
        }
    }
}
