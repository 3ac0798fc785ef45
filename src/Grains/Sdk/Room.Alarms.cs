using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;

namespace RoomActors;

/// <summary>What the alarm hook knows about the alarm that fired.</summary>
/// <param name="ScheduledTime">When the alarm was set to fire.</param>
/// <param name="RetryCount">0 on the first attempt; n on the n-th retry after the hook threw.</param>
public readonly record struct AlarmInfo(DateTimeOffset ScheduledTime, int RetryCount);

/// <summary>A room's own durable bookkeeping (its alarm), stored beside its state.</summary>
[GenerateSerializer]
internal sealed class RoomSystemState
{
    /// <summary>When the alarm fires next; null when none is set.</summary>
    [Id(0)] public DateTimeOffset? AlarmAt { get; set; }

    /// <summary>When the alarm was first scheduled (the retries keep it).</summary>
    [Id(1)] public DateTimeOffset? AlarmScheduled { get; set; }

    /// <summary>How many times the alarm hook has failed for the current alarm.</summary>
    [Id(2)] public int AlarmRetries { get; set; }

    /// <summary>The epoch of the room's latest activation: each activation takes the next one (see RoomDelivery.Epoch).</summary>
    [Id(3)] public long Epoch { get; set; }

    /// <summary>
    /// Above every message number the room used: an activation reserves numbers in blocks (written before the first
    /// delivery that uses them), and a clean deactivation writes its exact next number, so a new activation numbers on
    /// from here.
    /// </summary>
    [Id(4)] public long NextSeq { get; set; }
}

public abstract partial class Room : IRemindable
{
    /// <summary>How many times a throwing alarm hook is retried (with backoff from 2 s, doubling) before it is dropped.</summary>
    public const int MaxAlarmRetries = 6;

    /// <summary>The record of the room's own bookkeeping (alarm, epoch, numbering) in its grain storage.</summary>
    internal const string SystemRecord = "room-system";
    private const string AlarmReminder = "roomactors-alarm";

    private GrainState<RoomSystemState> _system = new() { State = new RoomSystemState() };
    private bool _systemDirty;
    private bool _alarmChanged;
    private bool _epochSaved;
    private IGrainTimer? _alarmTimer;

    /// <summary>When the alarm fires next, or null when none is set.</summary>
    protected DateTimeOffset? GetAlarm() => AlarmRecord.AlarmAt;

    /// <summary>
    /// Sets the room's one alarm to fire at <paramref name="at"/> (a time in the past fires at once), replacing any
    /// other. Durable at the end of the turn: it fires even if the room was hibernated or its silo died in between.
    /// </summary>
    protected void SetAlarm(DateTimeOffset at)
    {
        _ = GrainStorage; // alarms need storage: fail here, in the hook, with a clear message
        AlarmRecord.AlarmAt = at;
        AlarmRecord.AlarmScheduled = at;
        AlarmRecord.AlarmRetries = 0;
        _systemDirty = _alarmChanged = true;
    }

    /// <summary>Cancels the alarm (durable at the end of the turn).</summary>
    protected void DeleteAlarm()
    {
        if (AlarmRecord.AlarmAt is null)
        {
            return;
        }

        AlarmRecord.AlarmAt = null;
        AlarmRecord.AlarmScheduled = null;
        AlarmRecord.AlarmRetries = 0;
        _systemDirty = _alarmChanged = true;
    }

    /// <summary>
    /// Runs when the alarm fires. If it throws, it runs again after 2 s, 4 s, 8 s… (<see cref="RoomOptions.AlarmRetryBase"/>) up to
    /// <see cref="MaxAlarmRetries"/> retries; <see cref="AlarmInfo.RetryCount"/> says which attempt this is. Calling
    /// <see cref="SetAlarm"/> inside it schedules the next alarm.
    /// </summary>
    protected virtual Task OnAlarmAsync(AlarmInfo alarm) => Task.CompletedTask;

    private RoomSystemState AlarmRecord => _system.State ??= new RoomSystemState();

    private IGrainStorage GrainStorage => ServiceProvider.GetKeyedService<IGrainStorage>(RoomOptions.StorageName)
        ?? throw new InvalidOperationException($"Alarms and storage need the '{RoomOptions.StorageName}' grain storage; the RoomActors silo host adds it (UseRoomActorsSilo).");

    private async Task LoadSystemAsync()
    {
        if (ServiceProvider.GetKeyedService<IGrainStorage>(RoomOptions.StorageName) is not { } storage)
        {
            // No storage (a bare test host): the clock stands in for the durable epoch counter.
            Outbox.Epoch = TimeProvider.GetUtcNow().UtcTicks;
            _epochSaved = true;
            return;
        }

        _outputStored = true;
        _system = new GrainState<RoomSystemState>();
        await storage.ReadStateAsync(SystemRecord, this.GetGrainId(), _system);
        _system.State ??= new RoomSystemState();

        // A new epoch for this activation, written before the first delivery that carries it (see SaveSystemAsync): a
        // duplicate activation that read the same record loses the write (ETag) and never delivers.
        Outbox.Epoch = ++_system.State.Epoch;
        _epochSaved = false;
        if (AlarmRecord.AlarmAt is not null)
        {
            ArmAlarmTimer();
        }
    }

    private async Task SaveSystemAsync()
    {
        if (!_epochSaved && Outbox.HasOutput)
        {
            _systemDirty = true;
        }

        if (Outbox.Seq >= AlarmRecord.NextSeq - 1 && _outputStored)
        {
            // The numbers reserved are running out: reserve the next block before a message carries one of them.
            AlarmRecord.NextSeq = Outbox.Seq + SeqBlock;
            _systemDirty = true;
        }

        if (_systemDirty)
        {
            await TimedWriteAsync(() => GrainStorage.WriteStateAsync(SystemRecord, this.GetGrainId(), _system));
            _systemDirty = false;
            _epochSaved = true;
        }
    }

    /// <summary>After a durable change of the alarm: the grain timer for precision, the reminder as the backstop.</summary>
    private async Task ArmAlarmAsync()
    {
        if (!_alarmChanged)
        {
            return;
        }

        _alarmChanged = false;
        ArmAlarmTimer();
        if (AlarmRecord.AlarmAt is { } at)
        {
            var due = at - TimeProvider.GetUtcNow();
            await this.RegisterOrUpdateReminder(AlarmReminder, due > TimeSpan.FromSeconds(1) ? due : TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));
        }
        else if (await this.GetReminder(AlarmReminder) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    private void ArmAlarmTimer()
    {
        _alarmTimer?.Dispose();
        _alarmTimer = null;
        if (AlarmRecord.AlarmAt is { } at)
        {
            var due = at - TimeProvider.GetUtcNow();
            _alarmTimer = this.RegisterGrainTimer(FireAlarmAsync, due > TimeSpan.Zero ? due : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        }
    }

    async Task IRemindable.ReceiveReminder(string reminderName, TickStatus status)
    {
        switch (reminderName)
        {
            case AlarmReminder:
                await FireAlarmAsync(CancellationToken.None);
                break;
            case SleepReminder:
                await OnSleepReminderAsync();
                break;
        }
    }

    private async Task FireAlarmAsync(CancellationToken cancellationToken)
    {
        // Decided with the turn taken: an event that runs first may set or delete the alarm.
        AlarmInfo info;
        await EnterTurnAsync();
        var system = AlarmRecord;
        var ring = false;
        try
        {
            if (system.AlarmAt is not { } at)
            {
                // Fired already (the timer beat the reminder): the backstop is no longer needed.
                _alarmChanged = true;
                await ArmAlarmAsync();
                return;
            }

            if (at > TimeProvider.GetUtcNow())
            {
                ArmAlarmTimer(); // an early reminder tick: the timer fires it on time
                return;
            }

            info = new AlarmInfo(system.AlarmScheduled ?? at, system.AlarmRetries);
            _alarmChanged = false;
            Log.AlarmRinging(Logger, RoomType, RoomName, info.ScheduledTime, info.RetryCount);
            ring = true;
        }
        finally
        {
            if (!ring)
            {
                ExitTurn();
            }
        }

        await HeldTurnAsync(TurnKind.Alarm, RunBody, async () =>
        {
            var ran = await TryHookAsync(null, () => OnAlarmAsync(info));
            RoomMetrics.AlarmRan(ran);
            if (ran)
            {
                if (!_alarmChanged)
                {
                    DeleteAlarm(); // done, unless the hook set the next one
                }
            }
            else if (!_alarmChanged)
            {
                // The hook threw (reported): retry with backoff (2 s, 4 s, 8 s…), then give up.
                var retries = info.RetryCount + 1;
                if (retries > MaxAlarmRetries)
                {
                    Log.AlarmDropped(Logger, RoomType, RoomName, info.RetryCount);
                    DeleteAlarm();
                }
                else
                {
                    system.AlarmAt = TimeProvider.GetUtcNow() + Options.AlarmRetryBase * Math.Pow(2, retries - 1);
                    system.AlarmRetries = retries;
                    _systemDirty = _alarmChanged = true;
                    RoomMetrics.AlarmRetried();
                    Log.AlarmRetry(Logger, RoomType, RoomName, retries, system.AlarmAt.Value);
                }
            }
        }, null);
    }
}
