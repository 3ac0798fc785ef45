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

    /// <summary>
    /// Key rotation: a second key tickets may be signed with (at least 32 bytes of UTF-8), accepted together with
    /// <see cref="SigningKey"/>. To rotate: set the old key here and the new one as <see cref="SigningKey"/>, move your
    /// issuer to the new key, and remove this one once the last old ticket has expired (at most
    /// <see cref="MaxTicketLifetime"/> later). Default none. A secret, like the signing key.
    /// </summary>
    public string? PreviousSigningKey { get; set; }

    /// <summary>
    /// The longest a ticket may be valid for: <c>exp</c> − <c>iat</c> (or <c>exp</c> − now without <c>iat</c>). A longer
    /// one is refused with 401. Default 24 hours.
    /// </summary>
    public TimeSpan MaxTicketLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// Whether room code sees the <c>ticket</c> query parameter (connect context and HTTP hook). Default false: the
    /// gateway removes it. (The <c>Authorization</c> and <c>Cookie</c> headers reach room code only when listed in
    /// <c>RoomActors:Gateway:ForwardedHeaders</c>.)
    /// </summary>
    public bool ForwardTicket { get; set; }

    /// <summary>When set, tickets must name this issuer (<c>iss</c>).</summary>
    public string? Issuer { get; set; }

    /// <summary>When set, tickets must name this audience (<c>aud</c>).</summary>
    public string? Audience { get; set; }

    /// <summary>
    /// Browser origins allowed to connect (e.g. <c>https://app.example.com</c>). Empty (default): any. A request
    /// without an <c>Origin</c> header (not a browser) is not affected.
    /// </summary>
    public List<string> AllowedOrigins { get; set; } = [];

    /// <summary>
    /// How far the issuer's clock may be off the gateway's: a ticket is accepted until <c>exp</c> + this (and from
    /// <c>nbf</c> − this), and an open socket is closed with 4401 at <c>exp</c> + this. Default 30 s.
    /// </summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>True when tickets are required: <see cref="SigningKey"/> is set (an empty value is refused at start).</summary>
    public bool Enabled => SigningKey is not null;
}
