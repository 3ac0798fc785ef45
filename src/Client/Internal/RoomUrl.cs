using System.Text;

namespace RoomActors.Client.Internal;

/// <summary>The address of a room: <c>ws(s)://host/prefix/rooms/{type}/{name}?{query}&amp;ticket=…[&amp;resume=…&amp;seq=…]</c>.</summary>
internal static class RoomUrl
{
    /// <summary>True for a room name the gateway accepts: 1–128 characters of <c>A-Z a-z 0-9 . _ ~ -</c>.</summary>
    public static bool IsValidName(string? name) =>
        name is { Length: >= 1 and <= 128 } && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '~' or '-');

    /// <param name="options">Server, type, name, query and ticket.</param>
    /// <param name="resume">The resume token and the last seen number, or null for a fresh connection.</param>
    /// <param name="server">The gateway to use (default <see cref="RoomSocketOptions.Server"/>).</param>
    /// <param name="ticket">The ticket to send (default <see cref="RoomSocketOptions.Ticket"/>), e.g. the ticket provider's.</param>
    public static Uri Build(RoomSocketOptions options, (string Token, long LastSeq)? resume, Uri? server = null, string? ticket = null)
    {
        ticket ??= options.Ticket;
        server ??= options.Server!;
        var builder = new UriBuilder(server)
        {
            Scheme = server.Scheme switch { "http" => "ws", "https" => "wss", var s => s },
            Path = server.AbsolutePath.TrimEnd('/') + "/rooms/" + Uri.EscapeDataString(options.Type) + "/" + options.Name,
        };
        var query = new StringBuilder();
        foreach (var (key, value) in options.Query)
        {
            Append(query, key, value);
        }

        if (ticket is { Length: > 0 })
        {
            Append(query, "ticket", ticket);
        }

        if (resume is var (token, lastSeq))
        {
            Append(query, "resume", token);
            Append(query, "seq", lastSeq.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        builder.Query = query.ToString();
        return builder.Uri;
    }

    private static void Append(StringBuilder query, string key, string value)
    {
        query.Append(query.Length == 0 ? "" : "&").Append(Uri.EscapeDataString(key)).Append('=').Append(Uri.EscapeDataString(value));
    }

    /// <summary>The address with the secrets (ticket, resume token) elided, for error messages.</summary>
    public static string Redacted(Uri uri) =>
        System.Text.RegularExpressions.Regex.Replace(uri.AbsoluteUri, "([?&](?:ticket|resume)=)[^&]*", "$1…");
}
