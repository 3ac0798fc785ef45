using Microsoft.Extensions.DependencyInjection;
using Orleans.Core;
using Orleans.Serialization;

namespace RoomActors;

/// <summary>
/// A room with durable state: change <see cref="State"/> in any hook; when the turn ends and the state differs
/// from what was last saved, it is written once through the <c>roomactors</c> grain storage (in memory in the
/// all-in-one mode). The state type needs <c>[GenerateSerializer]</c>.
/// </summary>
/// <typeparam name="TState">The state type, with a parameterless constructor.</typeparam>
[Orleans.Providers.StorageProvider(ProviderName = RoomOptions.StorageName)]
public abstract class Room<TState> : Room where TState : new()
{
    private readonly GrainState<StateRecord> _record = new();
    private Orleans.Storage.IGrainStorage? _grainStorage;
    private IStorage<TState>? _legacy; // the record of rooms saved before the state carried client ids; read once, cleared at the next write
    private TState? _state;
    private bool _loaded;
    private byte[] _saved = [];
    private byte[]? _changed; // the state as serialized by StateChanged, to write
    private Serializer? _serializer;

    /// <summary>The room's state, loaded before the start hook runs.</summary>
    protected TState State
    {
        get => _loaded ? _state! : throw NotLoaded();
        set => _state = _loaded ? value : throw NotLoaded();
    }

    private static InvalidOperationException NotLoaded() => new("State is loaded when the room starts; use it from a hook.");

    private protected override async Task ReadStateAsync()
    {
        _serializer = ServiceProvider.GetRequiredService<Serializer>();
        _grainStorage = ServiceProvider.GetKeyedService<Orleans.Storage.IGrainStorage>(RoomOptions.StorageName)
            ?? throw new InvalidOperationException($"Room<{typeof(TState).Name}> needs the '{RoomOptions.StorageName}' grain storage; host rooms with UseRoomActorsSilo (or add a grain storage named '{RoomOptions.StorageName}').");
        await _grainStorage.ReadStateAsync(StateRecordName, this.GetGrainId(), _record);
        if (!_record.RecordExists || _record.State is null)
        {
            var legacy = ServiceProvider.GetRequiredService<IGrainRuntime>().GetStorage<TState>(GrainContext);
            await legacy.ReadStateAsync();
            _legacy = legacy;
        }
    }

    private protected override void RestoreState()
    {
        if (_record.RecordExists && _record.State is { } record)
        {
            _state = _serializer!.Deserialize<TState>(record.State.AsSpan());
            RestoreClientIds(record.ClientIds);
        }
        else
        {
            _state = _legacy!.State;
            _legacy = _legacy.RecordExists ? _legacy : null;
        }

        _state ??= new TState();
        _loaded = true;
        _saved = _serializer!.SerializeToArray(_state);
    }

    private protected override bool StateChanged()
    {
        var current = _serializer!.SerializeToArray(State);
        _changed = current.AsSpan().SequenceEqual(_saved) ? null : current;
        return _changed is not null;
    }

    private protected override long? StateBytes() => _saved.Length;

    /// <summary>
    /// Writes the state with <paramref name="clientIds"/> in the same record: a client message whose effect on the state
    /// is durable is known as processed, whatever happens to the writes after it.
    /// </summary>
    private protected override async Task SaveStateAsync(IReadOnlyDictionary<string, long>? clientIds)
    {
        if (_changed is not { } current)
        {
            return;
        }

        _changed = null;
        _record.State = new StateRecord { State = current, ClientIds = clientIds is null ? null : new Dictionary<string, long>(clientIds) };
        await TimedWriteAsync(() => _grainStorage!.WriteStateAsync(StateRecordName, this.GetGrainId(), _record));
        _saved = current;
        if (_legacy is { } legacy)
        {
            _legacy = null;
            try
            {
                await legacy.ClearStateAsync();
            }
            catch (Exception ex)
            {
                // Log only: the new record is read first at every activation; the old one is left over, nothing more.
                Log.LegacyStateNotCleared(Logger, ex, RoomType, RoomName);
            }
        }
    }
}

/// <summary>How <see cref="Room{TState}"/> stores its state.</summary>
[GenerateSerializer]
internal sealed class StateRecord
{
    /// <summary>The state, as Orleans' serializer writes it.</summary>
    [Id(0)] public byte[] State { get; set; } = [];

    /// <summary>Per connection, the latest client message id whose effect this state includes (written in the same record).</summary>
    [Id(1)] public Dictionary<string, long>? ClientIds { get; set; }
}
