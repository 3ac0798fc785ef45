using Microsoft.Extensions.Options;

namespace RoomActors.Hosting;

/// <summary>
/// Checks <see cref="RoomActorsOptions"/>: ports, ids and the advertised address. These settings are read while the
/// host is built (endpoints, clustering), so <see cref="RoomActorsHost.GetRoomActorsOptions"/> checks them there,
/// before anything listens; every failure names the full configuration key and what to do.
/// </summary>
internal sealed class RoomActorsOptionsValidator : IValidateOptions<RoomActorsOptions>
{
    private const string Key = RoomActorsOptions.Section + ":";

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, RoomActorsOptions options)
    {
        var failures = new List<string>();
        Port(failures, nameof(RoomActorsOptions.SiloPort), "--silo-port", options.SiloPort, 11111);
        Port(failures, nameof(RoomActorsOptions.ClientPort), "--client-port", options.ClientPort, 30000);
        if (options.SiloPort == options.ClientPort)
        {
            failures.Add($"{Key}{nameof(RoomActorsOptions.SiloPort)} and {Key}{nameof(RoomActorsOptions.ClientPort)} are both "
                + $"{options.SiloPort}; a silo listens on both, so give them different ports.");
        }

        if (options.MaxClusterConnections < 0)
        {
            failures.Add($"{Key}{nameof(RoomActorsOptions.MaxClusterConnections)} ({options.MaxClusterConnections}) must not be negative; "
                + "give the most connections each Orleans port may hold (at least the number of silos plus gateways), or 0 to derive it from the descriptor limit.");
        }

        if (options.DirectoryCacheSize < 0)
        {
            failures.Add($"{Key}{nameof(RoomActorsOptions.DirectoryCacheSize)} ({options.DirectoryCacheSize}) must not be negative; "
                + "give the most room addresses a silo caches (default 100000), or 0 for no cache.");
        }

        Id(failures, nameof(RoomActorsOptions.ClusterId), "--cluster-id", options.ClusterId);
        Id(failures, nameof(RoomActorsOptions.ServiceId), "--service-id", options.ServiceId);
        if (!string.IsNullOrWhiteSpace(options.AdvertisedIp) && !System.Net.IPAddress.TryParse(options.AdvertisedIp, out _))
        {
            failures.Add($"{Key}{nameof(RoomActorsOptions.AdvertisedIp)} ('{options.AdvertisedIp}') is not an IP address; give one "
                + "like 10.0.0.5 (--advertised-ip; silos advertise addresses, not host names), or remove it for the default.");
        }

        if (!string.IsNullOrWhiteSpace(options.ManagementUrls))
        {
            ManagementUrls(failures, options.ManagementUrls);
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void ManagementUrls(List<string> failures, string urls)
    {
        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            Microsoft.AspNetCore.Http.BindingAddress address;
            try
            {
                address = Microsoft.AspNetCore.Http.BindingAddress.Parse(url);
            }
            catch (FormatException)
            {
                // Report with the others: the setting is wrong, not the process.
                address = null!;
            }

            if (address is null || address.Scheme is not ("http" or "https") || address.Port is < 1 or > 65535)
            {
                failures.Add($"{Key}{nameof(RoomActorsOptions.ManagementUrls)}: '{url}' is not a listen URL with a port; give one like "
                    + "http://0.0.0.0:9090 (--management-urls; several separated by ;), or remove it for no management port.");
            }
        }
    }

    /// <summary>Returns <paramref name="options"/>, or throws <see cref="OptionsValidationException"/> listing every bad setting.</summary>
    public static RoomActorsOptions ThrowIfInvalid(RoomActorsOptions options)
    {
        var result = new RoomActorsOptionsValidator().Validate(Options.DefaultName, options);
        return result.Failed
            ? throw new OptionsValidationException(Options.DefaultName, typeof(RoomActorsOptions), result.Failures)
            : options;
    }

    private static void Port(List<string> failures, string option, string flag, int value, int fallback)
    {
        if (value is < 1 or > 65535)
        {
            failures.Add($"{Key}{option} ({value}) must be a port from 1 to 65535; set it with {flag}, or remove it for the default ({fallback}).");
        }
    }

    private static void Id(List<string> failures, string option, string flag, string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            failures.Add($"{Key}{option} is empty; set it with {flag} (every process of one cluster uses the same), or remove it for the default (roomactors).");
        }
    }
}
