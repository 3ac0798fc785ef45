namespace RoomActors.Testing;

/// <summary>
/// The room refused a <see cref="RoomTestHost.ConnectAsync"/>: its connect hook called <c>context.Reject(code, reason)</c>
/// (or threw: 1011), or its before-connect hook called <c>context.Deny(status, reason)</c>.
/// </summary>
public sealed class RoomRejectedException : Exception
{
    internal RoomRejectedException(string type, string name, int code, string reason, bool beforeConnect, IReadOnlyList<TestMessage> received)
        : base(beforeConnect
            ? $"Room {type}/{name} denied the connection before it opened: {code} {reason}"
            : $"Room {type}/{name} rejected the connection: {code} {reason}")
    {
        Code = code;
        Reason = reason;
        BeforeConnect = beforeConnect;
        Received = received;
    }

    /// <summary>The close code the client's socket would close with; for <see cref="BeforeConnect"/>, the HTTP status (401, 403…).</summary>
    public int Code { get; }

    /// <summary>The reason the room gave.</summary>
    public string Reason { get; }

    /// <summary>True when the before-connect hook denied the client: no connection existed, and <see cref="Code"/> is an HTTP status.</summary>
    public bool BeforeConnect { get; }

    /// <summary>What the connect hook sent the connection before rejecting it (empty for <see cref="BeforeConnect"/>).</summary>
    public IReadOnlyList<TestMessage> Received { get; }
}
