using System.Text;

namespace RoomActors;

/// <summary>A message a client sent: text or binary, exactly as it arrived.</summary>
public sealed class RoomMessage
{
    private string? _text;

    internal RoomMessage(Frame frame) => Frame = frame;

    internal Frame Frame { get; }

    /// <summary>True for a text frame, false for a binary one.</summary>
    public bool IsText => Frame.IsText;

    /// <summary>The payload bytes (UTF-8 for text frames).</summary>
    public ReadOnlyMemory<byte> Data => Frame.Data;

    /// <summary>The payload decoded as UTF-8 (decoded once, on first use).</summary>
    public string Text => _text ??= Encoding.UTF8.GetString(Frame.Data);

    /// <inheritdoc />
    public override string ToString() => IsText ? Text : $"<{Frame.Data.Length} bytes>";
}
