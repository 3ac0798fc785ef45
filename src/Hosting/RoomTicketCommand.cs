using System.Globalization;
using System.Security.Claims;
using Microsoft.Extensions.Configuration;
using RoomActors.Gateway.Auth;

namespace RoomActors.Hosting;

/// <summary>
/// The <c>ticket</c> command of a RoomActors host: prints a ticket (<see cref="RoomTickets.Create"/>) signed with
/// <c>RoomActors:Auth:SigningKey</c> and exits. The key, and the issuer and audience when set, come from the host's
/// configuration: appsettings, the environment (<c>RoomActors__Auth__SigningKey</c>) or <c>--RoomActors:Auth:…=…</c>.
/// </summary>
public static class RoomTicketCommand
{
    /// <summary>The command's name: the first argument.</summary>
    public const string Name = "ticket";

    /// <summary>What the command takes.</summary>
    public const string Usage =
        "usage: ticket --user USER --room TYPE/NAME [--room …] [--expires 1h] [--claim KEY=VALUE]… [--RoomActors:Auth:SigningKey=…]\n" +
        "  --room     a room pattern; * matches any run of characters (chat/*)\n" +
        "  --expires  a duration: 90s, 30m, 1h (default), 7d, or hh:mm:ss\n" +
        "  the signing key comes from RoomActors:Auth:SigningKey (environment RoomActors__Auth__SigningKey), at least 32 bytes";

    /// <summary>True when <paramref name="args"/> ask for this command (<c>ticket …</c>).</summary>
    public static bool IsInvoked(string[] args) => args.Length > 0 && args[0] == Name;

    /// <summary>
    /// Runs <c>ticket …</c>: writes the ticket to <paramref name="output"/> (standard output by default) and returns 0;
    /// on a mistake writes what is wrong to <paramref name="error"/> (standard error) and returns 1 (missing or short
    /// signing key) or 2 (bad arguments, or an expiry past <c>RoomActors:Auth:MaxTicketLifetime</c>).
    /// </summary>
    public static int Run(string[] args, TextWriter? output = null, TextWriter? error = null)
    {
        output ??= Console.Out;
        error ??= Console.Error;
        if (!TryParse(args.AsSpan(IsInvoked(args) ? 1 : 0), out var request, out var problem))
        {
            error.WriteLine($"ticket: {problem}");
            error.WriteLine(Usage);
            return 2;
        }

        var auth = RoomActorsHost.CreateHeadlessBuilder([.. request.Settings]).Configuration
            .GetSection(AuthOptions.Section).Get<AuthOptions>() ?? new AuthOptions();
        if (!auth.Enabled)
        {
            error.WriteLine("ticket: RoomActors:Auth:SigningKey is not set. Give the key the gateways use (at least 32 bytes), " +
                "preferably through the environment: RoomActors__Auth__SigningKey=… (or --RoomActors:Auth:SigningKey=…).");
            return 1;
        }

        if (request.Expires > auth.MaxTicketLifetime)
        {
            error.WriteLine($"ticket: --expires {request.Expires} is longer than RoomActors:Auth:MaxTicketLifetime ({auth.MaxTicketLifetime}): "
                + "gateways would refuse the ticket; give a shorter --expires, or raise the setting on every gateway.");
            return 2;
        }

        string ticket;
        try
        {
            ticket = RoomTickets.Create(auth.SigningKey!, request.User, request.Rooms[0], DateTimeOffset.UtcNow + request.Expires,
                auth.Issuer, auth.Audience, [.. request.Rooms.Skip(1).Select(r => new Claim(RoomTickets.RoomClaim, r)), .. request.Claims]);
        }
        catch (InvalidOperationException ex)
        {
            // The key is too short: RoomTickets says so, naming the setting.
            error.WriteLine($"ticket: {ex.Message}");
            return 1;
        }

        output.WriteLine(ticket);
        return 0;
    }

    private sealed record Request(string User, List<string> Rooms, TimeSpan Expires, List<Claim> Claims, List<string> Settings);

    private static bool TryParse(ReadOnlySpan<string> args, out Request request, out string problem)
    {
        request = new Request("", [], TimeSpan.FromHours(1), [], []);
        string? user = null;
        for (var i = 0; i < args.Length; i++)
        {
            var (name, value) = args[i].Split('=', 2) is [var n, var v] && n.StartsWith("--", StringComparison.Ordinal) ? (n, (string?)v) : (args[i], null);
            if (name.StartsWith("--RoomActors:", StringComparison.OrdinalIgnoreCase))
            {
                request.Settings.Add(args[i]);
                if (value is null && i + 1 < args.Length)
                {
                    request.Settings.Add(args[++i]);
                }

                continue;
            }

            if (name is not ("--user" or "--room" or "--expires" or "--claim"))
            {
                problem = $"unknown argument '{args[i]}'";
                return false;
            }

            if (value is null)
            {
                if (i + 1 >= args.Length)
                {
                    problem = $"{name} needs a value";
                    return false;
                }

                value = args[++i];
            }

            switch (name)
            {
                case "--user":
                    user = value;
                    break;
                case "--room":
                    request.Rooms.Add(value);
                    break;
                case "--expires" when TryParseDuration(value, out var expires):
                    request = request with { Expires = expires };
                    break;
                case "--expires":
                    problem = $"--expires '{value}' is not a positive duration like 90s, 30m, 1h, 7d or 01:30:00";
                    return false;
                case "--claim" when value.Split('=', 2) is [{ Length: > 0 } key, var claim]:
                    request.Claims.Add(new Claim(key, claim));
                    break;
                default:
                    problem = $"--claim '{value}' is not KEY=VALUE";
                    return false;
            }
        }

        if (string.IsNullOrWhiteSpace(user) || request.Rooms.Count == 0)
        {
            problem = "--user and --room are required";
            return false;
        }

        request = request with { User = user };
        problem = "";
        return true;
    }

    private static bool TryParseDuration(string text, out TimeSpan duration)
    {
        var unit = text.Length > 0 ? text[^1] : ' ';
        var scale = unit switch
        {
            's' => TimeSpan.FromSeconds(1),
            'm' => TimeSpan.FromMinutes(1),
            'h' => TimeSpan.FromHours(1),
            'd' => TimeSpan.FromDays(1),
            _ => TimeSpan.Zero,
        };
        if (scale != TimeSpan.Zero && double.TryParse(text[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var count))
        {
            duration = scale * count;
        }
        else if (!TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out duration))
        {
            return false;
        }

        return duration > TimeSpan.Zero;
    }
}
