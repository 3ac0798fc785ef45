using System.Buffers;

namespace RoomActors.Gateway.Sockets;

/// <summary>
/// The stream under a server WebSocket. Outside a batch every write goes straight through (and is flushed); inside a
/// batch — while the connection's writer drains what is queued — frames collect in one buffer and leave in one write
/// at <see cref="EndBatchAsync"/>: one flush for many frames instead of one per frame. Nothing waits to fill a batch.
/// </summary>
internal sealed class CoalescingStream(Stream inner) : Stream
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

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.ReadAsync(buffer, offset, count, cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

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
            inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
