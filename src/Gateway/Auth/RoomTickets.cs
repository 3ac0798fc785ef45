using System.Security.Claims;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace RoomActors.Gateway.Auth;

/// <summary>
/// Tickets: JWTs signed with HMAC-SHA256 naming a user (<c>sub</c>), the rooms they open (<c>room</c>: a
/// <c>type/name</c> pattern where <c>*</c> matches any run of characters, e.g. <c>chat/*</c>) and an expiry.
/// Your app's backend issues them; clients pass them as <c>?ticket=…</c> or <c>Authorization: Bearer …</c>.
/// </summary>
public static class RoomTickets
{
    /// <summary>The claim naming the rooms a ticket opens.</summary>
    public const string RoomClaim = "room";

    /// <summary>Creates a ticket for <paramref name="user"/> to rooms matching <paramref name="roomPattern"/>.</summary>
    public static string Create(string signingKey, string user, string roomPattern, DateTimeOffset expires,
        string? issuer = null, string? audience = null, IEnumerable<Claim>? extraClaims = null)
    {
        var claims = new List<Claim> { new("sub", user), new(RoomClaim, roomPattern) };
        claims.AddRange(extraClaims ?? []);
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Subject = new ClaimsIdentity(claims),
            Expires = expires.UtcDateTime,
            NotBefore = DateTime.UtcNow.AddMinutes(-1),
            Issuer = issuer,
            Audience = audience,
            SigningCredentials = new SigningCredentials(Key(signingKey), SecurityAlgorithms.HmacSha256),
        });
    }

    /// <summary>The signing key, checked for length.</summary>
    public static SymmetricSecurityKey Key(string signingKey) => Key(signingKey, AuthOptions.Section + ":" + nameof(AuthOptions.SigningKey));

    /// <summary>A key, checked for length; <paramref name="setting"/> names its configuration key in the error.</summary>
    internal static SymmetricSecurityKey Key(string signingKey, string setting)
    {
        var bytes = Encoding.UTF8.GetBytes(signingKey);
        return bytes.Length >= 32
            ? new SymmetricSecurityKey(bytes)
            : throw new InvalidOperationException(bytes.Length == 0
                ? $"{setting} is set but empty; give a key of at least 32 bytes (HMAC-SHA256), or remove the setting to turn auth off."
                : $"{setting} has {bytes.Length} bytes; use at least 32 (HMAC-SHA256).");
    }

    /// <summary>True when <paramref name="pattern"/> (with <c>*</c> wildcards) matches <c>{type}/{name}</c>.</summary>
    public static bool Matches(string pattern, string type, string name)
    {
        var target = $"{type}/{name}";
        var parts = pattern.Split('*');
        if (parts.Length == 1)
        {
            return string.Equals(pattern, target, StringComparison.Ordinal);
        }

        if (!target.StartsWith(parts[0], StringComparison.Ordinal) || !target.EndsWith(parts[^1], StringComparison.Ordinal)
            || target.Length < parts[0].Length + parts[^1].Length)
        {
            return false;
        }

        var at = parts[0].Length;
        var end = target.Length - parts[^1].Length;
        for (var i = 1; i < parts.Length - 1; i++)
        {
            var found = target.IndexOf(parts[i], at, end - at, StringComparison.Ordinal);
            if (found < 0)
            {
                return false;
            }

            at = found + parts[i].Length;
        }

        return true;
    }
}
