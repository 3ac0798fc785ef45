namespace RoomActors.Gateway.Auth;

/// <summary>
/// Who may connect. Configuration section <c>RoomActors:Auth</c>. Off unless <see cref="SigningKey"/> is set; when it
/// is, every WebSocket and HTTP request to a room needs a valid ticket.
/// </summary>
public sealed class AuthOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "RoomActors:Auth";

    /// <summary>
    /// The HMAC-SHA256 key tickets are signed with (at least 32 bytes of UTF-8). Empty (default): auth is off.
    /// A secret: set it through the environment (<c>RoomActors__Auth__SigningKey</c>), not in appsettings.
    /// </summary>
    public string? SigningKey { get; set; }

    /// <summary>When set, tickets must name this issuer (<c>iss</c>).</summary>
    public string? Issuer { get; set; }

    /// <summary>When set, tickets must name this audience (<c>aud</c>).</summary>
    public string? Audience { get; set; }

    /// <summary>
    /// Browser origins allowed to connect (e.g. <c>https://app.example.com</c>). Empty (default): any. A request
    /// without an <c>Origin</c> header (not a browser) is not affected.
    /// </summary>
    public List<string> AllowedOrigins { get; set; } = [];

    /// <summary>How far a ticket's expiry may be off because of clock skew. Default 30 s.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>True when tickets are required.</summary>
    public bool Enabled => !string.IsNullOrEmpty(SigningKey);
}
