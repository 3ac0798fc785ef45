using System.Diagnostics;
using System.Diagnostics.Metrics;
using RoomActors.Diagnostics;

namespace RoomActors.Gateway.Diagnostics;

/// <summary>
/// The gateway's instruments (meter <see cref="RoomActorsDiagnostics.MeterName"/>). Cheap on the hot path: counters are
/// added once per batch or delivery, never per frame, and every tag is a cached <see cref="KeyValuePair{TKey, TValue}"/>;
/// with no listener an instrument does nothing.
/// </summary>
/// <remarks>
/// One meter for the process, never disposed (not one per host from its <see cref="IMeterFactory"/>): OpenTelemetry merges
/// meters of one name, and disposing one of them stops the export of all (opentelemetry-dotnet issue 6412), which a
/// second host in the same process (tests, an embedding app) would otherwise do to the one still running.
/// </remarks>
internal static class GatewayMetrics
{
    private static readonly KeyValuePair<string, object?> V1 = new(RoomActorsNames.ProtocolTag, "v1");
    private static readonly KeyValuePair<string, object?> Raw = new(RoomActorsNames.ProtocolTag, "raw");
    private static readonly KeyValuePair<string, object?> MissedDeliveries = new(RoomActorsNames.CloseCodeTag, CloseCodes.ServiceRestart);
    private static readonly KeyValuePair<string, object?> Resync = new(RoomActorsNames.CloseCodeTag, CloseCodes.Resync);
    private static readonly KeyValuePair<string, object?> ResumeRefused = new(RoomActorsNames.CloseCodeTag, CloseCodes.ResumeRefused);
    private static readonly KeyValuePair<string, object?>[] AuthReasons =
        [.. Enum.GetNames<AuthRefusal>().Select(n => new KeyValuePair<string, object?>(RoomActorsNames.ReasonTag, ToSnake(n)))];

    private static readonly KeyValuePair<string, object?>[] LimitReasons =
        [.. Enum.GetNames<LimitRefusal>().Select(n => new KeyValuePair<string, object?>(RoomActorsNames.ReasonTag, ToSnake(n)))];

    private static readonly Meter Meter = new(RoomActorsDiagnostics.MeterName);

    private static readonly UpDownCounter<long> Connections = Meter.CreateUpDownCounter<long>(RoomActorsNames.GatewayConnections, "{connection}",
        "WebSockets open on this gateway, by protocol (v1: roomactors.v1, raw: none).");

    private static readonly Counter<long> ReceivedMessages = Meter.CreateCounter<long>(RoomActorsNames.GatewayMessagesReceived, "{message}",
        "Client messages this gateway sent on to their rooms.");

    private static readonly Counter<long> DeliveredMessages = Meter.CreateCounter<long>(RoomActorsNames.GatewayMessagesDelivered, "{message}",
        "Room messages this gateway queued to client sockets (one per recipient).");

    private static readonly Histogram<double> RoomCall = Meter.CreateHistogram(RoomActorsNames.GatewayRoomCallDuration, "s",
        "One batch call from this gateway to a room, from send to answer (retries included).",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = RoomActorsNames.SecondsBuckets });

    private static readonly Counter<long> OverflowCloses = Meter.CreateCounter<long>(RoomActorsNames.GatewayOverflowCloses, "{connection}",
        "Clients closed with 1008 because their outbound queue overflowed (too slow to read).");

    private static readonly Counter<long> Resyncs = Meter.CreateCounter<long>(RoomActorsNames.GatewayResyncs, "{connection}",
        "Clients closed so that they resynchronise: 1012 (missed room deliveries), 4410 (cannot resume), 4403 (resume refused).");

    private static readonly Counter<long> AuthRefusals = Meter.CreateCounter<long>(RoomActorsNames.GatewayAuthRefusals, "{request}",
        "Room requests refused before any socket opened, by reason (missing, invalid, expired, wrong_room, origin).");

    private static readonly Counter<long> LimitRefusals = Meter.CreateCounter<long>(RoomActorsNames.GatewayLimitRefusals, "{request}",
        "Room requests refused by a limit before any socket opened, by reason (max_connections: 503 at the gateway's cap; "
        + "connections_per_address, new_rooms: 429).");

    private static readonly Counter<long> RateCloses = Meter.CreateCounter<long>(RoomActorsNames.GatewayRateCloses, "{connection}",
        "Clients closed with 1008 because they sent over the message rate (MessageRatePerSecond, MessageRateBurst).");

    private static readonly Counter<long> TicketExpiryCloses = Meter.CreateCounter<long>(RoomActorsNames.GatewayTicketExpiryCloses, "{connection}",
        "Sockets closed with 4401 because their ticket expired (exp + ClockSkew).");

    public static void Connected(bool v1) => Connections.Add(1, v1 ? V1 : Raw);

    public static void Disconnected(bool v1) => Connections.Add(-1, v1 ? V1 : Raw);

    /// <summary>Client messages of one batch sent on to their room.</summary>
    public static void Received(int count)
    {
        if (count > 0)
        {
            ReceivedMessages.Add(count);
        }
    }

    /// <summary>Messages one room delivery queued to sockets.</summary>
    public static void Delivered(int count)
    {
        if (count > 0)
        {
            DeliveredMessages.Add(count);
        }
    }

    /// <summary>A batch call that started at <paramref name="started"/> (<see cref="Stopwatch.GetTimestamp"/>) was answered.</summary>
    public static void RoomCalled(long started)
    {
        if (RoomCall.Enabled)
        {
            RoomCall.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
    }

    public static void OverflowClosed() => OverflowCloses.Add(1);

    /// <summary>Clients closed because this gateway missed room deliveries (1012).</summary>
    public static void MissedDeliveriesClosed(int count)
    {
        if (count > 0)
        {
            Resyncs.Add(count, MissedDeliveries);
        }
    }

    /// <summary>A close with <paramref name="code"/>: counted when it tells the client to resync (4410, 4403).</summary>
    public static void Closing(int code)
    {
        if (code == CloseCodes.Resync)
        {
            Resyncs.Add(1, Resync);
        }
        else if (code == CloseCodes.ResumeRefused)
        {
            Resyncs.Add(1, ResumeRefused);
        }
    }

    public static void AuthRefused(AuthRefusal reason) => AuthRefusals.Add(1, AuthReasons[(int)reason]);

    public static void LimitRefused(LimitRefusal reason) => LimitRefusals.Add(1, LimitReasons[(int)reason]);

    public static void RateClosed() => RateCloses.Add(1);

    public static void TicketExpiryClosed() => TicketExpiryCloses.Add(1);

    private static string ToSnake(string name) =>
        string.Concat(name.Select((c, i) => char.IsUpper(c) ? (i > 0 ? "_" : "") + char.ToLowerInvariant(c) : c.ToString()));
}

/// <summary>Why the gateway refused a room request (the tag <c>roomactors.reason</c>: missing, invalid, expired, wrong_room, origin).</summary>
internal enum AuthRefusal
{
    Missing,
    Invalid,
    Expired,
    WrongRoom,
    Origin,
}

/// <summary>
/// Which limit refused a room request (the tag <c>roomactors.reason</c>: max_connections, connections_per_address,
/// new_rooms).
/// </summary>
internal enum LimitRefusal
{
    MaxConnections,
    ConnectionsPerAddress,
    NewRooms,
}
