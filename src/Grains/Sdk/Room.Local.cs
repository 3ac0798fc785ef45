using Microsoft.Extensions.DependencyInjection;

namespace RoomActors;

/// <summary>Batches from a gateway in this process, handed to the room on its own scheduler (see <see cref="LocalRooms"/>).</summary>
public abstract partial class Room : ILocalRoom
{
    private LocalRooms? _local; // set while this activation takes local batches
    private volatile bool _localClosed;
    private int _localCalls; // local batches under way (touched on the room's scheduler only)
    private TaskCompletionSource? _localDrained;
    private long _localBatches;

    /// <summary>Batches this activation took from a gateway in its process (for tests and diagnostics).</summary>
    internal long LocalBatches => Volatile.Read(ref _localBatches);

    /// <summary>At the end of the activation: a co-hosted gateway may hand batches over from now on.</summary>
    private void OpenLocal()
    {
        if (ServiceProvider.GetService<LocalRooms>() is { } local)
        {
            _local = local;
            local.Add(this.GetGrainId(), this);
        }
    }

    /// <summary>
    /// At the start of the deactivation: no new local batch is taken, and the ones under way finish first (Orleans counts
    /// only its own requests before it deactivates a grain).
    /// </summary>
    private async Task CloseLocalAsync()
    {
        _localClosed = true;
        _local?.Remove(this.GetGrainId(), this);
        while (_localCalls > 0)
        {
            _localDrained ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            await _localDrained.Task;
        }
    }

    Task<ReceiveResult> ILocalRoom.Receive(InboundBatch batch, IRoomGrain viaOrleans)
    {
        var call = new LocalBatch(this, batch, viaOrleans);
        GrainContext.Scheduler.QueueAction(static call => _ = ((LocalBatch)call!).RunAsync(), call);
        return call.Answer.Task;
    }

    /// <summary>
    /// One local batch: runs as a turn on the room's scheduler and answers the gateway from a thread-pool work item (itself),
    /// so that the gateway's code never runs on the room's scheduler.
    /// </summary>
    private sealed class LocalBatch(Room room, InboundBatch batch, IRoomGrain viaOrleans) : BatchTurn(batch), IThreadPoolWorkItem
    {
        private ReceiveResult? _result;
        private Exception? _failure;

        // Completed only in Execute, on a thread-pool thread: its continuations may run there.
        public TaskCompletionSource<ReceiveResult> Answer { get; } = new();

        public async Task RunAsync()
        {
            if (room._localClosed)
            {
                // Leaving: the next activation takes it. Off the room's scheduler, as any gateway's call.
                _ = Task.Run(async () =>
                {
                    try
                    {
                        Answer.TrySetResult(await viaOrleans.Receive(Batch));
                    }
                    catch (Exception ex)
                    {
                        // The gateway's call policy decides (it calls again).
                        Answer.TrySetException(ex);
                    }
                });
                return;
            }

            room._localCalls++;
            room._localBatches++;
            try
            {
                _result = await room.ReceiveBatchAsync(this); // as IRoomGrain.Receive, without its task
            }
            catch (Exception ex)
            {
                // As an Orleans call would: the gateway's call policy decides (it calls again).
                _failure = ex;
            }
            finally
            {
                if (--room._localCalls == 0 && room._localDrained is { } drained)
                {
                    room._localDrained = null;
                    drained.TrySetResult();
                }
            }

            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: true);
        }

        void IThreadPoolWorkItem.Execute()
        {
            if (_failure is { } failure)
            {
                Answer.TrySetException(failure);
            }
            else
            {
                Answer.TrySetResult(_result!);
            }
        }
    }
}
