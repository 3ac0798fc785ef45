using Microsoft.Extensions.Options;
using GatewayOptions = RoomActors.Gateway.GatewayOptions;

namespace RoomActors.Hosting;

/// <summary>
/// Where a silo co-hosts the gateway (the all-in-one, or a silo with <c>--urls</c>), both sides of the gateway lease
/// are bound in one process: the gateway's <see cref="GatewayOptions.RenewInterval"/> must be at most a third of the
/// rooms' <see cref="RoomOptions.GatewayLease"/>, so that a live gateway can miss two reports without its connections
/// being closed. Standalone gateways and pure silos cannot see each other's settings; there the rule is documented on
/// both properties.
/// </summary>
internal sealed class GatewayLeaseValidator(IOptions<RoomOptions> rooms) : IValidateOptions<GatewayOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, GatewayOptions options)
    {
        var lease = rooms.Value.GatewayLease;
        if (options.RenewInterval <= TimeSpan.Zero || lease <= TimeSpan.Zero || options.RenewInterval * 3 <= lease)
        {
            return ValidateOptionsResult.Success; // the other validators report non-positive durations
        }

        return ValidateOptionsResult.Fail(
            $"{GatewayOptions.Section}:{nameof(GatewayOptions.RenewInterval)} ({options.RenewInterval}) must be at most a third of "
            + $"{RoomOptions.Section}:{nameof(RoomOptions.GatewayLease)} ({lease}), or rooms close the connections of a live gateway "
            + "that missed one report; lower RenewInterval or raise GatewayLease.");
    }
}
