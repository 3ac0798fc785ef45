using Microsoft.Extensions.DependencyInjection;

namespace RoomActors;

/// <summary>
/// Staying in memory, leaving it, and the gateways' leases: a room with connections stays awake and checks its
/// gateways; after <see cref="RoomOptions.HibernateAfter"/> without traffic it leaves memory (its connection set is
/// durable) and a reminder checks its gateways once a minute while it sleeps.
/// </summary>
public abstract partial class Room
{
    private const string SleepReminder = "roomactors-sleep";
    private IGrainTimer? _housekeeping;
    private IGrainTimer? _idleCheck;
    private long _lastActivity;
    private bool _sleepReminder;

    /// <summary>After every turn: a room with connections stays in memory (until it hibernates); an empty one is collected as usual.</summary>
    private async Task AfterTurnAsync()
    {
        _lastActivity = TimeProvider.GetTimestamp();
        var occupied = _connections.Count > 0;
        DelayDeactivation(occupied ? TimeSpan.MaxValue : TimeSpan.Zero);
        if (occupied)
        {
            _idleCheck?.Dispose();
            _idleCheck = null;
        }
        else if (_idleCheck is null && Options.IdleCollectAfter > TimeSpan.Zero)
        {
            var check = Options.IdleCollectAfter / 2;
            _idleCheck = this.RegisterGrainTimer(IdleCheckAsync, check, check);
        }

        if (occupied && _housekeeping is null)
        {
            var period = Options.HibernateAfter > TimeSpan.Zero && Options.HibernateAfter < Options.LeaseCheckInterval * 2
                ? Options.HibernateAfter / 2
                : Options.LeaseCheckInterval;
            _housekeeping = this.RegisterGrainTimer(HousekeepingAsync, period, period);
        }
        else if (!occupied)
        {
            _housekeeping?.Dispose();
            _housekeeping = null;
            await ForgetSleepReminderAsync();
        }
    }

    /// <summary>
    /// An empty room (no connections, no alarm) leaves memory after <see cref="RoomOptions.IdleCollectAfter"/> without a
    /// turn; its state is durable.
    /// </summary>
    private Task IdleCheckAsync(CancellationToken cancellation)
    {
        if (_connections.Count == 0 && AlarmRecord.AlarmAt is null && _turnsInFlight == 0
            && TimeProvider.GetElapsedTime(_lastActivity) >= Options.IdleCollectAfter)
        {
            _idleCheck?.Dispose();
            _idleCheck = null;
            RoomMetrics.IdleCollected(RoomType);
            Log.IdleCollected(Logger, RoomType, RoomName, Options.IdleCollectAfter);
            DeactivateOnIdle();
        }

        return Task.CompletedTask;
    }

    private async Task ForgetSleepReminderAsync()
    {
        if (_sleepReminder)
        {
            _sleepReminder = false;
            if (await this.GetReminder(SleepReminder) is { } reminder)
            {
                await this.UnregisterReminder(reminder);
            }
        }
    }

    /// <summary>
    /// While awake with connections: check the gateways, and hibernate after <see cref="RoomOptions.HibernateAfter"/>
    /// without traffic. The connection set is durable, so nothing is lost.
    /// </summary>
    private async Task HousekeepingAsync(CancellationToken cancellationToken)
    {
        await CheckLeasesAsync();
        await ExpireDetachedAsync();
        var idle = TimeProvider.GetElapsedTime(_lastActivity);

        // Not while a client may resume (what it missed is kept in memory only), nor while an event is under way.
        if (_membership is not null && _connections.Count > 0 && Options.HibernateAfter > TimeSpan.Zero && idle >= Options.HibernateAfter
            && _turnsInFlight == 0 && _connections.Values.All(c => c.IsConnected))
        {
            await HibernateAsync();
        }
    }

    private async Task HibernateAsync()
    {
        if (!_sleepReminder)
        {
            await this.RegisterOrUpdateReminder(SleepReminder, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
            _sleepReminder = true;
        }

        Log.Hibernating(Logger, RoomType, RoomName, _connections.Count);
        DeactivateOnIdle();
    }

    /// <summary>
    /// A sleeping room's minute check: close the connections of dead gateways, then sleep again at once (or forget the
    /// reminder when nobody is left).
    /// </summary>
    private async Task OnSleepReminderAsync()
    {
        _sleepReminder = true;
        if (_turnNumber > 0 && _connections.Count > 0)
        {
            // Awake: something woke the room before this tick (a message, connect, close, request or alarm took a turn).
            // Its housekeeping timer checks the gateways and hibernates it when it is idle; leaving memory now would
            // restart a busy room (and make it ask every gateway for its tail) once a minute. The reminder stays for
            // the next sleep: a tick on an awake room costs a call, unregistering and registering it a write each.
            return;
        }

        await CheckLeasesAsync();
        if (Outbox.HasOutput)
        {
            // What the activation queued for the gateways (re-deliveries, closes of connections the room does not know)
            // leaves with a turn: an empty one sends it before the room sleeps again, or it would go with the activation.
            await TurnAsync(TurnKind.Close, static () => Task.CompletedTask);
        }

        if (_connections.Count > 0)
        {
            DeactivateOnIdle();
        }
        else
        {
            await ForgetSleepReminderAsync();
        }
    }

    /// <summary>Closes the connections whose clients did not resume within the resume window: their close hooks run now.</summary>
    private async Task ExpireDetachedAsync()
    {
        List<Connection> expired = [];
        await TurnIfAsync(
            TurnKind.Close,
            () =>
            {
                var now = TimeProvider.GetUtcNow().UtcTicks;
                expired = _connections.Values.Where(c => !c.IsConnected && now - c.DetachedAt >= Options.ResumeWindow.Ticks).ToList();
                return expired.Count > 0;
            },
            () =>
            {
                Log.ResumeExpired(Logger, RoomType, RoomName, expired.Count);
                foreach (var connection in expired)
                {
                    Closed(connection, connection.DetachCode, connection.DetachReason ?? "");
                }

                return Task.CompletedTask;
            });
    }

    /// <summary>
    /// Closes, in the room's eyes, the connections of gateways that stopped reporting (they died): a turn of its own,
    /// with their close hooks.
    /// </summary>
    private async Task CheckLeasesAsync()
    {
        var liveness = ServiceProvider.GetService<GatewayLivenessCache>(); // null in a host without the registry (a bare test cluster)
        if (liveness is null)
        {
            return;
        }

        List<Connection> lost = [];
        await TurnIfAsync(
            TurnKind.Close,
            () => (lost = _connections.Values.Where(c => c.IsConnected && liveness.IsDead(c.Gateway.GetGrainId())).ToList()).Count > 0,
            () =>
            {
                foreach (var connection in lost)
                {
                    // A client that can resume gets its resume window (it reconnects to another gateway); others are gone.
                    if (connection.ResumeHash is not null)
                    {
                        Detach(connection, CloseCodes.Abnormal, "gateway lost");
                    }
                    else
                    {
                        Closed(connection, CloseCodes.Abnormal, "gateway lost");
                    }
                }

                Log.GatewaysLost(Logger, RoomType, RoomName, lost.Select(c => c.Gateway.GetGrainId()).Distinct().Count());
                return Task.CompletedTask;
            });
    }
}
