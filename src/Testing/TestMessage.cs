using System.Text;

namespace RoomActors.Testing;

/// <summary>One message a room sent a <see cref="TestRoomClient"/>: text or binary, exactly as the room sent it.</summary>
/// <param name="IsText">True for a text message, false for a binary one.</param>
/// <param name="Data">The payload (UTF-8 for text).</param>
public sealed record TestMessage(bool IsText, ReadOnlyMemory<byte> Data)
{
    /// <summary>The payload decoded as UTF-8.</summary>
    public string Text => Encoding.UTF8.GetString(Data.Span);

    /// <inheritdoc />
    public override string ToString() => IsText ? Text : $"<{Data.Length} bytes>";
}
