namespace RoomActors.Gateway.Sockets;

/// <summary>
/// The gateway's own frame layer under a server socket (<see cref="CoalescingStream"/> under .NET's WebSocket, or
/// <see cref="PipeWebSocket"/> itself): what its <see cref="ClientConnection"/> uses beyond the WebSocket API.
/// </summary>
internal interface IFrameLayer
{
    /// <summary>From now until <see cref="EndBatchAsync"/>, frames collect and leave together (one flush).</summary>
    void BeginBatch();

    /// <summary>Writes a finished server frame (<see cref="OutboundFrame.Encoded"/>), header and payload.</summary>
    ValueTask WriteAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken);

    /// <summary>Sends what the batch collected.</summary>
    ValueTask EndBatchAsync(CancellationToken cancellationToken);

    /// <summary>True once a client frame did not complete within <see cref="FrameTimeout"/> (the read failed).</summary>
    bool FrameStalled { get; }

    /// <summary>How long a client frame may take from its first byte to its last; null: no limit.</summary>
    TimeSpan? FrameTimeout { get; }

    /// <summary>
    /// The connection to tell of a protocol error the layer found in the client's frames, before the socket fails: the
    /// connection closes with that code, so the room hears what the client was told.
    /// </summary>
    ClientConnection? Connection { set; }
}
