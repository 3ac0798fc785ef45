using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace RoomActors.Gateway.Sockets;

/// <summary>
/// This process's gateway: the registry of rooms with local connections, the one observer every room delivers
/// to, and the graceful shutdown (a drain) that closes every socket with 1012 and tells the rooms.
/// </summary>
internal sealed partial class GatewayService : IGatewayObserver, IHostedLifecycleService
{
    private readonly Dictionary<GrainId, RoomLink> _rooms = new();
    private readonly ConcurrentDictionary<ClientConnection, byte> _connections = new();
    private readonly IGrainFactory _grains;
    private readonly ILogger<GatewayService> _logger;
    private readonly Lazy<IGatewayObserver> _reference;
    private volatile bool _stopping;
    private readonly CancellationTokenSource _stopped = new();
    private Task _heartbeat = Task.CompletedTask;

    private readonly Auth.AuthOptions _auth;

    public GatewayService(IGrainFactory grains, IOptions<GatewayOptions> options, IOptions<Auth.AuthOptions> auth, ILogger<GatewayService> logger, LocalRooms? localRooms = null)
    {
        LocalRooms = options.Value.LocalRooms ? localRooms : null;
        _auth = auth.Value;
        _grains = grains;
        _logger = logger;
        Options = options.Value;
        Calls = new RoomCalls(Options, logger);
        MessageRate = Options.MessageRatePerSecond == 0 ? null
            : TokenBuckets<ClientConnection>(Options.MessageRateBurst, Options.MessageRatePerSecond, TimeSpan.FromSeconds(1));
        NewRooms = Options.NewRoomsPerMinute == 0 ? null
            : new Limits.NewRoomBudget(Options.NewRoomsPerMinute, TimeSpan.FromMinutes(1), TimeProvider.System);
        var perAddress = Options.MaxConnectionsPerAddress;
        ConnectionsPerAddress = perAddress == 0 ? null : PartitionedRateLimiter.Create<IPAddress, IPAddress>(address =>
            RateLimitPartition.GetConcurrencyLimiter(address, _ => new ConcurrencyLimiterOptions { PermitLimit = perAddress, QueueLimit = 0 }));

        // One reference per process, held strongly here: Orleans holds observers weakly.
        _reference = new Lazy<IGatewayObserver>(() => _grains.CreateObjectReference<IGatewayObserver>(this));
    }

    /// <summary>A token bucket per key, without a queue: a request over the limit is refused at once.</summary>
    private static PartitionedRateLimiter<TKey> TokenBuckets<TKey>(int limit, int perPeriod, TimeSpan period) where TKey : notnull =>
        PartitionedRateLimiter.Create<TKey, TKey>(key => RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = limit,
            TokensPerPeriod = perPeriod,
            ReplenishmentPeriod = period,
            QueueLimit = 0,
        }));

    public GatewayOptions Options { get; }

    /// <summary>The rooms activated in this process (a silo's process), handed batches directly; null: every batch goes through Orleans.</summary>
    public LocalRooms? LocalRooms { get; }

    /// <summary>Each connection's inbound message bucket (<see cref="GatewayOptions.MessageRatePerSecond"/>); null: no limit.</summary>
    public PartitionedRateLimiter<ClientConnection>? MessageRate { get; }

    /// <summary>Distinct rooms each client address may wake per minute (<see cref="GatewayOptions.NewRoomsPerMinute"/>); null: no limit.</summary>
    public Limits.NewRoomBudget? NewRooms { get; }

    /// <summary>Open sockets per client address (<see cref="GatewayOptions.MaxConnectionsPerAddress"/>); null: no limit.</summary>
    public PartitionedRateLimiter<IPAddress>? ConnectionsPerAddress { get; }

    /// <summary>When this gateway last reported itself alive to the gateway registry (a round trip to the cluster), or null.</summary>
    public TimeSpan? SinceLastReport
    {
        get
        {
            var last = Volatile.Read(ref _lastReport);
            return last == 0 ? null : Stopwatch.GetElapsedTime(last);
        }
    }

    private long _lastReport; // Stopwatch timestamp; 0 until the first report

    /// <summary>How this gateway calls rooms: one retry and timeout policy for every call.</summary>
    public RoomCalls Calls { get; }

    /// <summary>The reference rooms call back on.</summary>
    public IGatewayObserver Reference => _reference.Value;

    public bool IsStopping => _stopping;

    /// <summary>Deliveries received from rooms; for diagnostics and tests.</summary>
    public long DeliveriesReceived;

    Task IGatewayObserver.Deliver(RoomDelivery delivery)
    {
        Delivered(delivery);
        return Task.CompletedTask;
    }

    Task<GatewayTail> IGatewayObserver.Fence(GrainId room, long epoch) =>
        Task.FromResult(CurrentLink(room)?.Fence(epoch) ?? GatewayTail.Empty);

    /// <summary>
    /// Every delivery (by call, or with the answer to a batch) goes to the room's current session on this gateway,
    /// whichever call carried it; that session's sequencer drops what is not numbered for it.
    /// </summary>
    /// <param name="delivery">The delivery.</param>
    /// <param name="writeHere">Whether the sockets' writers may start on the calling thread (see <see cref="RoomLink.OnDelivery"/>).</param>
    internal void Delivered(RoomDelivery delivery, bool writeHere = false)
    {
        Interlocked.Increment(ref DeliveriesReceived);
        RoomLink? room;
        lock (_rooms)
        {
            room = _rooms.GetValueOrDefault(delivery.Room);
        }

        room?.OnDelivery(delivery, writeHere);
    }

    /// <summary>The room grain.</summary>
    public IRoomGrain Room(GrainId roomId) => _grains.GetGrain<IRoomGrain>(roomId);

    /// <summary>Takes a reference on the room's local state, creating it (a new session) if needed.</summary>
    public RoomLink Acquire(GrainId roomId)
    {
        lock (_rooms)
        {
            if (!_rooms.TryGetValue(roomId, out var room))
            {
                room = new RoomLink(this, roomId, Room(roomId), Options, _logger);
                _rooms.Add(roomId, room);
            }

            room.References++;
            return room;
        }
    }

    /// <summary>Drops a reference; the last one ends the session (its pump sends what is queued, then stops).</summary>
    public void Release(RoomLink room)
    {
        lock (_rooms)
        {
            if (--room.References > 0)
            {
                return;
            }

            Forget(room);
        }

        room.CompleteInbound();
    }

    /// <summary>The room's current session on this gateway, or null when no local connection holds it.</summary>
    internal RoomLink? CurrentLink(GrainId roomId)
    {
        lock (_rooms)
        {
            return _rooms.GetValueOrDefault(roomId);
        }
    }

    /// <summary>
    /// Takes <paramref name="room"/> out of the registry while its connections still close: the next connection to the
    /// room starts a new session. Its pump ends with the last <see cref="Release"/>.
    /// </summary>
    public void Retire(RoomLink room)
    {
        lock (_rooms)
        {
            Forget(room);
        }
    }

    /// <summary>Under the registry lock: removes <paramref name="room"/> if it is still the room's current session.</summary>
    private void Forget(RoomLink room)
    {
        if (_rooms.TryGetValue(room.RoomId, out var current) && current == room)
        {
            _rooms.Remove(room.RoomId);
        }
    }

    /// <summary>Sockets open on this gateway.</summary>
    public int ConnectionCount => _connections.Count;

    public void Track(ClientConnection connection) => _connections[connection] = 0;

    public void Untrack(ClientConnection connection) => _connections.TryRemove(connection, out _);

    Task IHostedLifecycleService.StoppingAsync(CancellationToken cancellationToken) => CloseAllAsync();

    /// <summary>
    /// The drain: refuses new sockets (503), closes every open one with 1012 Service Restart (a <c>roomactors.v1</c>
    /// client resumes on another gateway, or on this one once it is back, without losing a message; the room keeps its
    /// connection for the resume window) and waits (bounded) until the rooms heard of every close.
    /// </summary>
    public async Task CloseAllAsync()
    {
        _stopping = true;

        // The rooms' pumps, taken before any socket closes: a session leaves the registry with its last connection,
        // while its pump may still be sending the closes queued for the room.
        List<Task> pumps;
        lock (_rooms)
        {
            pumps = [.. _rooms.Values.Select(r => r.Pump)];
        }

        foreach (var connection in _connections.Keys)
        {
            connection.RequestClose(CloseCodes.ServiceRestart, "server restarting; reconnect");
        }

        // Each socket's handler leaves the registry last, after queuing its close for the room; then the rooms'
        // pumps deliver what is queued. A short poll keeps no completion object per connection for this one wait.
        var deadline = Task.Delay(Options.ShutdownTimeout);
        while (!_connections.IsEmpty && !deadline.IsCompleted)
        {
            await Task.WhenAny(deadline, Task.Delay(20));
        }

        var all = Task.WhenAll(pumps);
        if (!_connections.IsEmpty || await Task.WhenAny(all, deadline) != all)
        {
            Log.ShutdownTimedOut(_logger, _connections.Count);
        }
    }

    Task IHostedService.StartAsync(CancellationToken cancellationToken)
    {
        if (_auth.Enabled)
        {
            Log.AuthOn(_logger, _auth.Issuer ?? "(any)", _auth.Audience ?? "(any)", _auth.AllowedOrigins.Count == 0 ? "(any)" : string.Join(", ", _auth.AllowedOrigins));
        }
        else
        {
            Log.AuthOff(_logger);
        }

        _heartbeat = Task.Run(HeartbeatAsync);
        return Task.CompletedTask;
    }

    /// <summary>Reports this gateway alive to the registry; rooms close the connections of gateways that stop.</summary>
    private async Task HeartbeatAsync()
    {
        using var timer = new PeriodicTimer(Options.RenewInterval);
        do
        {
            try
            {
                await _grains.GetGrain<IGatewayRegistry>(0).Heartbeat(Reference).WaitAsync(Options.RoomCallTimeout, _stopped.Token);
                Volatile.Write(ref _lastReport, Stopwatch.GetTimestamp()); // readiness: the cluster answered
            }
            catch (Exception ex) when (!_stopped.IsCancellationRequested)
            {
                // Retry at the next tick: a missed report or two is within the lease.
                Log.HeartbeatFailed(_logger, ex);
            }
            catch (OperationCanceledException)
            {
                return; // stopping
            }
        }
        while (await timer.WaitForNextTickAsync(_stopped.Token).ConfigureAwait(false) is true);
    }

    async Task IHostedService.StopAsync(CancellationToken cancellationToken)
    {
        _stopped.Cancel();
        try
        {
            await _heartbeat;
        }
        catch (OperationCanceledException)
        {
            // Expected: the heartbeat loop ends with the cancellation.
        }
    }

    Task IHostedLifecycleService.StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedLifecycleService.StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedLifecycleService.StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static partial class Log
    {
        [LoggerMessage(EventId = 2013, Level = LogLevel.Warning, Message = "Could not report this gateway alive to the gateway registry; retrying.")]
        public static partial void HeartbeatFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 2011, Level = LogLevel.Warning, Message = "Auth is OFF: anyone can connect to any room. Set RoomActors:Auth:SigningKey to require signed tickets.")]
        public static partial void AuthOff(ILogger logger);

        [LoggerMessage(EventId = 2012, Level = LogLevel.Information, Message = "Auth is ON: every room request needs a signed ticket (issuer {Issuer}, audience {Audience}, origins {Origins}).")]
        public static partial void AuthOn(ILogger logger, string issuer, string audience, string origins);

        [LoggerMessage(EventId = 2010, Level = LogLevel.Warning, Message = "Shutdown: {Count} connections did not finish closing in time.")]
        public static partial void ShutdownTimedOut(ILogger logger, int count);
    }
}
