using Microsoft.Extensions.Options;

namespace RoomActors.Gateway;

/// <summary>
/// Checks <see cref="GatewayOptions"/> when the host starts: every failure names the full configuration key, the value
/// and what to change, so that a bad setting stops the process instead of misbehaving later.
/// </summary>
internal sealed class GatewayOptionsValidator : IValidateOptions<GatewayOptions>
{
    private const string Key = GatewayOptions.Section + ":";

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, GatewayOptions options)
    {
        var failures = new List<string>();
        AtLeastOne(failures, nameof(GatewayOptions.MaxMessageBytes), options.MaxMessageBytes, "1048576");
        AtLeastOne(failures, nameof(GatewayOptions.OutboundQueueMessages), options.OutboundQueueMessages, "1024");
        AtLeastOne(failures, nameof(GatewayOptions.OutboundQueueBytes), options.OutboundQueueBytes, "4194304");
        AtLeastOne(failures, nameof(GatewayOptions.InboundQueueEvents), options.InboundQueueEvents, "4096");
        AtLeastOne(failures, nameof(GatewayOptions.MaxBatchEvents), options.MaxBatchEvents, "256");

        Positive(failures, nameof(GatewayOptions.CloseTimeout), options.CloseTimeout, "00:00:05");
        Positive(failures, nameof(GatewayOptions.ResyncTimeout), options.ResyncTimeout, "00:00:10");
        Positive(failures, nameof(GatewayOptions.ShutdownTimeout), options.ShutdownTimeout, "00:00:10");
        Positive(failures, nameof(GatewayOptions.RenewInterval), options.RenewInterval, "00:00:05");
        Positive(failures, nameof(GatewayOptions.RoomUnavailableTimeout), options.RoomUnavailableTimeout, "00:00:30");
        Positive(failures, nameof(GatewayOptions.RoomCallTimeout), options.RoomCallTimeout, "00:00:04");
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

    private static void AtLeastOne(List<string> failures, string option, long value, string fallback)
    {
        if (value < 1)
        {
            failures.Add($"{Key}{option} ({value}) must be at least 1; remove it to use the default ({fallback}).");
        }
    }

    private static void Positive(List<string> failures, string option, TimeSpan value, string fallback)
    {
        if (value <= TimeSpan.Zero)
        {
            failures.Add($"{Key}{option} ({value}) must be positive; set a duration such as {fallback} (the default).");
        }
    }
}
