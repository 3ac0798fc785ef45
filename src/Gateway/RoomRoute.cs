using System.Buffers;

namespace RoomActors.Gateway;

/// <summary>Rules for the <c>/rooms/{type}/{name}</c> URL.</summary>
public static class RoomRoute
{
    /// <summary>The route pattern.</summary>
    public const string Pattern = "/rooms/{type}/{name}";

    /// <summary>The longest room name.</summary>
    public const int MaxNameLength = 128;

    private static readonly SearchValues<char> NameChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~-");

    /// <summary>True for 1–128 characters of <c>A-Z a-z 0-9 . _ ~ -</c>.</summary>
    public static bool IsValidName(string? name) =>
        name is { Length: > 0 and <= MaxNameLength } && !name.AsSpan().ContainsAnyExcept(NameChars);
}
