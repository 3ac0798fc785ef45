namespace RoomActors.Diagnostics;

/// <summary>
/// The names under which RoomActors reports metrics and traces, for an OpenTelemetry (or any
/// <see cref="System.Diagnostics.Metrics.MeterListener"/> / <see cref="System.Diagnostics.ActivityListener"/>) set-up:
/// <c>AddMeter(RoomActorsDiagnostics.MeterName)</c>, <c>AddSource(RoomActorsDiagnostics.ActivitySourceName)</c>. The
/// RoomActors hosts export both already (<c>/metrics</c>, and OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set); the
/// instruments are listed in the README ("Operating: health, metrics, traces, logs").
/// </summary>
public static class RoomActorsDiagnostics
{
    /// <summary>The name of the <see cref="System.Diagnostics.Metrics.Meter"/> of gateways and silos.</summary>
    public const string MeterName = "RoomActors";

    /// <summary>
    /// The name of the <see cref="System.Diagnostics.ActivitySource"/> of gateways (connect, HTTP request to a room) and
    /// silos (room turn). Spans start only while a listener is attached.
    /// </summary>
    public const string ActivitySourceName = "RoomActors";
}

/// <summary>The instrument, tag and span names both sides use (the README's metrics table).</summary>
internal static class RoomActorsNames
{
    public const string GatewayConnections = "roomactors.gateway.connections";
    public const string GatewayMessagesReceived = "roomactors.gateway.messages.received";
    public const string GatewayMessagesDelivered = "roomactors.gateway.messages.delivered";
    public const string GatewayRoomCallDuration = "roomactors.gateway.room_call.duration";
    public const string GatewayOverflowCloses = "roomactors.gateway.overflow_closes";
    public const string GatewayResyncs = "roomactors.gateway.resyncs";
    public const string GatewayAuthRefusals = "roomactors.gateway.auth_refusals";
    public const string GatewayLimitRefusals = "roomactors.gateway.limit_refusals";
    public const string GatewayRateCloses = "roomactors.gateway.rate_closes";
    public const string GatewayTicketExpiryCloses = "roomactors.gateway.ticket_expiry_closes";
    public const string RoomsActive = "roomactors.rooms.active";
    public const string RoomHibernations = "roomactors.room.hibernations";
    public const string RoomWakes = "roomactors.room.wakes";
    public const string RoomTurnDuration = "roomactors.room.turn.duration";
    public const string RoomStorageWriteDuration = "roomactors.room.storage.write.duration";
    public const string RoomStorageWriteFailures = "roomactors.room.storage.write.failures";
    public const string RoomAlarmRuns = "roomactors.room.alarm.runs";
    public const string RoomAlarmRetries = "roomactors.room.alarm.retries";
    public const string RoomIdleCollections = "roomactors.room.idle_collections";
    public const string RoomBusyRefusals = "roomactors.room.busy_refusals";

    public const string ProtocolTag = "roomactors.protocol";
    public const string CloseCodeTag = "roomactors.close_code";
    public const string ReasonTag = "roomactors.reason";
    public const string RoomTypeTag = "roomactors.room.type";
    public const string RoomNameTag = "roomactors.room.name";
    public const string TurnKindTag = "roomactors.turn.kind";
    public const string OutcomeTag = "roomactors.outcome";
    public const string ConnectionIdTag = "roomactors.connection.id";

    /// <summary>Span names.</summary>
    public const string ConnectSpan = "roomactors.connect";
    public const string HttpSpan = "roomactors.http";
    public const string TurnSpan = "roomactors.turn";

    /// <summary>
    /// Histogram bucket boundaries in seconds for turns, room calls and writes: 0.1 ms to 10 s. The OpenTelemetry default
    /// (0–10,000, made for milliseconds) would put every sub-5 ms turn in one bucket.
    /// </summary>
    public static readonly double[] SecondsBuckets =
        [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
}
