using System.Text;

namespace RoomActors;

/// <summary>An HTTP request to a room, as the gateway forwards it.</summary>
[GenerateSerializer, Immutable]
public sealed class RoomHttpRequest
{
    /// <summary>The method, e.g. <c>GET</c>.</summary>
    [Id(0)] public required string Method { get; init; }

    /// <summary>The path below the room, without a leading slash: empty for <c>/rooms/{type}/{name}</c>.</summary>
    [Id(1)] public string Path { get; init; } = "";

    /// <summary>The raw query string, with the leading <c>?</c>, or empty.</summary>
    [Id(2)] public string QueryString { get; init; } = "";

    /// <summary>The request headers (names in lower case; repeated headers joined with commas).</summary>
    [Id(3)] public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();

    /// <summary>The request body (at most the gateway's <c>MaxMessageBytes</c>).</summary>
    [Id(4)] public byte[] Body { get; init; } = [];

    /// <summary>The verified user (the ticket's subject), or null when auth is off.</summary>
    [Id(5)] public string? UserId { get; init; }

    /// <summary>The verified ticket's claims (type → value), or empty when auth is off.</summary>
    [Id(6)] public IReadOnlyDictionary<string, string> Claims { get; init; } = new Dictionary<string, string>();

    /// <summary>The body decoded as UTF-8.</summary>
    public string BodyText => Encoding.UTF8.GetString(Body);
}

/// <summary>A room's answer to an HTTP request.</summary>
[GenerateSerializer, Immutable]
public sealed class RoomHttpResponse
{
    /// <summary>The status code. Default 200.</summary>
    [Id(0)] public int Status { get; init; } = 200;

    /// <summary>Response headers; <c>content-type</c> among them sets the content type.</summary>
    [Id(1)] public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();

    /// <summary>The body.</summary>
    [Id(2)] public byte[] Body { get; init; } = [];

    /// <summary>A <c>text/plain</c> response.</summary>
    public static RoomHttpResponse Text(string text, int status = 200) => new()
    {
        Status = status,
        Headers = new Dictionary<string, string> { ["content-type"] = "text/plain; charset=utf-8" },
        Body = Encoding.UTF8.GetBytes(text),
    };

    /// <summary>An <c>application/json</c> response of already serialized JSON.</summary>
    public static RoomHttpResponse Json(string json, int status = 200) => new()
    {
        Status = status,
        Headers = new Dictionary<string, string> { ["content-type"] = "application/json; charset=utf-8" },
        Body = Encoding.UTF8.GetBytes(json),
    };
}
