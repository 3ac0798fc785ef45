using System.Diagnostics;
using RoomActors.Diagnostics;

namespace RoomActors;

/// <summary>
/// The silo's span (source <see cref="RoomActorsDiagnostics.ActivitySourceName"/>): one room turn. Started only while a
/// listener samples it; otherwise one check per turn.
/// </summary>
internal static class RoomTracing
{
    public static readonly ActivitySource Source = new(RoomActorsDiagnostics.ActivitySourceName);

    public static Activity? StartTurn(string type, string name, string kind)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        var activity = Source.StartActivity(RoomActorsNames.TurnSpan, ActivityKind.Internal);
        activity?.SetTag(RoomActorsNames.RoomTypeTag, type);
        activity?.SetTag(RoomActorsNames.RoomNameTag, name);
        activity?.SetTag(RoomActorsNames.TurnKindTag, kind);
        return activity;
    }
}
