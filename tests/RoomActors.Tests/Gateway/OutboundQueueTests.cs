using System.Text;
using RoomActors.Gateway.Sockets;

namespace RoomActors.Tests.Gateway;

/// <summary>The outbound queue's bookkeeping, without sockets: limits, batches, the writer's start and stop.</summary>
public sealed class OutboundQueueTests
{
    private static OutboundFrame Payload(int bytes) => new(new Payload(true, Encoding.UTF8.GetBytes(new string('x', bytes))));

    [Fact]
    public void A_new_queue_holds_nothing_and_has_no_writer()
    {
        var queue = new OutboundQueue();

        Assert.Equal(0, queue.Messages);
        Assert.Equal(0, queue.Bytes);
        Assert.Equal(0, queue.Waiting);
        Assert.Null(queue.TakeBatch(closing: false));
        Assert.True(queue.TryStartWriter());
    }

    [Fact]
    public void The_first_frame_starts_the_writer_and_later_ones_do_not()
    {
        var queue = new OutboundQueue();

        Assert.True(queue.TryAdd(Payload(1), 10, 100, out var first));
        Assert.True(queue.TryAdd(Payload(1), 10, 100, out var second));

        Assert.True(first);
        Assert.False(second);
        Assert.False(queue.TryStartWriter()); // a close finds the writer running
    }

    [Theory]
    [InlineData(3, 1000, new[] { 1, 1, 1, 1 }, 3)] // the fourth message passes the message limit
    [InlineData(10, 10, new[] { 4, 4, 3 }, 2)] // 11 bytes pass the byte limit
    [InlineData(10, 10, new[] { 4, 6, 0 }, 3)] // exactly at both limits: an empty frame still counts as a message
    [InlineData(2, 10, new[] { 11 }, 0)] // one frame larger than the whole limit
    [InlineData(1, 10, new[] { 10 }, 1)]
    public void A_frame_that_would_pass_a_limit_is_refused(int maxMessages, long maxBytes, int[] frames, int accepted)
    {
        var queue = new OutboundQueue();
        var taken = 0;
        foreach (var bytes in frames)
        {
            if (!queue.TryAdd(Payload(bytes), maxMessages, maxBytes, out _))
            {
                break;
            }

            taken++;
        }

        Assert.Equal(accepted, taken);
        Assert.Equal(accepted, queue.Messages);
        Assert.Equal(frames.Take(accepted).Sum(), queue.Bytes);
    }

    [Fact]
    public void A_batch_takes_everything_queued_and_its_frames_count_until_written()
    {
        var queue = new OutboundQueue();
        queue.TryAdd(Payload(2), 3, 100, out _);
        queue.TryAdd(Payload(3), 3, 100, out _);

        var batch = queue.TakeBatch(closing: false);

        Assert.NotNull(batch);
        Assert.Equal(2, batch.Count);
        Assert.Equal(0, queue.Waiting);
        Assert.Equal(2, queue.Messages); // being written: still counted, so a stuck write fills the queue
        Assert.True(queue.TryAdd(Payload(1), 3, 100, out var start));
        Assert.False(start); // the writer still runs
        Assert.False(queue.TryAdd(Payload(1), 3, 100, out _));

        batch.Clear();
        queue.Written(batch, 2, 5);

        Assert.Equal(1, queue.Messages);
        Assert.Equal(1, queue.Bytes);
    }

    [Fact]
    public void The_writer_stops_on_an_empty_queue_unless_a_close_is_pending()
    {
        var queue = new OutboundQueue();
        queue.TryAdd(Payload(1), 10, 100, out _);
        var batch = queue.TakeBatch(closing: false)!;
        batch.Clear();
        queue.Written(batch, 1, 1);

        Assert.Null(queue.TakeBatch(closing: true));
        Assert.False(queue.TryStartWriter()); // closing: the writer goes on to the close frame

        var stopping = new OutboundQueue();
        stopping.TryAdd(Payload(1), 10, 100, out _);
        stopping.TakeBatch(closing: false);
        Assert.Null(stopping.TakeBatch(closing: false));
        Assert.True(stopping.TryAdd(Payload(1), 10, 100, out var restart));
        Assert.True(restart); // it stopped: the next frame starts a new one
    }

    [Fact]
    public void Batches_reuse_their_queues()
    {
        var queue = new OutboundQueue();
        var seen = new HashSet<Queue<OutboundFrame>>(ReferenceEqualityComparer.Instance);
        for (var round = 0; round < 10; round++)
        {
            queue.TryAdd(Payload(1), 10, 100, out _);
            var batch = queue.TakeBatch(closing: false)!;
            seen.Add(batch);
            batch.Clear();
            queue.Written(batch, 1, 1);
            Assert.Null(queue.TakeBatch(closing: false));
        }

        Assert.Equal(2, seen.Count); // the one waiting and the one being written swap
    }

    [Fact]
    public void A_discard_drops_what_waits_but_a_batch_being_written_still_counts()
    {
        var queue = new OutboundQueue();
        queue.TryAdd(Payload(4), 10, 100, out _);
        var batch = queue.TakeBatch(closing: false)!;
        queue.TryAdd(Payload(5), 10, 100, out _);
        queue.TryAdd(Payload(6), 10, 100, out _);

        queue.Discard();

        Assert.Equal(0, queue.Waiting);
        Assert.Equal(1, queue.Messages);
        Assert.Equal(4, queue.Bytes);
        Assert.Null(queue.TakeBatch(closing: true));
        batch.Clear();
        queue.Written(batch, 1, 4);
        Assert.Equal(0, queue.Messages);
        Assert.Equal(0, queue.Bytes);
    }
}
