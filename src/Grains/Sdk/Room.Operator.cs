using Microsoft.Extensions.DependencyInjection;

namespace RoomActors;

/// <summary>
/// What an operator can do to a room (<see cref="IRoomOperations"/>): look at it, make it hibernate, close one of its
/// connections. Each takes the turn gate, so it runs between turns (or while a turn awaits another room, as a call from
/// another room does), never in the middle of a hook.
/// </summary>
public abstract partial class Room : IRoomOperations
{
    async Task<RoomInspection> IRoomOperations.Inspect()
    {
        // The gate alone, not a whole turn: nothing to save or send, and an inspection is not activity (the end of a turn
        // would push hibernation back).
        await EnterTurnAsync();
        try
        {
            return new RoomInspection(
                Awake: true,
                Silo: ServiceProvider.GetService<ILocalSiloDetails>()?.SiloAddress.ToParsableString(),
                LastTurn: TimeProvider.GetUtcNow() - TimeProvider.GetElapsedTime(_lastActivity),
                Alarm: AlarmRecord.AlarmAt,
                StateBytes: StateBytes(),
                StorageKeys: _storage?.ListKeys().Count ?? 0,
                Epoch: Outbox.Epoch,
                Connections: [.. _connections.Values.OrderBy(c => c.Joined).Select(c => ConnectionInspection.Of(c.Record(), c.LastPing))]);
        }
        finally
        {
            ExitTurn();
        }
    }

    async Task<HibernateAnswer> IRoomOperations.Hibernate(string requestedBy)
    {
        await EnterTurnAsync();
        try
        {
            var detached = _connections.Values.Count(c => !c.IsConnected);
            var outcome = detached > 0 ? HibernateOutcome.ResumePending
                : _connections.Count == 0 ? HibernateOutcome.Deactivating
                : _membership is null ? HibernateOutcome.NotDurable
                : HibernateOutcome.Hibernating;
            Log.OperatorHibernate(Logger, RoomType, RoomName, requestedBy, _connections.Count, outcome);
            switch (outcome)
            {
                case HibernateOutcome.Hibernating:
                    await HibernateAsync(); // as after HibernateAfter without traffic: the sleep reminder, then out of memory
                    break;
                case HibernateOutcome.Deactivating:
                    DeactivateOnIdle();
                    break;
            }

            return new HibernateAnswer(outcome, _connections.Count, detached);
        }
        finally
        {
            ExitTurn();
        }
    }

    async Task<bool> IRoomOperations.CloseConnection(string connectionId, int code, string reason, string requestedBy)
    {
        CloseCodes.ThrowIfNotSendable(code);
        var found = false;
        await TurnAsync(TurnKind.Close, () =>
        {
            if (_connections.TryGetValue(connectionId, out var connection))
            {
                found = true;
                Log.OperatorClose(Logger, RoomType, RoomName, requestedBy, connectionId, code, reason ?? "");
                CloseConnection(connection, code, reason ?? "");
            }

            return Task.CompletedTask;
        });
        return found;
    }

    /// <summary>The serialized size of the typed state as last saved; null for a room without one. Overridden by <see cref="Room{TState}"/>.</summary>
    private protected virtual long? StateBytes() => null;
}
