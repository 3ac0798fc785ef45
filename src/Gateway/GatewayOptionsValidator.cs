using Microsoft.Extensions.Options;

namespace RoomActors.Gateway;

/// <summary>
/// Checks <see cref="GatewayOptions"/> when the host starts: every failure names the full configuration key, the value
/// and what to change, so that a bad setting stops the process instead of misbehaving later.
/// </summary>
internal sealed class GatewayOptionsValidator : IValidateOptions<GatewayOptions>
{
    private const string Key = GatewayOptions.Section + ":";
    private static readonly GatewayOptions Defaults = new();

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, GatewayOptions options)
    {
        var failures = new List<string>();
        AtLeastOne(failures, nameof(GatewayOptions.MaxMessageBytes), options.MaxMessageBytes, Defaults.MaxMessageBytes);
        AtLeastOne(failures, nameof(GatewayOptions.OutboundQueueMessages), options.OutboundQueueMessages, Defaults.OutboundQueueMessages);
        AtLeastOne(failures, nameof(GatewayOptions.OutboundQueueBytes), options.OutboundQueueBytes, Defaults.OutboundQueueBytes);
        AtLeastOne(failures, nameof(GatewayOptions.InboundQueueEvents), options.InboundQueueEvents, Defaults.InboundQueueEvents);
        AtLeastOne(failures, nameof(GatewayOptions.MaxBatchEvents), options.MaxBatchEvents, Defaults.MaxBatchEvents);
        AtLeastOne(failures, nameof(GatewayOptions.MessageRateBurst), options.MessageRateBurst, Defaults.MessageRateBurst);
        NotNegative(failures, nameof(GatewayOptions.MessageRatePerSecond), options.MessageRatePerSecond, Defaults.MessageRatePerSecond);
        NotNegative(failures, nameof(GatewayOptions.NewRoomsPerMinute), options.NewRoomsPerMinute, Defaults.NewRoomsPerMinute);
        NotNegative(failures, nameof(GatewayOptions.MaxConnectionsPerAddress), options.MaxConnectionsPerAddress, Defaults.MaxConnectionsPerAddress);

        if (options.MaxConnections < 0)
        {
            failures.Add($"{Key}{nameof(GatewayOptions.MaxConnections)} ({options.MaxConnections}) must not be negative; "
                + "set the most WebSocket connections this gateway may hold, or 0 (the default) to derive it from the descriptor limit.");
        }

        Positive(failures, nameof(GatewayOptions.CloseTimeout), options.CloseTimeout, Defaults.CloseTimeout);
        Positive(failures, nameof(GatewayOptions.ResyncTimeout), options.ResyncTimeout, Defaults.ResyncTimeout);
        Positive(failures, nameof(GatewayOptions.ShutdownTimeout), options.ShutdownTimeout, Defaults.ShutdownTimeout);
        Positive(failures, nameof(GatewayOptions.ReplayAge), options.ReplayAge, Defaults.ReplayAge);
        Positive(failures, nameof(GatewayOptions.RenewInterval), options.RenewInterval, Defaults.RenewInterval);
        Positive(failures, nameof(GatewayOptions.RoomUnavailableTimeout), options.RoomUnavailableTimeout, Defaults.RoomUnavailableTimeout);
        Positive(failures, nameof(GatewayOptions.RoomCallTimeout), options.RoomCallTimeout, Defaults.RoomCallTimeout);
        Positive(failures, nameof(GatewayOptions.FrameTimeout), options.FrameTimeout, Defaults.FrameTimeout);
        if (options.KeepAliveTimeout < TimeSpan.Zero)
        {
            failures.Add($"{Key}{nameof(GatewayOptions.KeepAliveTimeout)} ({options.KeepAliveTimeout}) must not be negative; "
                + "set a timeout such as 00:00:30 (the default), or 00:00:00 to never abort a peer that does not answer pings.");
        }

        if (options.KeepAliveInterval < TimeSpan.Zero)
        {
            failures.Add($"{Key}{nameof(GatewayOptions.KeepAliveInterval)} ({options.KeepAliveInterval}) must not be negative; "
                + "set an interval such as 00:00:30 (the default), or 00:00:00 to send no pings.");
        }

        if (options.RoomCallTimeout >= options.RoomUnavailableTimeout && options.RoomCallTimeout > TimeSpan.Zero)
        {
            failures.Add($"{Key}{nameof(GatewayOptions.RoomCallTimeout)} ({options.RoomCallTimeout}) must be below "
                + $"{Key}{nameof(GatewayOptions.RoomUnavailableTimeout)} ({options.RoomUnavailableTimeout}): a gateway re-sends "
                + "a batch after the first and gives the room up after the second; lower the first or raise the second.");
        }

        if (!string.IsNullOrEmpty(options.AutoResponseRequest) && options.AutoResponseResponse is null)
        {
            failures.Add($"{Key}{nameof(GatewayOptions.AutoResponseRequest)} is set but {Key}{nameof(GatewayOptions.AutoResponseResponse)} "
                + "is not: set both (e.g. ping and pong), or neither.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void AtLeastOne(List<string> failures, string option, long value, long fallback)
    {
        if (value < 1)
        {
            failures.Add($"{Key}{option} ({value}) must be at least 1; remove it to use the default ({fallback}).");
        }
    }

    private static void NotNegative(List<string> failures, string option, long value, long fallback)
    {
        if (value < 0)
        {
            failures.Add($"{Key}{option} ({value}) must not be negative; use 0 for no limit, or remove it to use the default ({fallback}).");
        }
    }

    private static void Positive(List<string> failures, string option, TimeSpan value, TimeSpan fallback)
    {
        if (value <= TimeSpan.Zero)
        {
            failures.Add($"{Key}{option} ({value}) must be positive; set a duration such as {fallback} (the default).");
        }
    }
}
