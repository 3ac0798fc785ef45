using System.Security.Claims;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using RoomActors.Gateway.Diagnostics;

namespace RoomActors.Gateway.Auth;

/// <summary>The verified caller of a room request.</summary>
/// <param name="UserId">The ticket's <c>sub</c>; null without auth.</param>
/// <param name="Claims">The ticket's claims.</param>
/// <param name="EndsAt">When the ticket stops being accepted (<c>exp</c> + clock skew): the socket is closed then. Null without auth.</param>
internal sealed record Caller(string? UserId, IReadOnlyDictionary<string, string> Claims, DateTimeOffset? EndsAt = null)
{
    public static Caller Anonymous { get; } = new(null, new Dictionary<string, string>());
}

/// <summary>
/// The gateway's check before any upgrade: origin allow-list, then (when auth is on) a valid ticket for this room.
/// Failures are 401 (no or bad ticket) or 403 (wrong room, wrong origin), with the reason. Tickets are JWTs checked with
/// the token handler ASP.NET Core's JwtBearer uses, here and only here: no authentication middleware runs per request.
/// </summary>
internal sealed class TicketCheck(IOptions<AuthOptions> options)
{
    private readonly AuthOptions _options = options.Value;
    private readonly JsonWebTokenHandler _tokens = new() { MapInboundClaims = false }; // keep "sub" and "room" as they are
    private readonly TokenValidationParameters? _parameters = options.Value.Enabled ? ValidationFor(options.Value) : null;

    public async Task<(Caller? Caller, IResult? Rejection)> CheckAsync(HttpContext http, string type, string name)
    {
        var origin = http.Request.Headers.Origin.ToString();
        if (_options.AllowedOrigins.Count > 0 && origin.Length > 0
            && !_options.AllowedOrigins.Contains(origin, StringComparer.OrdinalIgnoreCase))
        {
            return (null, Deny(AuthRefusal.Origin, StatusCodes.Status403Forbidden, "Origin not allowed",
                $"Origin '{origin}' is not in RoomActors:Auth:AllowedOrigins."));
        }

        if (!_options.Enabled)
        {
            return (Caller.Anonymous, null);
        }

        if (TicketOf(http.Request) is not { } ticket)
        {
            return (null, Deny(AuthRefusal.Missing, StatusCodes.Status401Unauthorized, "Ticket required", "no ticket: pass one as ?ticket=… or Authorization: Bearer …"));
        }

        var result = await _tokens.ValidateTokenAsync(ticket, _parameters);
        if (!result.IsValid)
        {
            // Our words only: IdentityModel's messages (IDX…) name its internals, not what the caller should do.
            var reason = result.Exception is SecurityTokenExpiredException ? AuthRefusal.Expired : AuthRefusal.Invalid;
            return (null, Deny(reason, StatusCodes.Status401Unauthorized, "Ticket required", WhyNotValid(result.Exception)));
        }

        var token = (JsonWebToken)result.SecurityToken;
        var now = DateTimeOffset.UtcNow;
        var lifetime = token.ValidTo - (token.IssuedAt == DateTime.MinValue ? now.UtcDateTime : token.IssuedAt);
        if (lifetime > _options.MaxTicketLifetime)
        {
            return (null, Deny(AuthRefusal.Invalid, StatusCodes.Status401Unauthorized, "Ticket required",
                $"the ticket is valid for {Math.Round(lifetime.TotalHours, 1)} h, longer than RoomActors:Auth:MaxTicketLifetime "
                + $"({_options.MaxTicketLifetime}); issue tickets that expire sooner"));
        }

        var principal = new ClaimsPrincipal(result.ClaimsIdentity);
        var rooms = principal.FindAll(RoomTickets.RoomClaim).Select(c => c.Value).ToList();
        if (!rooms.Any(pattern => RoomTickets.Matches(pattern, type, name)))
        {
            return (null, Deny(AuthRefusal.WrongRoom, StatusCodes.Status403Forbidden, "Wrong room",
                $"The ticket opens {(rooms.Count == 0 ? "no room" : string.Join(", ", rooms))}, not {type}/{name}."));
        }

        var claims = principal.Claims.GroupBy(c => c.Type).ToDictionary(g => g.Key, g => string.Join(",", g.Select(c => c.Value)));
        var user = principal.FindFirstValue("sub") ?? principal.FindFirstValue(ClaimTypes.NameIdentifier);
        return (new Caller(user, claims, new DateTimeOffset(token.ValidTo, TimeSpan.Zero) + _options.ClockSkew), null);
    }

    private static string WhyNotValid(Exception? failure) => failure switch
    {
        SecurityTokenExpiredException => "the ticket has expired; get a new one",
        SecurityTokenNotYetValidException => "the ticket is not valid yet (nbf is in the future); check the issuer's clock",
        SecurityTokenInvalidSignatureException or SecurityTokenSignatureKeyNotFoundException =>
            "the ticket's signature is not valid: it was not signed with this gateway's RoomActors:Auth:SigningKey (or PreviousSigningKey)",
        SecurityTokenInvalidLifetimeException => "the ticket expires before it starts (exp before nbf)",
        SecurityTokenNoExpirationException => "the ticket has no expiry (exp); issue tickets that expire",
        SecurityTokenInvalidIssuerException => "the ticket's issuer (iss) is not RoomActors:Auth:Issuer",
        SecurityTokenInvalidAudienceException => "the ticket's audience (aud) is not RoomActors:Auth:Audience",
        SecurityTokenMalformedException or ArgumentException => "the ticket is not a well-formed JWT",
        _ => "the ticket is not valid",
    };

    /// <summary>
    /// The query string room code sees: without the <c>ticket</c> parameter (a credential) unless
    /// <c>RoomActors:Auth:ForwardTicket</c> is true.
    /// </summary>
    public string RoomQueryString(HttpRequest request)
    {
        if (_options.ForwardTicket || !request.Query.ContainsKey("ticket"))
        {
            return request.QueryString.Value ?? "";
        }

        var kept = request.Query.Where(p => p.Key != "ticket").SelectMany(p => p.Value.Select(v => new KeyValuePair<string, string?>(p.Key, v)));
        return QueryString.Create(kept).Value ?? "";
    }

    /// <summary>Browsers cannot set headers on a WebSocket: the ticket may come as <c>?ticket=…</c>, else as a bearer token.</summary>
    private static string? TicketOf(HttpRequest request)
    {
        if (request.Query.TryGetValue("ticket", out var query) && query.Count > 0 && !string.IsNullOrEmpty(query[0]))
        {
            return query[0];
        }

        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && header.Length > 7 ? header[7..].Trim() : null;
    }

    private static TokenValidationParameters ValidationFor(AuthOptions auth) => new()
    {
        IssuerSigningKeys = auth.PreviousSigningKey is null
            ? [RoomTickets.Key(auth.SigningKey!)]
            : [RoomTickets.Key(auth.SigningKey!), RoomTickets.Key(auth.PreviousSigningKey, "RoomActors:Auth:PreviousSigningKey")],
        ValidateIssuerSigningKey = true,
        ValidateIssuer = auth.Issuer is not null,
        ValidIssuer = auth.Issuer,
        ValidateAudience = auth.Audience is not null,
        ValidAudience = auth.Audience,
        ValidateLifetime = true,
        RequireExpirationTime = true,
        ClockSkew = auth.ClockSkew,
    };

    private static IResult Deny(AuthRefusal reason, int status, string title, string detail)
    {
        GatewayMetrics.AuthRefused(reason);
        return Results.Problem(statusCode: status, title: title, detail: detail);
    }
}
