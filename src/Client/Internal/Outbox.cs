namespace RoomActors.Client.Internal;

/// <summary>One message the app sent: its payload until it is written, then its id and frame until its ack.</summary>
internal sealed class OutgoingMessage(bool isText, byte[] payload)
{
    public bool IsText { get; } = isText;

    /// <summary>The app's payload (a copy), until <see cref="Outbox.TakeWaiting"/> encodes it into <see cref="Frame"/>.</summary>
    public byte[]? Payload { get; set; } = payload;

    /// <summary>The client id, once assigned (0 before).</summary>
    public long Id { get; set; }

    /// <summary><c>m ID\nPAYLOAD</c>, written once and again on each resume until acknowledged.</summary>
    public byte[]? Frame { get; set; }

    public TaskCompletionSource<RoomAck> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>
/// The messages a socket holds: <em>waiting</em> (not written yet: before the first connect, while offline, or queued
/// for the writer) and <em>unacked</em> (written with an id, waiting for the room's <c>ack</c>). Bounded in total by
/// <see cref="RoomSocketOptions.MaxBufferedMessages"/>. Ids count 1, 2, 3… per connection and continue across resumes.
/// No I/O and not thread-safe: the socket calls it under its lock.
/// </summary>
internal sealed class Outbox(int limit)
{
    private readonly Queue<OutgoingMessage> _waiting = new();
    private readonly List<OutgoingMessage> _unacked = [];
    private long _nextId = 1;

    /// <summary>Messages held: waiting plus unacked.</summary>
    public int Count => _waiting.Count + _unacked.Count;

    public int WaitingCount => _waiting.Count;

    /// <summary>Written and not acknowledged, in id order: re-sent first after a resume.</summary>
    public IReadOnlyList<OutgoingMessage> Unacked => _unacked;

    /// <summary>Queues a message for the writer.</summary>
    /// <exception cref="RoomBufferFullException">The outbox already holds its limit.</exception>
    public void Add(OutgoingMessage message)
    {
        if (Count >= limit)
        {
            throw new RoomBufferFullException(limit);
        }

        _waiting.Enqueue(message);
    }

    /// <summary>
    /// Takes every waiting message, in order, gives each the next id and its frame, and moves it to the unacked: a
    /// message counts as sent from here on (if the write fails, the resume re-sends it).
    /// </summary>
    public List<OutgoingMessage> TakeWaiting()
    {
        var taken = new List<OutgoingMessage>(_waiting.Count);
        while (_waiting.TryDequeue(out var message))
        {
            message.Id = _nextId++;
            message.Frame = WireFormat.EncodeMessage(message.Id, message.Payload);
            message.Payload = null;
            _unacked.Add(message);
            taken.Add(message);
        }

        return taken;
    }

    /// <summary>
    /// <c>ack ID SEQ</c>: completes message <paramref name="id"/> and every earlier one still unacked (the room handles
    /// a connection's messages in order and never processes an id at or below one it processed). Returns how many.
    /// </summary>
    public int Ack(long id, long seq)
    {
        var done = 0;
        while (done < _unacked.Count && _unacked[done].Id <= id)
        {
            done++;
        }

        foreach (var message in _unacked.Take(done))
        {
            message.Done.TrySetResult(new RoomAck(message.Id, seq));
        }

        _unacked.RemoveRange(0, done);
        return done;
    }

    /// <summary>
    /// The connection is gone for good (a resync): every unacked message fails (its fate is unknown), and ids start
    /// again at 1 for the next connection. Waiting messages stay: they were never written.
    /// </summary>
    public void FailUnacked(Func<OutgoingMessage, Exception> error)
    {
        foreach (var message in _unacked)
        {
            message.Done.TrySetException(error(message));
        }

        _unacked.Clear();
        _nextId = 1;
    }

    /// <summary>The socket closed for good: every held message fails with <paramref name="error"/>.</summary>
    public void FailAll(Exception error)
    {
        foreach (var message in _unacked.Concat(_waiting))
        {
            message.Done.TrySetException(error);
        }

        _unacked.Clear();
        _waiting.Clear();
    }
}
