using System.Text;

namespace RoomActors;

/// <summary>Builds frames. Each payload is encoded once; the same frame then goes to every recipient.</summary>
internal static class Payloads
{
    public static Payload Text(string text) => new(true, Encoding.UTF8.GetBytes(text ?? throw new ArgumentNullException(nameof(text))));

    public static Payload Binary(ReadOnlySpan<byte> data) => new(false, data.ToArray());
}
