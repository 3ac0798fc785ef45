namespace RoomActors.Gateway.Sockets;

/// <summary>What <see cref="FrameClock"/> found wrong in a client's frame headers, before the socket reads the payload.</summary>
internal enum FrameViolation
{
    None,

    /// <summary>A client frame without a mask (RFC 6455 §5.1: the server must fail the connection, 1002).</summary>
    Unmasked,

    /// <summary>The frame's declared length takes its message past the size limit (1009).</summary>
    TooBig,
}

/// <summary>
/// Follows the frames of a client's byte stream (RFC 6455 §5.2) only far enough to know whether a frame is under way
/// and when its first byte came, so that a frame left unfinished (a header cut short, a payload that never comes) can
/// be given a deadline, and to see from its header alone a frame that is unmasked or too big. A pure piece of logic:
/// bytes and a timestamp in, no I/O.
/// </summary>
internal struct FrameClock
{
    private int _opcode;        // the current frame's opcode
    private bool _final;        // the current frame's FIN bit
    private long _messageBytes; // declared payload bytes of the data message under way
    private int _headerRead;    // bytes of the current header seen (0: between frames, or in a payload)
    private int _headerLength;  // the current header's full length, once its second byte is in
    private ulong _length;      // the payload length read so far from the header
    private ulong _payloadLeft; // payload bytes of the current frame still to come

    /// <summary>True while a frame has begun and not completed.</summary>
    public readonly bool InFrame => _headerRead > 0 || _payloadLeft > 0;

    /// <summary>When the current frame's first byte came (the timestamp given to <see cref="Advance"/>).</summary>
    public long StartedAt { readonly get; private set; }

    /// <summary>
    /// Takes the next bytes of the stream, received at <paramref name="now"/>; returns the first violation in the headers
    /// they complete (a message over <paramref name="maxMessageBytes"/>, counted by the headers' declared lengths).
    /// </summary>
    public FrameViolation Advance(ReadOnlySpan<byte> data, long now, long maxMessageBytes = long.MaxValue)
    {
        var violation = FrameViolation.None;
        while (!data.IsEmpty)
        {
            if (_payloadLeft > 0)
            {
                var take = (int)Math.Min(_payloadLeft, (ulong)data.Length);
                _payloadLeft -= (ulong)take;
                data = data[take..];
                continue;
            }

            if (_headerRead == 0)
            {
                StartedAt = now;
                _headerLength = 2;
                _length = 0;
            }

            var b = data[0];
            data = data[1..];
            if (_headerRead == 0)
            {
                _opcode = b & 0x0F;
                _final = (b & 0x80) != 0;
            }
            else if (_headerRead == 1)
            {
                if ((b & 0x80) == 0 && violation == FrameViolation.None)
                {
                    violation = FrameViolation.Unmasked;
                }

                var length7 = b & 0x7F;
                var extended = length7 switch { 126 => 2, 127 => 8, _ => 0 };
                _headerLength = 2 + extended + ((b & 0x80) != 0 ? 4 : 0);
                _length = extended == 0 ? (ulong)length7 : 0;
            }
            else if (_headerRead >= 2 && _headerRead < _headerLength && _headerRead < 2 + ExtendedBytes())
            {
                _length = (_length << 8) | b;
            }

            _headerRead++;
            if (_headerRead >= 2 && _headerRead == _headerLength)
            {
                _headerRead = 0;
                _payloadLeft = _length;
                if (_opcode < 8) // a data frame (control frames are the socket's, and small)
                {
                    _messageBytes = _opcode == 0 ? _messageBytes : 0; // a continuation adds to its message
                    _messageBytes = _length > (ulong)long.MaxValue - (ulong)_messageBytes ? long.MaxValue : _messageBytes + (long)_length;
                    if (_messageBytes > maxMessageBytes && violation == FrameViolation.None)
                    {
                        violation = FrameViolation.TooBig;
                    }

                    if (_final)
                    {
                        _messageBytes = 0;
                    }
                }
            }
        }

        return violation;
    }

    private readonly int ExtendedBytes() => _headerLength switch
    {
        4 or 8 => 2,   // 126: 2 length bytes (+ 4 mask bytes)
        10 or 14 => 8, // 127: 8 length bytes (+ 4 mask bytes)
        _ => 0,
    };
}
