using System.Security.Claims;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using RoomActors.Gateway.Diagnostics;

namespace RoomActors.Gateway.Auth;

/// <summary>The verified caller of a room request.</summary>
internal sealed record Caller(string? UserId, IReadOnlyDictionary<string, string> Claims)
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
            var why = result.Exception switch
            {
                SecurityTokenExpiredException => "the ticket has expired",
                SecurityTokenInvalidSignatureException or SecurityTokenSignatureKeyNotFoundException => "the ticket's signature is not valid",
                { } failure => "the ticket is not valid: " + failure.Message,
                null => "the ticket is not valid",
            };
            var reason = result.Exception is SecurityTokenExpiredException ? AuthRefusal.Expired : AuthRefusal.Invalid;
            return (null, Deny(reason, StatusCodes.Status401Unauthorized, "Ticket required", why));
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
        return (new Caller(user, claims), null);
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
        IssuerSigningKey = RoomTickets.Key(auth.SigningKey!),
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
