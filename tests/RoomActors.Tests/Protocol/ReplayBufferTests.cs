using System.Text;

namespace RoomActors.Tests.Protocol;

/// <summary>The replay buffer rooms and gateways keep: bounds, what it can answer for, and its rebuild after a crash.</summary>
public sealed class ReplayBufferTests
{
    private static RoomOp Send(long seq, string text = "x", TargetKind target = TargetKind.All, params string[] ids) =>
        new(RoomOpKind.Send, new Payload(true, Encoding.UTF8.GetBytes(text)), target, ids.Length > 0 ? ids : null, Seq: seq);

    private static ReplayBuffer Filled(int count, int maxMessages = 100, long maxBytes = 1 << 20)
    {
        var buffer = new ReplayBuffer(maxMessages, maxBytes, TimeSpan.FromMinutes(2));
        for (var seq = 1; seq <= count; seq++)
        {
            buffer.Append(Send(seq), nowMs: 0);
        }

        return buffer;
    }

    [Fact]
    public void It_keeps_the_latest_messages_within_the_count_bound_and_answers_only_for_what_it_holds()
    {
        var buffer = Filled(10, maxMessages: 4);
        Assert.Equal(4, buffer.Count);
        Assert.Equal([7L, 8, 9, 10], buffer.Snapshot().Select(o => o.Seq));
        Assert.Equal(7, buffer.Complete);
        Assert.True(buffer.CanResumeAfter(6)); // missed 7..10: all held
        Assert.True(buffer.CanResumeAfter(10)); // missed nothing
        Assert.False(buffer.CanResumeAfter(5)); // 6 is gone
        Assert.False(buffer.CanResumeAfter(11)); // a number the room never used
        Assert.False(buffer.CanResumeAfter(-1));
    }

    [Fact]
    public void Bytes_and_age_bound_it_too()
    {
        var bytes = new ReplayBuffer(100, maxBytes: 10, TimeSpan.FromMinutes(2));
        for (var seq = 1; seq <= 5; seq++)
        {
            bytes.Append(Send(seq, "abcd"), nowMs: 0);
        }

        Assert.Equal(2, bytes.Count); // 2 × 4 bytes fit in 10
        Assert.Equal(8, bytes.Bytes);

        var age = new ReplayBuffer(100, 1 << 20, TimeSpan.FromSeconds(1));
        age.Append(Send(1), nowMs: 0);
        age.Append(Send(2), nowMs: 900);
        age.Append(Send(3), nowMs: 1500);
        Assert.Equal([2L, 3], age.Snapshot().Select(o => o.Seq));
        age.Trim(nowMs: 5000);
        Assert.Equal(0, age.Count);
        Assert.True(age.CanResumeAfter(3));
        Assert.False(age.CanResumeAfter(2));
    }

    [Fact]
    public void Collect_gives_the_messages_after_a_number_that_the_filter_selects_in_order()
    {
        var buffer = new ReplayBuffer(100, 1 << 20, TimeSpan.FromMinutes(2));
        buffer.Append(Send(1, "a"), 0);
        buffer.Append(Send(2, "b", TargetKind.Only, "other"), 0);
        buffer.Append(Send(3, "c", TargetKind.AllExcept, "me"), 0);
        buffer.Append(Send(4, "d", TargetKind.Only, "me"), 0);
        buffer.Append(Send(5, "e"), 0);
        var missed = new List<RoomOp>();
        Assert.True(buffer.TryCollect(1, op => op.Targets("me"), missed));
        Assert.Equal([4L, 5], missed.Select(o => o.Seq));
        Assert.False(buffer.TryCollect(6, _ => true, missed = []));
        Assert.Empty(missed);
    }

    [Fact]
    public void Restored_after_a_crash_it_answers_for_the_unbroken_run_the_gateways_held_and_refuses_numbers_no_survivor_held()
    {
        var buffer = new ReplayBuffer(100, 1 << 20, TimeSpan.FromMinutes(2));

        // Gateways held 3, 5, 6, 7 (4 reached no survivor); the old activation had reserved up to 10 000.
        buffer.Restore([Send(7), Send(5), Send(3), Send(6), Send(5)], next: 10_000, nowMs: 0);
        Assert.Equal([5L, 6, 7], buffer.Snapshot().Select(o => o.Seq));
        Assert.Equal(10_000, buffer.Last); // the new activation's marker: its first message is 10 001
        Assert.True(buffer.CanResumeAfter(4)); // missed 5..7, held; nobody alive saw 8..9 999
        Assert.True(buffer.CanResumeAfter(7));
        Assert.False(buffer.CanResumeAfter(3)); // 4 is unknown
        Assert.False(buffer.CanResumeAfter(8)); // a number only a dead gateway may have delivered
        Assert.False(buffer.CanResumeAfter(9_999));
        Assert.True(buffer.CanResumeAfter(10_000)); // a client that joined after the restart

        buffer.Append(Send(10_001), 0);
        var missed = new List<RoomOp>();
        Assert.True(buffer.TryCollect(4, _ => true, missed));
        Assert.Equal([5L, 6, 7, 10_001], missed.Select(o => o.Seq));
    }

    [Fact]
    public void Restored_with_nothing_held_it_answers_only_for_clients_that_joined_after()
    {
        var buffer = new ReplayBuffer(100, 1 << 20, TimeSpan.FromMinutes(2));
        buffer.Restore([], next: 42, nowMs: 0);
        Assert.Equal(42, buffer.Last);
        Assert.False(buffer.CanResumeAfter(41));
        Assert.True(buffer.CanResumeAfter(42));

        var fresh = new ReplayBuffer(100, 1 << 20, TimeSpan.FromMinutes(2));
        fresh.Restore([], next: 1, nowMs: 0); // a room that never numbered a message
        Assert.Equal(0, fresh.Last);
        Assert.True(fresh.CanResumeAfter(0));
    }
}

/// <summary>What a new activation re-delivers to a gateway from what the gateways held.</summary>
public sealed class RedeliveryTests
{
    private static RoomOp Send(long seq, TargetKind target = TargetKind.All, params string[] ids) =>
        new(RoomOpKind.Send, new Payload(true, [(byte)'x']), target, ids.Length > 0 ? ids : null, Seq: seq);

    [Fact]
    public void A_gateway_gets_what_it_lacks_addressed_to_exactly_its_members_that_it_was_addressed_to()
    {
        RoomOp[] held = [Send(4), Send(5), Send(6, TargetKind.Only, "b"), Send(7, TargetKind.AllExcept, "a"), Send(8, TargetKind.Only, "elsewhere")];

        // This gateway applied up to 4; a joined at 0, b joined at 5 (so 5 was not for b).
        var plan = Room.Redeliveries(held, highWater: 4, [("a", 0), ("b", 5)]).ToList();
        Assert.Equal([5L, 6, 7], plan.Select(o => o.Seq));
        Assert.All(plan, o => Assert.Equal(TargetKind.Only, o.Target));
        Assert.Equal(["a"], plan[0].Ids!);
        Assert.Equal(["b"], plan[1].Ids!);
        Assert.Equal(["b"], plan[2].Ids!);
        Assert.Same(held[1].Payload, plan[0].Payload); // the same bytes, not a copy
    }

    [Fact]
    public void Re_delivered_messages_are_marked_and_a_gateway_s_buffer_knows_which_it_applied_already()
    {
        var plan = Room.Redeliveries([Send(1), Send(2), Send(3)], highWater: 0, [("a", 0)]).ToList();
        Assert.All(plan, o => Assert.True(o.Redelivered));

        // A gateway that applied up to 2 (its tail unknown to the room: it got everything).
        var applied = new ReplayBuffer(16, 1 << 20, TimeSpan.FromMinutes(2));
        applied.Append(Send(1), 0);
        applied.Append(Send(2), 0);
        Assert.Equal([3L], plan.Where(o => !applied.AppliedAlready(o)).Select(o => o.Seq));

        // A message numbered at or below what the gateway applied, but not sent again, is not the buffer's to judge.
        Assert.False(applied.AppliedAlready(Send(2)));
    }

    [Fact]
    public void A_gateway_that_has_everything_gets_nothing() =>
        Assert.Empty(Room.Redeliveries([Send(1), Send(2)], highWater: 2, [("a", 0)]));
}
