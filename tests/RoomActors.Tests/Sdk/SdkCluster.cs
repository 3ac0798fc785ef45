using System.Collections.Concurrent;
using System.Text;
using System.Threading.Channels;
using Orleans.Hosting;
using Orleans.TestingHost;

namespace RoomActors.Tests.Sdk;

/// <summary>An in-process Orleans test cluster with the storage and reminders rooms use.</summary>
public sealed class SdkClusterFixture : IAsyncLifetime
{
    public TestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var builder = new TestClusterBuilder(1);
        builder.AddSiloBuilderConfigurator<Configurator>();
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await Cluster.StopAllSilosAsync();

    private sealed class Configurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder silo)
        {
            silo.AddMemoryGrainStorage(RoomOptions.StorageName);
            silo.UseInMemoryReminderService();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class SdkCollection : ICollectionFixture<SdkClusterFixture>
{
    public const string Name = "sdk";
}

/// <summary>
/// Plays a gateway: a real observer reference the rooms deliver to, recording every delivery in arrival order.
/// </summary>
public sealed class RecordingGateway : IGatewayObserver
{
    private readonly Channel<RoomDelivery> _deliveries = Channel.CreateUnbounded<RoomDelivery>();

    private static readonly ConcurrentDictionary<GrainId, RecordingGateway> Registry = new();
    private readonly ConcurrentDictionary<(GrainId Room, long Epoch, long Session, long Number), bool> _seen = new();

    public RecordingGateway(IClusterClient client)
    {
        Reference = client.CreateObjectReference<IGatewayObserver>(this);
        Session = Random.Shared.NextInt64(1, long.MaxValue);
        Registry[Reference.GetGrainId()] = this;
    }

    /// <summary>The recording gateway behind <paramref name="reference"/>.</summary>
    public static RecordingGateway Of(IGatewayObserver reference) => Registry[reference.GetGrainId()];

    public IGatewayObserver Reference { get; }

    public long Session { get; }

    public ConcurrentQueue<RoomDelivery> All { get; } = new();

    private long _batches;

    /// <summary>While true, deliveries by call are lost on the way (as through a silo that shuts down): not recorded.</summary>
    public bool LoseDeliveries { get; set; }

    /// <summary>
    /// This many fence calls from now on are answered 3 s late, past the room's wait (as when the answer is dropped on the
    /// way). Late, not never: the client's observer takes one call at a time, so an answer that never came would hold
    /// the next call too.
    /// </summary>
    public int FencesAnsweredLate { get; set; }

    /// <summary>The connection ids a fence answer names as this gateway's members (none: the answer names none).</summary>
    public string[]? FenceMembers { get; set; }

    /// <summary>How many deliveries were lost (see <see cref="LoseDeliveries"/>).</summary>
    public int Lost => Volatile.Read(ref _lost);

    private int _lost;

    /// <summary>How many fence calls came.</summary>
    public int Fences => Volatile.Read(ref _fences);

    private int _fences;

    public Task Deliver(RoomDelivery delivery)
    {
        if (LoseDeliveries)
        {
            Interlocked.Increment(ref _lost);
            return Task.CompletedTask;
        }

        // A delivery that came again (with the answer to a batch sent again) is applied once, as a gateway does.
        if (!_seen.TryAdd((delivery.Room, delivery.Epoch, delivery.Session, delivery.Number), true))
        {
            return Task.CompletedTask;
        }

        All.Enqueue(delivery);
        _deliveries.Writer.TryWrite(delivery);
        return Task.CompletedTask;
    }

    /// <summary>A new activation of a room asks for what this gateway received of it: answered as a gateway does.</summary>
    public Task<GatewayTail> Fence(GrainId room, long epoch)
    {
        Interlocked.Increment(ref _fences);
        if (FencesAnsweredLate > 0)
        {
            FencesAnsweredLate--;
            return AnswerLateAsync(room);
        }

        return Task.FromResult(TailOf(room));
    }

    private GatewayTail TailOf(GrainId room)
    {
        var sends = All.Where(d => d.Room == room).SelectMany(d => d.Ops).Where(o => o.Kind == RoomOpKind.Send && o.Seq > 0)
            .DistinctBy(o => o.Seq).OrderBy(o => o.Seq).ToArray();
        var acks = All.Where(d => d.Room == room).SelectMany(d => d.Acks ?? []).GroupBy(a => a.ConnectionId)
            .Select(g => g.MaxBy(a => a.ClientId)).ToArray();
        return new GatewayTail { HighWater = sends.Length > 0 ? sends[^1].Seq : 0, Sends = sends, Acks = acks, Members = FenceMembers };
    }

    private async Task<GatewayTail> AnswerLateAsync(GrainId room)
    {
        await Task.Delay(TimeSpan.FromSeconds(3));
        return TailOf(room);
    }

    /// <summary>The next delivery, or a failure after 10 s.</summary>
    public async Task<RoomDelivery> NextAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        try
        {
            return await _deliveries.Reader.ReadAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException("No delivery arrived.");
        }
    }

    /// <summary>True when no delivery arrives within <paramref name="wait"/>.</summary>
    public async Task<bool> QuietAsync(TimeSpan wait)
    {
        try
        {
            await NextAsync(wait);
            return false;
        }
        catch (TimeoutException)
        {
            return true;
        }
    }

    public ConnectRequest Connect(string id, string query = "", Dictionary<string, string>? headers = null) => new()
    {
        ConnectionId = id,
        Gateway = Reference,
        Session = Session,
        QueryString = query,
        Headers = headers ?? new(),
    };

    public InboundBatch Batch(params InboundEvent[] events) => new()
    {
        Gateway = Reference,
        Session = Session,
        BatchNumber = Interlocked.Increment(ref _batches),
        Events = events,
        DeliveryInAnswer = true,
    };

    public static InboundEvent Text(string id, string text) => InboundEvent.Message(id, new Payload(true, Encoding.UTF8.GetBytes(text)));

    public static string TextOf(RoomOp op) => Encoding.UTF8.GetString(op.Payload!.Data);
}

/// <summary>Sends batches to rooms as a gateway does.</summary>
public static class RoomGrainBatches
{
    /// <summary>
    /// Sends <paramref name="batch"/> to <paramref name="room"/>; what the turn sent the calling gateway comes back with
    /// the answer and is recorded by that gateway like a delivery by call.
    /// </summary>
    public static async Task<ReceiveResult> SendBatchAsync(this IRoomGrain room, InboundBatch batch)
    {
        var result = await room.Receive(batch);
        if (result.Delivery is { } delivery)
        {
            await RecordingGateway.Of(batch.Gateway).Deliver(delivery);
        }

        return result;
    }
}
