namespace RoomActors.Gateway.Sockets;

/// <summary>
/// The bounded outbound queue of one connection and the state of its writer. Frames wait here until the writer takes
/// all of them as one batch, and count against the limits until written: a client that stops reading fills it, and the
/// frame that would pass a limit is refused (the connection closes with 1008). At most one writer runs, and only while
/// frames are queued or a close is pending.
/// </summary>
/// <remarks>
/// A field of its <see cref="ClientConnection"/>, guarded by the connection's lock: no object of its own, and no I/O
/// (the connection's writer moves the bytes). A connection that never sent holds no queue; one that did keeps the last
/// batch's emptied queue for the next batch.
/// </remarks>
internal struct OutboundQueue
{
    private Queue<OutboundFrame>? _queue; // waiting for the writer; created by the first frame
    private Queue<OutboundFrame>? _spare; // the last batch's, emptied: the next batch swaps it in
    private long _bytes;
    private int _messages;
    private bool _writerRunning;

    /// <summary>Frames queued or being written.</summary>
    public readonly int Messages => _messages;

    /// <summary>Payload bytes queued or being written.</summary>
    public readonly long Bytes => _bytes;

    /// <summary>Frames waiting for the writer (not yet taken into a batch).</summary>
    public readonly int Waiting => _queue?.Count ?? 0;

    /// <summary>
    /// Queues <paramref name="frame"/>, or refuses it (false) when it would pass <paramref name="maxMessages"/> or
    /// <paramref name="maxBytes"/>. <paramref name="startWriter"/> is true when no writer runs: the caller starts one.
    /// </summary>
    public bool TryAdd(OutboundFrame frame, int maxMessages, long maxBytes, out bool startWriter)
    {
        if (_messages + 1 > maxMessages || _bytes + frame.Length > maxBytes)
        {
            startWriter = false;
            return false;
        }

        (_queue ??= new Queue<OutboundFrame>()).Enqueue(frame);
        _messages++;
        _bytes += frame.Length;
        startWriter = TryStartWriter();
        return true;
    }

    /// <summary>True when the caller must start the writer (none runs); from then on one does.</summary>
    public bool TryStartWriter()
    {
        if (_writerRunning)
        {
            return false;
        }

        _writerRunning = true;
        return true;
    }

    /// <summary>
    /// The writer takes everything queued as one batch. Null when nothing is queued: then, unless
    /// <paramref name="closing"/> (the writer goes on to the close frame), the writer stops here and the next frame
    /// starts a new one.
    /// </summary>
    public Queue<OutboundFrame>? TakeBatch(bool closing)
    {
        if (_queue is not { Count: > 0 })
        {
            if (!closing)
            {
                _writerRunning = false;
            }

            return null;
        }

        var batch = _queue;
        _queue = _spare;
        _spare = null;
        return batch;
    }

    /// <summary>
    /// The writer wrote a batch of <paramref name="count"/> frames and <paramref name="bytes"/> payload bytes: they stop
    /// counting, and the batch's queue (emptied by the writer) is kept for the next batch.
    /// </summary>
    public void Written(Queue<OutboundFrame> batch, int count, long bytes)
    {
        _messages -= count;
        _bytes -= bytes;
        _spare = batch;
    }

    /// <summary>Drops what waits for the writer (a discarding close); a batch being written still counts until written.</summary>
    public void Discard()
    {
        if (_queue is not { Count: > 0 })
        {
            return;
        }

        foreach (var frame in _queue)
        {
            _bytes -= frame.Length;
        }

        _messages -= _queue.Count;
        _queue.Clear();
    }
}
