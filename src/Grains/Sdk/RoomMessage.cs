using System.Text;

namespace RoomActors;

/// <summary>A message a client sent: text or binary, exactly as it arrived.</summary>
public sealed class RoomMessage
{
    private string? _text;

    internal RoomMessage(Payload frame) => Payload = frame;

    internal Payload Payload { get; }

    /// <summary>True for a text frame, false for a binary one.</summary>
    public bool IsText => Payload.IsText;

    /// <summary>The payload bytes (UTF-8 for text frames).</summary>
    public ReadOnlyMemory<byte> Data => Payload.Data;

    /// <summary>The payload decoded as UTF-8 (decoded once, on first use).</summary>
    public string Text => _text ??= Encoding.UTF8.GetString(Payload.Data);

    /// <inheritdoc />
    public override string ToString() => IsText ? Text : $"<{Payload.Data.Length} bytes>";
}
