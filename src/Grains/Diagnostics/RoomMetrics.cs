using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using RoomActors.Diagnostics;

namespace RoomActors;

/// <summary>What started a room turn (the tag <c>roomactors.turn.kind</c>).</summary>
internal enum TurnKind
{
    /// <summary>A gateway's batch of messages (with the closes among them), or its renewal.</summary>
    Message,

    /// <summary>A connect, a resume or a before-connect check.</summary>
    Connect,

    /// <summary>A batch of closes only, a lease check or the end of a resume window.</summary>
    Close,

    /// <summary>The alarm.</summary>
    Alarm,

    /// <summary>An HTTP request.</summary>
    Http,

    /// <summary>A message or request from another room, or the user directory.</summary>
    Call,
}

/// <summary>
/// The silo's room instruments (meter <see cref="RoomActorsDiagnostics.MeterName"/>). Recorded once per turn, write or
/// alarm (never per message), with tags built on the stack from strings the room already holds.
/// </summary>
/// <remarks>
/// One meter for the process, never disposed, like the gateway's: OpenTelemetry stops exporting every meter of a name
/// when one of them is disposed (opentelemetry-dotnet issue 6412). <c>roomactors.rooms.active</c> counts the room
/// activations of every silo in the process (one, outside tests).
/// </remarks>
internal static class RoomMetrics
{
    private static readonly string[] Kinds = ["message", "connect", "close", "alarm", "http", "call"];
    private static readonly KeyValuePair<string, object?> Ok = new(RoomActorsNames.OutcomeTag, "ok");
    private static readonly KeyValuePair<string, object?> Failed = new(RoomActorsNames.OutcomeTag, "failed");
    private static readonly InstrumentAdvice<double> Seconds = new() { HistogramBucketBoundaries = RoomActorsNames.SecondsBuckets };
    private static readonly ConcurrentDictionary<string, StrongBox<long>> Active = new(StringComparer.Ordinal);

    private static readonly Meter Meter = new(RoomActorsDiagnostics.MeterName);

    private static readonly ObservableUpDownCounter<long> ActiveRooms = Meter.CreateObservableUpDownCounter(RoomActorsNames.RoomsActive,
        ObserveActive, "{room}", "Room activations in this silo's memory, by room type.");

    private static readonly Counter<long> Hibernations = Meter.CreateCounter<long>(RoomActorsNames.RoomHibernations, "{room}",
        "Rooms that left memory with connections (idle hibernation, or moved away); hibernated now ≈ hibernations − wakes.");

    private static readonly Counter<long> Wakes = Meter.CreateCounter<long>(RoomActorsNames.RoomWakes, "{room}",
        "Rooms that came back into memory with durable connections.");

    private static readonly Histogram<double> Turn = Meter.CreateHistogram(RoomActorsNames.RoomTurnDuration, "s",
        "One room turn: the hook, the close hooks it caused, the save and the send.", advice: Seconds);

    private static readonly Histogram<double> Write = Meter.CreateHistogram(RoomActorsNames.RoomStorageWriteDuration, "s",
        "One write of a room's state, keys, connections or system record to grain storage.", advice: Seconds);

    private static readonly Counter<long> WriteFailures = Meter.CreateCounter<long>(RoomActorsNames.RoomStorageWriteFailures, "{write}",
        "Room storage writes that failed (the turn's output is dropped and the activation stops serving).");

    private static readonly Counter<long> AlarmRuns = Meter.CreateCounter<long>(RoomActorsNames.RoomAlarmRuns, "{run}",
        "Alarm hook runs, by outcome (ok, failed).");

    private static readonly Counter<long> AlarmRetries = Meter.CreateCounter<long>(RoomActorsNames.RoomAlarmRetries, "{retry}",
        "Alarm retries scheduled after the alarm hook threw.");

    private static readonly Counter<long> IdleCollections = Meter.CreateCounter<long>(RoomActorsNames.RoomIdleCollections, "{room}",
        "Empty rooms without an alarm that left memory after RoomActors:Rooms:IdleCollectAfter (their state stays durable).");

    private static readonly Counter<long> BusyRefusals = Meter.CreateCounter<long>(RoomActorsNames.RoomBusyRefusals, "{connection}",
        "Connects refused with 1013 because the room's events waited RoomActors:Rooms:BusyAfter or longer for their turn.");

    /// <summary>The count of active rooms of <paramref name="type"/>, for the room to keep (one lookup per activation).</summary>
    public static StrongBox<long> ActiveCounter(string type)
    {
        _ = ActiveRooms; // published with the first room
        return Active.GetOrAdd(type, static _ => new StrongBox<long>());
    }

    private static IEnumerable<Measurement<long>> ObserveActive()
    {
        foreach (var (type, count) in Active)
        {
            yield return new Measurement<long>(Volatile.Read(ref count.Value), new KeyValuePair<string, object?>(RoomActorsNames.RoomTypeTag, type));
        }
    }

    public static string KindName(TurnKind kind) => Kinds[(int)kind];

    public static void TurnEnded(string type, TurnKind kind, long started)
    {
        if (Turn.Enabled)
        {
            Turn.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, new TagList
            {
                { RoomActorsNames.RoomTypeTag, type },
                { RoomActorsNames.TurnKindTag, Kinds[(int)kind] },
            });
        }
    }

    /// <summary>Runs a storage write, recording its duration or its failure (a write may also throw before it returns a task).</summary>
    public static async Task WriteAsync(Func<Task> write)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            await write();
        }
        catch
        {
            // Count and rethrow: the caller's policy (the output gate) applies.
            WriteFailures.Add(1);
            throw;
        }

        if (Write.Enabled)
        {
            Write.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
    }

    public static void Hibernated(string type) => Hibernations.Add(1, new KeyValuePair<string, object?>(RoomActorsNames.RoomTypeTag, type));

    public static void Woke(string type) => Wakes.Add(1, new KeyValuePair<string, object?>(RoomActorsNames.RoomTypeTag, type));

    public static void AlarmRan(bool ok) => AlarmRuns.Add(1, ok ? Ok : Failed);

    public static void AlarmRetried() => AlarmRetries.Add(1);

    public static void BusyRefused(string type) => BusyRefusals.Add(1, new KeyValuePair<string, object?>(RoomActorsNames.RoomTypeTag, type));

    public static void IdleCollected(string type) => IdleCollections.Add(1, new KeyValuePair<string, object?>(RoomActorsNames.RoomTypeTag, type));
}
