using System.Buffers;
using System.Runtime.CompilerServices;

namespace RoomActors.Gateway.Sockets;

/// <summary>
/// The stream under a server WebSocket. Outside a batch every write goes straight through (and is flushed); inside a
/// batch — while the connection's writer drains what is queued — frames collect in one buffer and leave in one write
/// at <see cref="EndBatchAsync"/>: one flush for many frames instead of one per frame. Nothing waits to fill a batch.
/// Reads follow the client's frames (<see cref="FrameClock"/>): a frame must complete within the frame timeout of its
/// first byte, else the read fails (<see cref="FrameStalled"/>) and the socket aborts.
/// </summary>
/// <param name="inner">The upgraded transport.</param>
/// <param name="frameTimeout">How long a client frame may take from its first byte to its last; null: no limit.</param>
/// <param name="maxMessageBytes">The message size limit: a frame header that takes a message past it closes at once.</param>
internal sealed class CoalescingStream(Stream inner, TimeSpan? frameTimeout = null, int maxMessageBytes = int.MaxValue) : Stream, IFrameLayer
{
    private const int BufferSize = 64 * 1024;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private byte[]? _buffer;
    private int _count;
    private volatile bool _batching;

    /// <summary>From now until <see cref="EndBatchAsync"/>, writes are collected.</summary>
    public void BeginBatch() => _batching = true;

    /// <summary>Writes what was collected, in one write.</summary>
    public async ValueTask EndBatchAsync(CancellationToken cancellationToken)
    {
        _batching = false;
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await WriteBufferAsync(cancellationToken);
        }
        finally
        {
            // Back to the pool between batches: an idle socket holds no buffer.
            ReturnBuffer();
            _gate.Release();
        }
    }

    private void ReturnBuffer()
    {
        if (_buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
            _count = 0;
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (!_batching && _count == 0)
            {
                await inner.WriteAsync(data, cancellationToken); // not batching: straight through
                return;
            }

            _buffer ??= ArrayPool<byte>.Shared.Rent(BufferSize);
            if (_count + data.Length > _buffer.Length)
            {
                await WriteBufferAsync(cancellationToken);
                if (data.Length > _buffer.Length)
                {
                    await inner.WriteAsync(data, cancellationToken);
                    return;
                }
            }

            data.Span.CopyTo(_buffer.AsSpan(_count));
            _count += data.Length;
            if (!_batching)
            {
                await WriteBufferAsync(cancellationToken);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private async ValueTask WriteBufferAsync(CancellationToken cancellationToken)
    {
        if (_count > 0)
        {
            var count = _count;
            _count = 0;
            await inner.WriteAsync(_buffer.AsMemory(0, count), cancellationToken);
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count).GetAwaiter().GetResult();

    private FrameClock _frames; // only the socket's one reader touches it
    private bool _violated;

    // Cancelled when the socket disposes this stream (also when it aborts itself, e.g. for a missing pong): the
    // transport's read does not end on its own then, and the socket's reader must see the end.
    private readonly CancellationTokenSource _disposing = new();

    /// <summary>True once a client frame did not complete within the frame timeout (the read failed, the socket aborts).</summary>
    public bool FrameStalled { get; private set; }

    /// <summary>The frame timeout, or null when frames have no deadline.</summary>
    public TimeSpan? FrameTimeout => frameTimeout;

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        cancellationToken.CanBeCanceled ? ReadLinkedAsync(buffer, cancellationToken) : ReadFramesAsync(buffer, _disposing.Token);

    private async ValueTask<int> ReadLinkedAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposing.Token);
        return await ReadFramesAsync(buffer, either.Token);
    }

    /// <summary>
    /// The connection this stream carries: told of a frame header that breaks the protocol (unmasked, or a message over
    /// the limit) as soon as the header is in, since the socket would wait for bytes that may never come.
    /// </summary>
    public ClientConnection? Connection { get; set; }

    // Pooled: every socket reads twice per message (the zero-byte wait, then the frame), each read suspends.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReadFramesAsync(Memory<byte> buffer, CancellationToken readToken)
    {
        int read;
        if (_frames.InFrame && frameTimeout is { } timeout)
        {
            // A frame has begun: the rest of it must come before its deadline.
            var left = TimeSpan.FromMilliseconds(_frames.StartedAt + (long)timeout.TotalMilliseconds - Environment.TickCount64);
            if (left <= TimeSpan.Zero)
            {
                throw Stalled(timeout);
            }

            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(readToken);
            deadline.CancelAfter(left);
            try
            {
                read = await inner.ReadAsync(buffer, deadline.Token);
            }
            catch (OperationCanceledException) when (!readToken.IsCancellationRequested)
            {
                // Fail the read: the frame's deadline passed; the socket aborts and the reader reports 1002.
                throw Stalled(timeout);
            }
        }
        else
        {
            read = await inner.ReadAsync(buffer, readToken);
        }

        if (_frames.Advance(buffer.Span[..read], Environment.TickCount64, maxMessageBytes) is not FrameViolation.None and var violation
            && !_violated)
        {
            _violated = true;
            if (violation == FrameViolation.Unmasked)
            {
                Connection?.OnProtocolError(CloseCodes.ProtocolError, "client frames must be masked");
            }
            else
            {
                Connection?.OnProtocolError(CloseCodes.MessageTooBig, $"message exceeds the limit of {maxMessageBytes} bytes");
            }
        }

        return read;
    }

    private IOException Stalled(TimeSpan timeout)
    {
        FrameStalled = true;
        return new IOException($"A client frame did not complete within {timeout.TotalSeconds:0.###} s of its first byte (RoomActors:Gateway:FrameTimeout).");
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

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
            // The buffer is not returned here: a write may still hold it; between batches there is none.
            _disposing.Cancel(); // not disposed: a read may still ask for its token (it holds no timer)
            inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
