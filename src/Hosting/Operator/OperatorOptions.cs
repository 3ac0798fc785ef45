namespace RoomActors.Hosting;

/// <summary>
/// Who may use the operator endpoints (<c>/operator/…</c>: the room inspector and the Orleans Dashboard), and whether the
/// dashboard is there. Configuration section <c>RoomActors:Operator</c>; read by every process (silos add the dashboard's
/// silo side, processes with HTTP map the endpoints). Validated at start.
/// </summary>
public sealed class OperatorOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "RoomActors:Operator";

    /// <summary>The user name of HTTP Basic authentication (the password is the <see cref="Key"/>).</summary>
    public const string BasicUser = "operator";

    /// <summary>The least number of UTF-8 bytes of a <see cref="Key"/>.</summary>
    public const int MinKeyBytes = 32;

    /// <summary>
    /// The operator credential (at least 32 bytes of UTF-8), accepted as <c>Authorization: Bearer KEY</c> or as HTTP Basic
    /// with user <c>operator</c> and password KEY. Empty (default): the operator endpoints answer 403, saying how to turn
    /// them on. A secret: set it through the environment (<c>RoomActors__Operator__Key</c>), not in appsettings.
    /// </summary>
    public string? Key { get; set; }

    /// <summary>
    /// Whether the Orleans Dashboard is there. Default true: silos add its silo side (a grain service, its grains, and a
    /// grain call filter that profiles calls only while someone watches the dashboard), and processes with HTTP serve it
    /// at <c>/operator/dashboard/</c> behind <see cref="Key"/>. Set it to false on every process of the cluster to leave it
    /// out entirely.
    /// </summary>
    public bool Dashboard { get; set; } = true;

    /// <summary>True when <see cref="Key"/> is set: the operator endpoints answer (with the key).</summary>
    public bool Enabled => !string.IsNullOrEmpty(Key);
}
