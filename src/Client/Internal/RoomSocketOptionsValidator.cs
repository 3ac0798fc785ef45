namespace RoomActors.Client.Internal;

/// <summary>
/// Checks <see cref="RoomSocketOptions"/> when a socket is constructed: a failure names the option, its value and what
/// to change, so that a mistake stops the app at once instead of in a reconnect loop.
/// </summary>
internal static class RoomSocketOptionsValidator
{
    private static readonly RoomSocketOptions Defaults = new();
    private static readonly string[] ReservedQuery = ["ticket", "resume", "seq"];

    public static void Validate(RoomSocketOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Server is not { IsAbsoluteUri: true } server || server.Scheme is not ("ws" or "wss" or "http" or "https"))
        {
            throw Invalid(nameof(RoomSocketOptions.Server), options.Server,
                "must be an absolute ws://, wss://, http:// or https:// address of a gateway, e.g. ws://localhost:8080");
        }

        foreach (var fallback in options.FallbackServers)
        {
            if (fallback is not { IsAbsoluteUri: true } || fallback.Scheme is not ("ws" or "wss" or "http" or "https"))
            {
                throw Invalid(nameof(RoomSocketOptions.FallbackServers), fallback,
                    "must hold absolute ws://, wss://, http:// or https:// addresses of gateways, e.g. ws://localhost:8081");
            }
        }

        if (string.IsNullOrEmpty(options.Type) || options.Type.Contains('/'))
        {
            throw Invalid(nameof(RoomSocketOptions.Type), options.Type, "must be a room type, e.g. chat (the name in its [Room(\"…\")] attribute)");
        }

        if (!RoomUrl.IsValidName(options.Name))
        {
            throw Invalid(nameof(RoomSocketOptions.Name), options.Name, "must be 1-128 characters of A-Z a-z 0-9 . _ ~ -");
        }

        if (options.Ticket is not null && options.TicketProvider is not null)
        {
            throw Invalid(nameof(RoomSocketOptions.TicketProvider), "set",
                "and Ticket are both set: set TicketProvider alone (it is asked before every connect), or Ticket alone");
        }

        foreach (var key in ReservedQuery.Where(options.Query.ContainsKey))
        {
            throw Invalid(nameof(RoomSocketOptions.Query), key,
                key == "ticket" ? "must not hold ticket: set RoomSocketOptions.Ticket instead" : $"must not hold {key}: the socket sets it when it resumes");
        }

        AtLeastOne(nameof(RoomSocketOptions.MaxBufferedMessages), options.MaxBufferedMessages, Defaults.MaxBufferedMessages);
        AtLeastOne(nameof(RoomSocketOptions.MaxMessageBytes), options.MaxMessageBytes, Defaults.MaxMessageBytes);
        Positive(nameof(RoomSocketOptions.MinReconnectDelay), options.MinReconnectDelay, Defaults.MinReconnectDelay);
        Positive(nameof(RoomSocketOptions.ConnectTimeout), options.ConnectTimeout, Defaults.ConnectTimeout);
        Positive(nameof(RoomSocketOptions.CloseTimeout), options.CloseTimeout, Defaults.CloseTimeout);
        if (options.MaxReconnectDelay < options.MinReconnectDelay)
        {
            throw Invalid(nameof(RoomSocketOptions.MaxReconnectDelay), options.MaxReconnectDelay,
                $"must be at least {nameof(RoomSocketOptions.MinReconnectDelay)} ({options.MinReconnectDelay}); raise it or lower the other");
        }

        if (options.KeepAliveInterval < TimeSpan.Zero)
        {
            throw Invalid(nameof(RoomSocketOptions.KeepAliveInterval), options.KeepAliveInterval,
                $"must not be negative; use {Defaults.KeepAliveInterval} (the default), or TimeSpan.Zero to send no pings");
        }
    }

    private static void AtLeastOne(string option, int value, int fallback)
    {
        if (value < 1)
        {
            throw Invalid(option, value, $"must be at least 1; leave it out to use the default ({fallback})");
        }
    }

    private static void Positive(string option, TimeSpan value, TimeSpan fallback)
    {
        if (value <= TimeSpan.Zero)
        {
            throw Invalid(option, value, $"must be positive; leave it out to use the default ({fallback})");
        }
    }

    private static ArgumentException Invalid(string option, object? value, string rule) =>
        new($"RoomSocketOptions.{option} ({value?.ToString() ?? "null"}) {rule}.", "options");
}
