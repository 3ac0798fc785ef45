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
    private IStorage<TState>? _storage;
    private byte[] _saved = [];
    private byte[]? _changed; // the state as serialized by StateChanged, to write
    private Serializer? _serializer;

    /// <summary>The room's state, loaded before the start hook runs.</summary>
    protected TState State
    {
        get => StateStorage.State;
        set => StateStorage.State = value;
    }

    private IStorage<TState> StateStorage => _storage ?? throw new InvalidOperationException("State is loaded when the room starts; use it from a hook.");

    private protected override async Task LoadStateAsync()
    {
        _serializer = ServiceProvider.GetRequiredService<Serializer>();
        _storage = ServiceProvider.GetRequiredService<IGrainRuntime>().GetStorage<TState>(GrainContext);
        await _storage.ReadStateAsync();
        _storage.State ??= new TState();
        _saved = _serializer.SerializeToArray(_storage.State);
    }

    private protected override bool StateChanged()
    {
        var current = _serializer!.SerializeToArray(StateStorage.State);
        _changed = current.AsSpan().SequenceEqual(_saved) ? null : current;
        return _changed is not null;
    }

    private protected override async Task SaveStateAsync()
    {
        if (_changed is not { } current)
        {
            return;
        }

        _changed = null;
        await TimedWriteAsync(() => StateStorage.WriteStateAsync());
        _saved = current;
    }
}
