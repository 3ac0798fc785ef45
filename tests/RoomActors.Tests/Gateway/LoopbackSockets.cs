using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using RoomActors.Gateway.Sockets;

namespace RoomActors.Tests.Gateway;

/// <summary>
/// A server WebSocket as the gateway accepts one (over a <see cref="CoalescingStream"/>, or directly over the transport
/// like the framework's accept) and the client WebSocket at the other end, over TCP on 127.0.0.1.
/// </summary>
internal sealed class LoopbackSockets : IAsyncDisposable
{
    private readonly TcpClient _serverTcp;
    private readonly TcpClient _clientTcp;

    private LoopbackSockets(TcpClient serverTcp, TcpClient clientTcp, bool coalescing)
    {
        _serverTcp = serverTcp;
        _clientTcp = clientTcp;
        Transport = new ControlledStream(serverTcp.GetStream());
        Stream = coalescing ? new CoalescingStream(Transport) : null;
        Server = WebSocket.CreateFromStream(Stream ?? (Stream)Transport, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
        Client = WebSocket.CreateFromStream(clientTcp.GetStream(), new WebSocketCreationOptions { IsServer = false, KeepAliveInterval = TimeSpan.Zero });
    }

    /// <summary>The server's transport, where a test holds or breaks the server's writes.</summary>
    public ControlledStream Transport { get; }

    /// <summary>The stream the server socket writes through, or null when it writes straight to the transport.</summary>
    public CoalescingStream? Stream { get; }

    public WebSocket Server { get; }

    public WebSocket Client { get; }

    public static async Task<LoopbackSockets> OpenAsync(bool coalescing = true)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            var client = new TcpClient { NoDelay = true };
            var connecting = client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
            var server = await listener.AcceptTcpClientAsync();
            await connecting;
            server.NoDelay = true;
            return new LoopbackSockets(server, client, coalescing);
        }
        finally
        {
            listener.Stop();
        }
    }

    /// <summary>The client's next message or close, within 10 s.</summary>
    public async Task<Received> ReceiveAsync()
    {
        var buffer = new byte[64 * 1024];
        var message = new MemoryStream();
        while (true)
        {
            var result = await Client.ReceiveAsync(buffer.AsMemory(), CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return new Received(result.MessageType, "", Client.CloseStatus, Client.CloseStatusDescription);
            }

            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                return new Received(result.MessageType, Encoding.UTF8.GetString(message.ToArray()), null, null);
            }
        }
    }

    /// <summary>The client sends a text message.</summary>
    public Task SendAsync(string text, bool endOfMessage = true) =>
        Client.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage, CancellationToken.None);

    public async ValueTask DisposeAsync()
    {
        Transport.ReleaseWrites();
        Server.Dispose();
        Client.Dispose();
        _serverTcp.Dispose();
        _clientTcp.Dispose();
        await Task.CompletedTask;
    }

    public static OutboundFrame Text(string text) => new(new Payload(true, Encoding.UTF8.GetBytes(text)));
}

/// <summary>What the client received: a message, or a close (with its status).</summary>
internal sealed record Received(WebSocketMessageType Type, string Text, WebSocketCloseStatus? Status, string? Description);

/// <summary>
/// A transport stream whose writes a test can hold (as a client that does not read would), or make throw any exception
/// (as a transport in a state the gateway does not expect would).
/// </summary>
internal sealed class ControlledStream(Stream inner) : Stream
{
    private TaskCompletionSource _gate = Completed();
    private readonly TaskCompletionSource _writeHeld = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>When set, every write throws it.</summary>
    public Exception? WriteFault { get; set; }

    /// <summary>When set, every read throws it.</summary>
    public Exception? ReadFault { get; set; }

    /// <summary>Completes when a write first waits at a hold.</summary>
    public Task WriteHeld => _writeHeld.Task;

    /// <summary>Writes wait from now on until <see cref="ReleaseWrites"/> or <see cref="Break"/>.</summary>
    public void HoldWrites() => _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void ReleaseWrites() => _gate.TrySetResult();

    /// <summary>The transport is aborted: held and later writes fail with <paramref name="error"/>.</summary>
    public void Break(Exception error)
    {
        WriteFault = error;
        _gate.TrySetException(error);
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (WriteFault is { } fault)
        {
            throw fault;
        }

        if (!_gate.Task.IsCompleted)
        {
            _writeHeld.TrySetResult();
            await _gate.Task.WaitAsync(cancellationToken);
        }

        await inner.WriteAsync(buffer, cancellationToken);
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ReadFault is { } fault ? ValueTask.FromException<int>(fault) : inner.ReadAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count).GetAwaiter().GetResult();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override void Flush() => inner.Flush();

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _gate.TrySetException(new ObjectDisposedException(nameof(ControlledStream)));
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    private static TaskCompletionSource Completed()
    {
        var done = new TaskCompletionSource();
        done.SetResult();
        return done;
    }
}

/// <summary>A WebSocket that passes everything to <paramref name="inner"/> except the operations a test makes throw.</summary>
internal sealed class FaultySocket(WebSocket inner) : WebSocket
{
    /// <summary>When set, sending a message throws it.</summary>
    public Exception? SendFault { get; set; }

    /// <summary>When set, sending the close frame throws it.</summary>
    public Exception? CloseFault { get; set; }

    /// <summary>When set, receiving throws it.</summary>
    public Exception? ReceiveFault { get; set; }

    public int Aborts { get; private set; }

    /// <summary>The managed thread that sent the first message; null before one.</summary>
    public int? FirstSendThread { get; private set; }

    public override WebSocketCloseStatus? CloseStatus => inner.CloseStatus;

    public override string? CloseStatusDescription => inner.CloseStatusDescription;

    public override WebSocketState State => inner.State;

    public override string? SubProtocol => inner.SubProtocol;

    public override void Abort()
    {
        Aborts++;
        inner.Abort();
    }

    public override Task CloseAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) =>
        CloseFault is { } fault ? Task.FromException(fault) : inner.CloseAsync(closeStatus, statusDescription, cancellationToken);

    public override Task CloseOutputAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) =>
        CloseFault is { } fault ? Task.FromException(fault) : inner.CloseOutputAsync(closeStatus, statusDescription, cancellationToken);

    public override void Dispose() => inner.Dispose();

    public override Task<WebSocketReceiveResult> ReceiveAsync(ArraySegment<byte> buffer, CancellationToken cancellationToken) =>
        ReceiveFault is { } fault ? Task.FromException<WebSocketReceiveResult>(fault) : inner.ReceiveAsync(buffer, cancellationToken);

    public override ValueTask<ValueWebSocketReceiveResult> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken) =>
        ReceiveFault is { } fault ? ValueTask.FromException<ValueWebSocketReceiveResult>(fault) : inner.ReceiveAsync(buffer, cancellationToken);

    public override Task SendAsync(ArraySegment<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken)
    {
        FirstSendThread ??= Environment.CurrentManagedThreadId;
        return SendFault is { } fault ? Task.FromException(fault) : inner.SendAsync(buffer, messageType, endOfMessage, cancellationToken);
    }

    public override ValueTask SendAsync(ReadOnlyMemory<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken)
    {
        FirstSendThread ??= Environment.CurrentManagedThreadId;
        return SendFault is { } fault ? ValueTask.FromException(fault) : inner.SendAsync(buffer, messageType, endOfMessage, cancellationToken);
    }
}
