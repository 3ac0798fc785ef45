using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace RoomActors.Gateway.Sockets;

/// <summary>
/// Takes an upgraded WebSocket's TCP connection out of ASP.NET Core's HTTP/1.1 handling. A connection middleware hands
/// the HTTP layer a stand-in for the connection (its transport passed through, its heartbeat relayed); once a room's
/// socket is accepted, the request ends and the socket runs on the bare transport. What the HTTP layer keeps per
/// connection while a request is open (its connection object, the request's headers, features and pipes, the request's
/// async calls under the socket) is then garbage: about half of an idle socket's memory.
/// </summary>
/// <remarks>
/// Only HTTP/1.1 without TLS at this point: behind TLS the middleware sees the encrypted bytes (it runs outside the
/// HTTPS middleware when both are endpoint defaults), and HTTP/2 multiplexes. Those sockets stay under their requests.
/// </remarks>
internal sealed class SocketHandover : ConnectionContext
{
    private readonly ConnectionContext _connection;
    private readonly ProxyReader _input;
    private readonly ProxyWriter _output;
    private readonly HeartbeatRelay _heartbeat;
    private readonly FeatureCollection _features;
    private Func<Task>? _session;

    private SocketHandover(ConnectionContext connection)
    {
        _connection = connection;
        _input = new ProxyReader(connection.Transport.Input);
        _output = new ProxyWriter(connection.Transport.Output);
        Transport = new DuplexPipe(_input, _output);
        _heartbeat = new HeartbeatRelay(connection.Features.Get<IConnectionHeartbeatFeature>());
        _features = new FeatureCollection(connection.Features);
        _features.Set<IConnectionHeartbeatFeature>(_heartbeat);
        _features.Set<IConnectionTransportFeature>(new TransportFeature(Transport));
        _features.Set(this);
    }

    /// <summary>The connection middleware: the HTTP layer on the stand-in, then the socket it handed over, if any.</summary>
    public static async Task RunAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        // Its own call: what the HTTP layer held is unreachable once it returns.
        var session = await RunHttpAsync(connection, next);
        if (session is not null)
        {
            var running = session();
            session = null; // the socket's run holds what it needs; its start closure is garbage
            await running;
        }
    }

    private static async Task<Func<Task>?> RunHttpAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        var handover = new SocketHandover(connection);
        await next(handover);
        handover._heartbeat.Cut();
        return handover._session;
    }

    /// <summary>The stand-in of the request's connection, when the request can be handed over (HTTP/1.1 without TLS).</summary>
    public static SocketHandover? For(HttpContext http) =>
        http.Features.Get<SocketHandover>() is { BareHeartbeat: not null } handover && http.Features.Get<ITlsConnectionFeature>() is null
        && HttpProtocol.IsHttp11(http.Request.Protocol)
        && http.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true }
        && !string.IsNullOrEmpty(http.Request.Headers.SecWebSocketKey.ToString()) ? handover : null;

    /// <summary>The connection's transport itself, for the socket once it was handed over.</summary>
    public IDuplexPipe BareTransport => _connection.Transport;

    /// <summary>The connection's own heartbeat (Kestrel's, once a second): the handed-over socket's clock.</summary>
    public IConnectionHeartbeatFeature BareHeartbeat => _connection.Features.Get<IConnectionHeartbeatFeature>()!;

    /// <summary>
    /// From now on the HTTP layer's reads end and its writes go nowhere; <paramref name="session"/> runs on the bare
    /// transport once the HTTP layer is done with the connection (the request ended). Call it after the upgrade's 101 has
    /// been flushed, from the request, which then returns.
    /// </summary>
    public void Hand(Func<Task> session)
    {
        _input.Detach();
        _output.Detach();
        _session = session;
    }

    /// <summary>Aborts the TCP connection (the socket's last resort); bound to the connection, not to this stand-in.</summary>
    public Action AbortConnection => _connection.Abort;

    public override string ConnectionId
    {
        get => _connection.ConnectionId;
        set => _connection.ConnectionId = value;
    }

    public override IFeatureCollection Features => _features;

    public override IDictionary<object, object?> Items
    {
        get => _connection.Items;
        set => _connection.Items = value;
    }

    public override IDuplexPipe Transport { get; set; }

    public override System.Net.EndPoint? LocalEndPoint
    {
        get => _connection.LocalEndPoint;
        set => _connection.LocalEndPoint = value;
    }

    public override System.Net.EndPoint? RemoteEndPoint
    {
        get => _connection.RemoteEndPoint;
        set => _connection.RemoteEndPoint = value;
    }

    public override CancellationToken ConnectionClosed
    {
        get => _connection.ConnectionClosed;
        set => _connection.ConnectionClosed = value;
    }

    public override void Abort(ConnectionAbortedException abortReason)
    {
        if (_session is null)
        {
            _connection.Abort(abortReason); // the HTTP layer's, until it handed the connection over
        }
    }

    public override ValueTask DisposeAsync() => ValueTask.CompletedTask; // the connection's own is Kestrel's

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }

    private sealed class TransportFeature(IDuplexPipe transport) : IConnectionTransportFeature
    {
        public IDuplexPipe Transport { get; set; } = transport;
    }

    /// <summary>
    /// Relays the connection's heartbeat to what the HTTP layer registers (its timeouts), until the hand-over: the
    /// connection's own list is never emptied, and would keep the HTTP layer's objects for the socket's whole life.
    /// </summary>
    private sealed class HeartbeatRelay(IConnectionHeartbeatFeature? inner) : IConnectionHeartbeatFeature
    {
        private readonly object _lock = new();
        private List<(Action<object> Action, object State)>? _handlers = new();
        private bool _registered;

        public void OnHeartbeat(Action<object> action, object state)
        {
            lock (_lock)
            {
                _handlers?.Add((action, state));
                if (!_registered && inner is not null)
                {
                    _registered = true;
                    inner.OnHeartbeat(static relay => ((HeartbeatRelay)relay).Beat(), this);
                }
            }
        }

        public void Cut()
        {
            lock (_lock)
            {
                _handlers = null;
            }
        }

        private void Beat()
        {
            (Action<object> Action, object State)[] handlers;
            lock (_lock)
            {
                if (_handlers is not { Count: > 0 })
                {
                    return;
                }

                handlers = [.. _handlers];
            }

            foreach (var (action, state) in handlers)
            {
                action(state);
            }
        }
    }

    /// <summary>The HTTP layer's reader: the transport's until the hand-over, then an ended one.</summary>
    private sealed class ProxyReader(PipeReader inner) : PipeReader
    {
        private volatile bool _detached;

        public void Detach() => _detached = true;

        public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default) =>
            _detached ? new(new ReadResult(ReadOnlySequence<byte>.Empty, isCanceled: false, isCompleted: true)) : inner.ReadAsync(cancellationToken);

        public override bool TryRead(out ReadResult result)
        {
            if (_detached)
            {
                result = new ReadResult(ReadOnlySequence<byte>.Empty, isCanceled: false, isCompleted: true);
                return true;
            }

            return inner.TryRead(out result);
        }

        public override void AdvanceTo(SequencePosition consumed)
        {
            if (!_detached)
            {
                inner.AdvanceTo(consumed);
            }
        }

        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
        {
            if (!_detached)
            {
                inner.AdvanceTo(consumed, examined);
            }
        }

        public override void CancelPendingRead()
        {
            if (!_detached)
            {
                inner.CancelPendingRead();
            }
        }

        public override void Complete(Exception? exception = null)
        {
            if (!_detached)
            {
                inner.Complete(exception);
            }
        }
    }

    /// <summary>The HTTP layer's writer: the transport's until the hand-over, then one that discards.</summary>
    private sealed class ProxyWriter(PipeWriter inner) : PipeWriter
    {
        private volatile bool _detached;
        private byte[]? _discard;

        public void Detach() => _detached = true;

        public override bool CanGetUnflushedBytes => !_detached && inner.CanGetUnflushedBytes;

        public override long UnflushedBytes => _detached ? 0 : inner.UnflushedBytes;

        public override void Advance(int bytes)
        {
            if (!_detached)
            {
                inner.Advance(bytes);
            }
        }

        public override Memory<byte> GetMemory(int sizeHint = 0) => _detached ? Discard(sizeHint) : inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => _detached ? Discard(sizeHint) : inner.GetSpan(sizeHint);

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) =>
            _detached ? new(new FlushResult(isCanceled: false, isCompleted: true)) : inner.FlushAsync(cancellationToken);

        public override void CancelPendingFlush()
        {
            if (!_detached)
            {
                inner.CancelPendingFlush();
            }
        }

        public override void Complete(Exception? exception = null)
        {
            if (!_detached)
            {
                inner.Complete(exception);
            }
        }

        private byte[] Discard(int sizeHint) => _discard is { } d && d.Length >= sizeHint ? d : _discard = new byte[Math.Max(sizeHint, 256)];
    }
}
