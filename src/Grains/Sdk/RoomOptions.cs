namespace RoomActors;

/// <summary>Limits of the room SDK.</summary>
public static class RoomOptions
{
    /// <summary>The largest per-connection state, serialized as JSON: 16 KiB.</summary>
    public const int MaxConnectionStateBytes = 16 * 1024;

    /// <summary>The name of the grain storage provider rooms persist their state in.</summary>
    public const string StorageName = "roomactors";
}
