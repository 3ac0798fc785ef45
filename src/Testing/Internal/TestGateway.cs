using Microsoft.Extensions.Logging;

namespace RoomActors.Testing.Internal;

/// <summary>
/// The kit's gateway: one observer reference the rooms deliver to (held strongly here: Orleans holds observers weakly),
/// one link per room its clients use, the heartbeat to the gateway registry a real gateway sends (rooms close the
/// connections of a gateway that stops reporting), and the retry policy of its calls to rooms.
/// </summary>
internal sealed partial class TestGateway : IGatewayObserver
{
    /// <summary>How long a call to a room is tried again when it fails (the real gateway's default).</summary>
    private static readonly TimeSpan RetryBudget = TimeSpan.FromSeconds(10);

    private readonly Dictionary<GrainId, TestRoomLink> _rooms = new();
    private readonly List<Task> _renewals = new();
    private readonly CancellationTokenSource _stopped = new();
    private readonly ILogger _logger;
    private Task _heartbeat = Task.CompletedTask;

    /// <param name="grains">The silo's grain factory.</param>
    /// <param name="gatewayLease">The rooms' <see cref="RoomOptions.GatewayLease"/>: the gateway reports four times per lease (at most every 2 s).</param>
    /// <param name="logger">Where retries and failures are reported.</param>
    public TestGateway(IGrainFactory grains, TimeSpan gatewayLease, ILogger logger)
    {
        Grains = grains;
        _logger = logger;
        HeartbeatInterval = TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(2).Ticks, gatewayLease.Ticks / 4));
        Reference = grains.CreateObjectReference<IGatewayObserver>(this);
    }

    public IGrainFactory Grains { get; }

    public IGatewayObserver Reference { get; }

    public bool IsStopped => _stopped.IsCancellationRequested;

    /// <summary>How often the gateway reports alive.</summary>
    public TimeSpan HeartbeatInterval { get; }

    /// <summary>Reports alive now, then every <see cref="HeartbeatInterval"/> until stopped.</summary>
    public async Task StartAsync()
    {
        await Grains.GetGrain<IGatewayRegistry>(0).Heartbeat(Reference);
        _heartbeat = Task.Run(HeartbeatAsync);
    }

    /// <summary>The room's link, created when a client first uses the room (a new session after a gap).</summary>
    public TestRoomLink Link(string type, string name)
    {
        var id = RoomGrainIds.Of(type, name);
        lock (_rooms)
        {
            if (!_rooms.TryGetValue(id, out var link))
            {
                link = new TestRoomLink(this, type, name);
                _rooms.Add(id, link);
            }

            return link;
        }
    }

    /// <summary>Takes a link whose numbering broke out of use (see <see cref="TestRoomLink"/>'s gap handling).</summary>
    public void Retire(TestRoomLink link, long epoch, long expected)
    {
        Log.DeliveryGap(_logger, link.RoomId, epoch, expected);
        lock (_rooms)
        {
            if (_rooms.GetValueOrDefault(link.RoomId) == link)
            {
                _rooms.Remove(link.RoomId);
            }
        }
    }

    Task IGatewayObserver.Deliver(RoomDelivery delivery)
    {
        CurrentLink(delivery.Room)?.OnDelivery(delivery);
        return Task.CompletedTask;
    }

    Task<GatewayTail> IGatewayObserver.Fence(GrainId room, long epoch) =>
        Task.FromResult(CurrentLink(room)?.Fence(epoch) ?? GatewayTail.Empty);

    /// <summary>
    /// Tells a restarted room which connections it has here, soon and not inline (the room may be asking from its
    /// activation): an empty batch with every member's id.
    /// </summary>
    public void Renew(TestRoomLink link)
    {
        if (IsStopped)
        {
            return;
        }

        lock (_renewals)
        {
            _renewals.RemoveAll(t => t.IsCompleted);
            _renewals.Add(Task.Run(async () =>
            {
                try
                {
                    await link.SendAsync([], renew: true);
                }
                catch (Exception ex) when (!IsStopped)
                {
                    // Report: the next batch of a client tells the room the same (unknown ids come back with it).
                    Log.RenewFailed(_logger, ex, link.RoomId);
                }
                catch (Exception)
                {
                    // The host is stopping: nothing to tell.
                }
            }));
        }
    }

    /// <summary>
    /// Calls a room as the gateway does: a failed attempt (a room whose turn could not save, a room on its way back) is
    /// tried again with backoff from 100 ms doubling to 2 s, for up to 10 s; then the failure goes to the test. A call that
    /// is not <paramref name="repeatable"/> (an HTTP request that may write) is attempted once.
    /// </summary>
    public async Task<T> CallAsync<T>(GrainId room, string call, Func<Task<T>> attempt, bool repeatable = true)
    {
        var started = Environment.TickCount64;
        for (var n = 0; ; n++)
        {
            try
            {
                return await attempt();
            }
            catch (Exception ex) when (repeatable && !IsStopped && TimeSpan.FromMilliseconds(Environment.TickCount64 - started) < RetryBudget)
            {
                // Retry with backoff: every call the kit makes may be repeated (batches are numbered, connects idempotent).
                Log.Retrying(_logger, ex, room, call, n + 1);
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(2000, 100 << Math.Min(n, 5))));
            }
        }
    }

    /// <summary>Stops reporting and closes every client with 1001 (their room sees nothing: the silo stops with them).</summary>
    public async Task StopAsync()
    {
        _stopped.Cancel();
        List<TestRoomLink> links;
        lock (_rooms)
        {
            links = [.. _rooms.Values];
        }

        foreach (var link in links)
        {
            link.CloseAll(CloseCodes.GoingAway, "test host stopped");
        }

        Task[] pending;
        lock (_renewals)
        {
            pending = [.. _renewals, _heartbeat];
        }

        try
        {
            await Task.WhenAll(pending).WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception)
        {
            // Stopping: what was in flight is void.
        }
    }

    private TestRoomLink? CurrentLink(GrainId room)
    {
        lock (_rooms)
        {
            return _rooms.GetValueOrDefault(room);
        }
    }

    private async Task HeartbeatAsync()
    {
        using var timer = new PeriodicTimer(HeartbeatInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopped.Token))
            {
                try
                {
                    await Grains.GetGrain<IGatewayRegistry>(0).Heartbeat(Reference).WaitAsync(HeartbeatInterval, _stopped.Token);
                }
                catch (Exception ex) when (!IsStopped)
                {
                    // Retry at the next tick: a missed report or two is within the lease.
                    Log.HeartbeatFailed(_logger, ex);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3001, Level = LogLevel.Warning, Message = "Room {Room}: {Call} failed (attempt {Attempt}); retrying.")]
        public static partial void Retrying(ILogger logger, Exception exception, GrainId room, string call, int attempt);

        [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "Could not report the test gateway alive to the gateway registry; retrying.")]
        public static partial void HeartbeatFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "Room {Room}: could not renew the test clients' connections after the room restarted.")]
        public static partial void RenewFailed(ILogger logger, Exception exception, GrainId room);

        [LoggerMessage(EventId = 3004, Level = LogLevel.Warning, Message = "Room {Room}: delivery {Sequence} of epoch {Epoch} never arrived; closing the test clients with 1012.")]
        public static partial void DeliveryGap(ILogger logger, GrainId room, long epoch, long sequence);
    }
}
