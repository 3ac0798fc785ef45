using System.Text;

namespace RoomActors;

/// <summary>Builds frames. Each payload is encoded once; the same frame then goes to every recipient.</summary>
internal static class Frames
{
    public static Frame Text(string text) => new(true, Encoding.UTF8.GetBytes(text ?? throw new ArgumentNullException(nameof(text))));

    public static Frame Binary(ReadOnlySpan<byte> data) => new(false, data.ToArray());
}
