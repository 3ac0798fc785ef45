using Microsoft.Extensions.Options;

namespace RoomActors.Gateway.Auth;

/// <summary>
/// Checks <see cref="AuthOptions"/> when the host starts (whether or not auth is on, so that turning it on later does
/// not meet a bad value): every failure names the full configuration key, the value and what to change.
/// </summary>
internal sealed class AuthOptionsValidator : IValidateOptions<AuthOptions>
{
    private const string Key = AuthOptions.Section + ":";
    private static readonly AuthOptions Defaults = new();

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, AuthOptions options)
    {
        var failures = new List<string>();
        if (options.MaxTicketLifetime <= TimeSpan.Zero)
        {
            failures.Add($"{Key}{nameof(AuthOptions.MaxTicketLifetime)} ({options.MaxTicketLifetime}) must be positive; "
                + $"set the longest a ticket may be valid for, such as {Defaults.MaxTicketLifetime} (the default).");
        }

        if (options.ClockSkew < TimeSpan.Zero)
        {
            failures.Add($"{Key}{nameof(AuthOptions.ClockSkew)} ({options.ClockSkew}) must not be negative; "
                + $"set how far the issuer's clock may be off, such as {Defaults.ClockSkew} (the default), or 00:00:00 for none.");
        }
        else if (options.MaxTicketLifetime > TimeSpan.Zero && options.ClockSkew >= options.MaxTicketLifetime)
        {
            failures.Add($"{Key}{nameof(AuthOptions.ClockSkew)} ({options.ClockSkew}) must be below {Key}{nameof(AuthOptions.MaxTicketLifetime)} "
                + $"({options.MaxTicketLifetime}): a ticket would outlive its expiry by more than its whole life; lower the skew.");
        }

        for (var i = 0; i < options.AllowedOrigins.Count; i++)
        {
            var origin = options.AllowedOrigins[i];
            if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")
                || !string.Equals(uri.GetLeftPart(UriPartial.Authority), origin.TrimEnd('/'), StringComparison.OrdinalIgnoreCase))
            {
                failures.Add($"{Key}{nameof(AuthOptions.AllowedOrigins)}:{i} ('{origin}') is not an origin; "
                    + "give a scheme, host and optional port only, as a browser sends it, e.g. https://app.example.com.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
