using Microsoft.Extensions.Options;

namespace RoomActors;

/// <summary>
/// Checks <see cref="RoomOptions"/> when the silo starts: every failure names the full configuration key, the value
/// and what to change.
/// </summary>
internal sealed class RoomOptionsValidator : IValidateOptions<RoomOptions>
{
    private const string Key = RoomOptions.Section + ":";
    private static readonly RoomOptions Defaults = new();

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, RoomOptions options)
    {
        var failures = new List<string>();
        Positive(failures, nameof(RoomOptions.GatewayLease), options.GatewayLease, Defaults.GatewayLease);
        Positive(failures, nameof(RoomOptions.AlarmRetryBase), options.AlarmRetryBase, Defaults.AlarmRetryBase);
        Positive(failures, nameof(RoomOptions.LeaseCheckInterval), options.LeaseCheckInterval, Defaults.LeaseCheckInterval);
        Positive(failures, nameof(RoomOptions.ResumeWindow), options.ResumeWindow, Defaults.ResumeWindow);
        if (options.ReplayMessages < 1 || options.ReplayBytes < 1)
        {
            failures.Add($"{Key}{nameof(RoomOptions.ReplayMessages)} ({options.ReplayMessages}) and {Key}{nameof(RoomOptions.ReplayBytes)} "
                + $"({options.ReplayBytes}) must be at least 1; the defaults are {Defaults.ReplayMessages} and {Defaults.ReplayBytes}.");
        }
        if (options.IdleCollectAfter < TimeSpan.Zero)
        {
            failures.Add($"{Key}{nameof(RoomOptions.IdleCollectAfter)} ({options.IdleCollectAfter}) must not be negative; "
                + "set a duration such as 00:02:00 (the default), or 00:00:00 to leave empty rooms to Orleans' collection age.");
        }

        if (options.HibernateAfter < TimeSpan.Zero)
        {
            failures.Add($"{Key}{nameof(RoomOptions.HibernateAfter)} ({options.HibernateAfter}) must not be negative; "
                + "set a duration such as 00:00:30 (the default), or 00:00:00 to keep rooms in memory.");
        }

        if (options.BusyAfter < TimeSpan.Zero)
        {
            failures.Add($"{Key}{nameof(RoomOptions.BusyAfter)} ({options.BusyAfter}) must not be negative; "
                + "set a duration below the gateways' RoomCallTimeout such as 00:00:02 (the default), or 00:00:00 to never refuse a connect as busy.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Positive(List<string> failures, string option, TimeSpan value, TimeSpan fallback)
    {
        if (value <= TimeSpan.Zero)
        {
            failures.Add($"{Key}{option} ({value}) must be positive; set a duration such as {fallback} (the default).");
        }
    }
}
