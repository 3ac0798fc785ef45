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

    [Fact]
    public void It_holds_copies_of_the_payloads_with_everything_a_resume_and_a_rebuild_read()
    {
        var buffer = new ReplayBuffer(100, 1 << 20, TimeSpan.FromMinutes(2));
        var bytes = Encoding.UTF8.GetBytes("hello");
        buffer.Append(new RoomOp(RoomOpKind.Send, new Payload(false, bytes), TargetKind.AllExcept, ["a"], Seq: 1, Redelivered: true), 0);
        bytes[0] = (byte)'J'; // the caller's array is its own again: a pooled buffer may be reused

        var held = Assert.Single(buffer.Snapshot());
        Assert.Equal("hello", Encoding.UTF8.GetString(held.Payload!.Data));
        Assert.False(held.Payload.IsText);
        Assert.Equal(TargetKind.AllExcept, held.Target);
        Assert.Equal(["a"], held.Ids!);
        Assert.True(held.Redelivered);
        Assert.Equal(RoomOpKind.Send, held.Kind);
    }

    /// <summary>
    /// The chunks (growing, trimmed from the front, pooled, one of a payload's size) against the plain definition: a queue
    /// of the ops, trimmed after each append. Sizes from empty to larger than a chunk and than the byte bound, three bounds,
    /// ages, re-delivered and targeted messages; every step compared, and every hundredth a resume from the middle and a
    /// rebuild from what is held.
    /// </summary>
    [Theory]
    [InlineData(1, 16, 1_000L)]
    [InlineData(2, 5, 100_000L)]
    [InlineData(3, 1_000, 300L)]
    [InlineData(4, 1, 1_000L)]
    [InlineData(5, 0, 1_000L)]
    [InlineData(6, 300, 100_000L)]
    public void It_holds_exactly_what_a_queue_trimmed_after_each_append_holds(int seed, int maxMessages, long maxBytes)
    {
        var random = new Random(seed);
        var maxAge = TimeSpan.FromMilliseconds(500);
        var buffer = new ReplayBuffer(maxMessages, maxBytes, maxAge);
        var model = new Queue<(RoomOp Op, long At)>();
        long complete = 1, now = 0, seq = 0;
        for (var step = 0; step < 3_000; step++)
        {
            now += random.Next(0, 20);
            if (random.Next(50) == 0)
            {
                buffer.Trim(now);
                TrimModel();
            }
            else
            {
                seq += random.Next(1, 3);
                var size = random.Next(10) == 0 ? random.Next(0, 6_000) : random.Next(0, 120);
                var data = new byte[size];
                random.NextBytes(data);
                var target = (TargetKind)random.Next(3);
                var op = new RoomOp(
                    RoomOpKind.Send,
                    new Payload(random.Next(2) == 0, data),
                    target,
                    target == TargetKind.All ? null : [$"c{random.Next(5)}"],
                    Seq: seq,
                    Redelivered: random.Next(4) == 0);
                buffer.Append(op, now);
                model.Enqueue((op, now));
                TrimModel();
            }

            Assert.Equal(model.Count, buffer.Count);
            Assert.Equal(model.Sum(e => (long)e.Op.Payload!.Data.Length), buffer.Bytes);
            Assert.Equal(complete, buffer.Complete);
            Assert.Equal(seq, buffer.Last);
            var held = buffer.Snapshot();
            Assert.Equal(model.Count, held.Length);
            foreach (var (expected, actual) in model.Select(e => e.Op).Zip(held))
            {
                Assert.Equal(expected.Seq, actual.Seq);
                Assert.Equal(expected.Payload!.IsText, actual.Payload!.IsText);
                Assert.Equal(expected.Payload.Data, actual.Payload.Data);
                Assert.Equal(expected.Target, actual.Target);
                Assert.Equal(expected.Ids, actual.Ids);
                Assert.Equal(expected.Redelivered, actual.Redelivered);
            }

            if (step % 100 == 99 && model.Count > 0)
            {
                // A resume from the middle (the numbers after it, across chunks) and a rebuild from what is held.
                var after = model.ElementAt(model.Count / 2).Op.Seq - 1;
                var missed = new List<RoomOp>();
                Assert.True(buffer.TryCollect(after, op => op.Target == TargetKind.All, missed));
                Assert.Equal(model.Select(e => e.Op).Where(o => o.Seq > after && o.Target == TargetKind.All).Select(o => o.Seq), missed.Select(o => o.Seq));
                var rebuilt = new ReplayBuffer(maxMessages, maxBytes, maxAge);
                rebuilt.Restore(held, next: seq + 1, now);
                var unbroken = held.Reverse().TakeWhile((o, i) => o.Seq == held[^1].Seq - i).Reverse().ToList(); // what a rebuild answers for
                Assert.Equal(unbroken.Select(o => o.Seq), rebuilt.Snapshot().Select(o => o.Seq));
                Assert.Equal(unbroken.Select(o => o.Payload!.Data), rebuilt.Snapshot().Select(o => o.Payload!.Data));
            }
        }

        void TrimModel()
        {
            while (model.TryPeek(out var oldest)
                && (model.Count > maxMessages || model.Sum(e => (long)e.Op.Payload!.Data.Length) > maxBytes || now - oldest.At > maxAge.TotalMilliseconds))
            {
                model.Dequeue();
                complete = Math.Max(complete, oldest.Op.Seq + 1);
            }
        }
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
