using System.Text;

namespace RoomActors.Client;

/// <summary>A message from the room: its number in the room's sequence and its payload, text or binary as it was sent.</summary>
public sealed class RoomMessage
{
    private string? _text;

    internal RoomMessage(long seq, bool isText, ReadOnlyMemory<byte> data)
    {
        Seq = seq;
        IsText = isText;
        Data = data;
    }

    /// <summary>
    /// The room's number of this message. Numbers only grow; a client sees the messages addressed to it, so gaps are
    /// messages for others.
    /// </summary>
    public long Seq { get; }

    /// <summary>True for a text message (<see cref="Text"/>), false for a binary one (<see cref="Data"/>).</summary>
    public bool IsText { get; }

    /// <summary>The payload bytes, unchanged (UTF-8 for a text message).</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>The text of a text message.</summary>
    /// <exception cref="InvalidOperationException">The message is binary: read <see cref="Data"/>.</exception>
    public string Text => IsText
        ? _text ??= Encoding.UTF8.GetString(Data.Span)
        : throw new InvalidOperationException($"Message {Seq} is binary ({Data.Length} bytes): read RoomMessage.Data, or check IsText first.");

    /// <inheritdoc />
    public override string ToString() => IsText ? $"{Seq}: {Text}" : $"{Seq}: {Data.Length} bytes";
}
