using System.Diagnostics;
using RoomActors.Diagnostics;

namespace RoomActors.Gateway.Diagnostics;

/// <summary>
/// The gateway's spans (source <see cref="RoomActorsDiagnostics.ActivitySourceName"/>): a connect, from the upgrade to
/// the room's answer, and an HTTP request forwarded to a room. <see cref="ActivitySource.StartActivity(string, ActivityKind)"/>
/// returns null while no listener samples them: then they cost one check.
/// </summary>
internal static class GatewayTracing
{
    public static readonly ActivitySource Source = new(RoomActorsDiagnostics.ActivitySourceName);

    /// <summary>A span about room <paramref name="type"/>/<paramref name="name"/>, or null when nobody listens.</summary>
    public static Activity? Start(string span, string type, string name)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        var activity = Source.StartActivity(span, ActivityKind.Internal);
        activity?.SetTag(RoomActorsNames.RoomTypeTag, type);
        activity?.SetTag(RoomActorsNames.RoomNameTag, name);
        return activity;
    }
}
