using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;

namespace RoomActors;

/// <summary>
/// One history per room, across failures: a new activation rebuilds its replay buffer from the gateways' and re-delivers
/// to each gateway what another one had (so no client of the room misses what another saw); a <c>roomactors.v1</c>
/// client whose socket ended resumes its connection with the messages it missed.
/// </summary>
public abstract partial class Room
{
    /// <summary>How many message numbers an activation reserves at a time (one system write per block).</summary>
    private const long SeqBlock = 10_000;

    /// <summary>How long a new activation waits for a gateway's tail, each time it asks.</summary>
    private static readonly TimeSpan FenceTimeout = TimeSpan.FromSeconds(2);

    /// <summary>How many times a new activation asks a gateway for its tail before it goes on without it.</summary>
    private const int FenceAttempts = 3;

    /// <summary>True when this activation has storage for its numbering (not a bare test host).</summary>
    private bool _outputStored;

    async Task<ConnectResult> IRoomGrain.Resume(ResumeRequest request)
    {
        var result = ConnectResult.Accept;
        await TurnAsync(TurnKind.Connect, async () =>
        {
            if (!_connections.TryGetValue(request.ConnectionId, out var connection))
            {
                result = new ConnectResult(false, CloseCodes.Resync,
                    "resync: unknown connection (closed, expired, or another room's token); connect without resume");
                return;
            }

            if (!ResumeSecrets.Matches(request.Secret, connection.ResumeHash) || connection.VerifiedUserId != request.UserId)
            {
                result = new ConnectResult(false, CloseCodes.ResumeRefused, "resume refused: the token does not belong to this connection or user");
                return;
            }

            if (connection.Attachment == request.Attachment && connection.IsConnected)
            {
                return; // asked again: the resume and its replay are on their way
            }

            var missed = new List<RoomOp>();
            if (!Outbox.TryCollectMissed(request.LastSeq, connection.IsAddressedBy, missed))
            {
                // Never a silent gap: the connection closes for good, and the client starts fresh.
                const string reason = "resync: the missed messages are no longer available; connect without resume";
                CloseConnection(connection, CloseCodes.Resync, reason);
                result = new ConnectResult(false, CloseCodes.Resync, reason);
                return;
            }

            Reattach(connection, request);
            Outbox.ToGateway(request.Gateway, new RoomOp(RoomOpKind.Resume, ConnectionId: connection.Id, Seq: Outbox.Seq, Replay: [.. missed]));
            await TryHookAsync(connection, () => OnResumeAsync(connection));
        });
        return result;
    }

    /// <summary>
    /// At activation: asks the gateways that hold the room's connections for their recent messages (which fences off the
    /// older activation's late deliveries), rebuilds the replay buffer from them, learns the client ids they saw
    /// processed, and queues for each gateway what another had and it lacks, before any new message.
    /// </summary>
    private async Task RebuildAsync()
    {
        var next = Math.Max(1, AlarmRecord.NextSeq);
        var liveness = ServiceProvider.GetService<GatewayLivenessCache>();
        var gateways = _connections.Values.Where(c => c.IsConnected)
            .GroupBy(c => c.Gateway.GetGrainId())
            .Where(g => liveness?.IsDead(g.Key) != true)
            .Select(g => g.First().Gateway)
            .ToList();
        var tails = await Task.WhenAll(gateways.Select(FenceAsync));

        var held = tails.Where(t => t.Tail is not null).SelectMany(t => t.Tail!.Sends).DistinctBy(o => o.Seq).OrderBy(o => o.Seq).ToList();
        Outbox.Restore(held, next, Environment.TickCount64);
        if (_outputStored)
        {
            AlarmRecord.NextSeq = Outbox.Seq + SeqBlock; // written with the epoch, before the first delivery
        }

        foreach (var (gateway, tail) in tails)
        {
            CloseUnknown(gateway, tail);
            foreach (var ack in tail?.Acks ?? [])
            {
                if (_connections.TryGetValue(ack.ConnectionId, out var acked) && ack.ClientId > acked.LastClientId)
                {
                    acked.LastClientId = ack.ClientId;
                }
            }

            // A gateway whose tail did not come in time may still have taken the fence (its answer was late, not lost): it
            // then drops the older activation's deliveries still on their way, and would miss what the others had. It gets
            // everything held; each message is marked as sent again, and the gateway skips those it applied already.
            var id = gateway.GetGrainId();
            var members = _connections.Values.Where(c => c.IsConnected && c.Gateway.GetGrainId() == id).Select(c => (c.Id, c.JoinedSeq));
            var count = 0;
            foreach (var op in Redeliveries(held, tail?.HighWater ?? 0, members))
            {
                Outbox.ToGateway(gateway, op);
                count++;
            }

            if (count > 0)
            {
                Log.Redelivered(Logger, RoomType, RoomName, count, id);
            }
        }
    }

    /// <summary>
    /// The renewal a fence answer carries: the gateway's connections the room does not know (it closed them in its eyes,
    /// or they never became durable) are closed with 1012 so that their clients reconnect, and the others' pings count.
    /// </summary>
    private void CloseUnknown(IGatewayObserver gateway, GatewayTail? tail)
    {
        foreach (var ping in tail?.Pings ?? [])
        {
            if (_connections.TryGetValue(ping.ConnectionId, out var pinged))
            {
                pinged.LastPing = DateTimeOffset.FromUnixTimeMilliseconds(ping.UnixMilliseconds);
            }
        }

        foreach (var id in tail?.Members ?? [])
        {
            if (!_connections.ContainsKey(id))
            {
                Outbox.ToGateway(gateway, new RoomOp(RoomOpKind.Close, ConnectionId: id, CloseCode: CloseCodes.ServiceRestart,
                    CloseReason: "the room no longer knows this connection; reconnect"));
            }
        }
    }

    /// <summary>
    /// What a gateway that applied the room's messages up to <paramref name="highWater"/> lacks of <paramref name="held"/>
    /// (what any gateway had, in order), each addressed to exactly the gateway's <paramref name="members"/> it was
    /// addressed to (sent after they joined, to them) and marked <see cref="RoomOp.Redelivered"/>; messages for none of
    /// them are left out. <paramref name="highWater"/> 0 when the gateway's tail is not known: it gets everything.
    /// </summary>
    internal static IEnumerable<RoomOp> Redeliveries(IReadOnlyList<RoomOp> held, long highWater, IEnumerable<(string Id, long JoinedSeq)> members)
    {
        var here = members.ToList();
        foreach (var op in held.Where(o => o.Seq > highWater))
        {
            string[] ids = [.. here.Where(m => op.Seq > m.JoinedSeq && op.Targets(m.Id)).Select(m => m.Id)];
            if (ids.Length > 0)
            {
                yield return op with { Target = TargetKind.Only, Ids = ids, Redelivered = true };
            }
        }
    }

    private async Task<(IGatewayObserver Gateway, GatewayTail? Tail)> FenceAsync(IGatewayObserver gateway)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return (gateway, await gateway.Fence(this.GetGrainId(), Outbox.Epoch).WaitAsync(FenceTimeout));
            }
            catch (Exception ex) when (attempt < FenceAttempts)
            {
                // Ask again: a silo that shuts down drops the messages it relays (a rolling restart), and the answer then
                // comes through another silo. Without this gateway's tail the room could not re-deliver to it what it
                // missed, and its clients would see a gap. Asking twice is harmless: the same epoch fences the same way.
                Log.FenceRetry(Logger, ex, RoomType, RoomName, gateway.GetGrainId(), attempt);
                await Task.Delay(FenceRetryDelay);
            }
            catch (Exception ex)
            {
                // Go on without it: the gateway is dead or stuck. Its lease decides about its connections; what it alone
                // held is missing for everyone, and a client that saw it gets a resync when it resumes. It is sent what
                // the others held all the same (see RebuildAsync), in case it only answered late.
                Log.FenceFailed(Logger, ex, RoomType, RoomName, gateway.GetGrainId());
                return (gateway, null);
            }
        }
    }

    /// <summary>The pause before asking a gateway again (a failure that came at once, e.g. its client not reachable yet).</summary>
    private static readonly TimeSpan FenceRetryDelay = TimeSpan.FromMilliseconds(200);

    /// <summary>A clean deactivation writes its exact next number, so the next activation numbers on without a jump.</summary>
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        Deactivated();
        await CloseLocalAsync();

        // Also when the silo shuts down (a rolling restart numbers on without a jump), except into in-memory storage:
        // it dies with the process, and its grains may be gone already.
        if (_outputStored && _epochSaved && AlarmRecord.NextSeq != Outbox.Seq + 1
            && ServiceProvider.GetKeyedService<IGrainStorage>(RoomOptions.StorageName) is { } storage
            && !(reason.ReasonCode == DeactivationReasonCode.ShuttingDown && IsInMemory(storage)))
        {
            try
            {
                AlarmRecord.NextSeq = Outbox.Seq + 1;
                await TimedWriteAsync(() => storage.WriteStateAsync(SystemRecord, this.GetGrainId(), _system));
            }
            catch (Exception ex)
            {
                // Log only: the reserved block stays, and the next activation numbers on after it (a jump, not a reuse).
                Log.SeqSaveFailed(Logger, ex, RoomType, RoomName);
            }
        }

        await DrainCallsAsync();
        await base.OnDeactivateAsync(reason, cancellationToken);
    }

    /// <summary>Orleans' in-memory grain storage (the all-in-one mode), named rather than referenced: this assembly does not depend on it.</summary>
    private static bool IsInMemory(IGrainStorage storage) => storage.GetType().FullName == "Orleans.Storage.MemoryGrainStorage";
}
