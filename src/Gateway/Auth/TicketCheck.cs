using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace RoomActors.Gateway.Auth;

/// <summary>The verified caller of a room request.</summary>
internal sealed record Caller(string? UserId, IReadOnlyDictionary<string, string> Claims)
{
    public static Caller Anonymous { get; } = new(null, new Dictionary<string, string>());
}

/// <summary>
/// The gateway's check before any upgrade: origin allow-list, then (when auth is on) a valid ticket for this room.
/// Failures are 401 (no or bad ticket) or 403 (wrong room, wrong origin), with the reason.
/// </summary>
internal sealed class TicketCheck(IOptions<AuthOptions> options)
{
    private readonly AuthOptions _options = options.Value;

    public async Task<(Caller? Caller, IResult? Rejection)> CheckAsync(HttpContext http, string type, string name)
    {
        var origin = http.Request.Headers.Origin.ToString();
        if (_options.AllowedOrigins.Count > 0 && origin.Length > 0
            && !_options.AllowedOrigins.Contains(origin, StringComparer.OrdinalIgnoreCase))
        {
            return (null, Deny(StatusCodes.Status403Forbidden, "Origin not allowed",
                $"Origin '{origin}' is not in RoomActors:Auth:AllowedOrigins."));
        }

        if (!_options.Enabled)
        {
            return (Caller.Anonymous, null);
        }

        var result = await http.AuthenticateAsync(JwtBearerDefaults.AuthenticationScheme);
        if (!result.Succeeded)
        {
            var why = result.Failure switch
            {
                null => "no ticket: pass one as ?ticket=… or Authorization: Bearer …",
                SecurityTokenExpiredException => "the ticket has expired",
                SecurityTokenInvalidSignatureException or SecurityTokenSignatureKeyNotFoundException => "the ticket's signature is not valid",
                _ => "the ticket is not valid: " + result.Failure.Message,
            };
            return (null, Deny(StatusCodes.Status401Unauthorized, "Ticket required", why));
        }

        var principal = result.Principal!;
        var rooms = principal.FindAll(RoomTickets.RoomClaim).Select(c => c.Value).ToList();
        if (!rooms.Any(pattern => RoomTickets.Matches(pattern, type, name)))
        {
            return (null, Deny(StatusCodes.Status403Forbidden, "Wrong room",
                $"The ticket opens {(rooms.Count == 0 ? "no room" : string.Join(", ", rooms))}, not {type}/{name}."));
        }

        var claims = principal.Claims.GroupBy(c => c.Type).ToDictionary(g => g.Key, g => string.Join(",", g.Select(c => c.Value)));
        var user = principal.FindFirstValue("sub") ?? principal.FindFirstValue(ClaimTypes.NameIdentifier);
        return (new Caller(user, claims), null);
    }

    private static IResult Deny(int status, string title, string detail) =>
        Results.Problem(statusCode: status, title: title, detail: detail);
}
