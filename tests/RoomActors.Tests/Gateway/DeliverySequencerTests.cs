using RoomActors.Gateway.Sockets;

namespace RoomActors.Tests.Gateway;

/// <summary>The gateway's reordering of one room's deliveries, case by case.</summary>
public sealed class DeliverySequencerTests
{
    private const long Session = 7;

    private static (DeliverySequencer<string> Sequencer, List<string> Ready) New() => (new DeliverySequencer<string>(Session), new List<string>());

    private static DeliveryVerdict Offer(DeliverySequencer<string> sequencer, List<string> ready, long epoch, long number, long session = Session) =>
        sequencer.Offer(session, epoch, number, $"{epoch}.{number}", ready);

    [Fact]
    public void In_order_deliveries_are_applied_as_they_come()
    {
        var (sequencer, ready) = New();
        Assert.Equal(DeliveryVerdict.Applied, Offer(sequencer, ready, 5, 1));
        Assert.Equal(DeliveryVerdict.Applied, Offer(sequencer, ready, 5, 2));
        Assert.Equal(DeliveryVerdict.Applied, Offer(sequencer, ready, 5, 3));
        Assert.Equal(["5.1", "5.2", "5.3"], ready);
        Assert.Equal((5, 4), (sequencer.Epoch, sequencer.Expected));
        Assert.False(sequencer.Waiting);
    }

    [Fact]
    public void An_early_delivery_waits_for_the_ones_before_it_then_all_apply_in_order()
    {
        var (sequencer, ready) = New();
        Offer(sequencer, ready, 5, 1);
        Assert.Equal(DeliveryVerdict.Early, Offer(sequencer, ready, 5, 4));
        Assert.Equal(DeliveryVerdict.Early, Offer(sequencer, ready, 5, 3));
        Assert.True(sequencer.Waiting);
        Assert.Equal(["5.1"], ready);

        Assert.Equal(DeliveryVerdict.Applied, Offer(sequencer, ready, 5, 2));
        Assert.Equal(["5.1", "5.2", "5.3", "5.4"], ready);
        Assert.False(sequencer.Waiting);
        Assert.Equal(5, sequencer.Expected);
    }

    [Fact]
    public void A_duplicate_is_dropped()
    {
        var (sequencer, ready) = New();
        Offer(sequencer, ready, 5, 1);
        Offer(sequencer, ready, 5, 2);
        Assert.Equal(DeliveryVerdict.Duplicate, Offer(sequencer, ready, 5, 1));
        Assert.Equal(DeliveryVerdict.Duplicate, Offer(sequencer, ready, 5, 2));
        Assert.Equal(["5.1", "5.2"], ready);
    }

    [Fact]
    public void A_gap_keeps_waiting_until_cleared()
    {
        var (sequencer, ready) = New();
        Offer(sequencer, ready, 5, 1);
        Offer(sequencer, ready, 5, 3);
        Offer(sequencer, ready, 5, 4);
        Assert.True(sequencer.Waiting);
        Assert.Equal(2, sequencer.Expected);

        // The caller gives up after its resync timeout; what was held is gone, the position stays.
        sequencer.Clear();
        Assert.False(sequencer.Waiting);
        Assert.Equal(["5.1"], ready);
        Assert.Equal(DeliveryVerdict.Early, Offer(sequencer, ready, 5, 3));
    }

    [Fact]
    public void A_new_epoch_is_followed_from_its_first_delivery_and_voids_what_the_old_one_held()
    {
        var (sequencer, ready) = New();
        Offer(sequencer, ready, 5, 1);
        Offer(sequencer, ready, 5, 3); // held: 5.2 never comes, the room restarted

        // The new activation's second delivery overtook its first: held until the first comes.
        Assert.Equal(DeliveryVerdict.Early, Offer(sequencer, ready, 6, 2));
        Assert.Equal(DeliveryVerdict.NewEpoch, Offer(sequencer, ready, 6, 1));
        Assert.Equal(["5.1", "6.1", "6.2"], ready);
        Assert.False(sequencer.Waiting); // 5.3 is void
        Assert.Equal((6, 3), (sequencer.Epoch, sequencer.Expected));
    }

    [Fact]
    public void The_first_epoch_seen_is_not_a_restart()
    {
        var (sequencer, ready) = New();
        Assert.Equal(DeliveryVerdict.Applied, Offer(sequencer, ready, 9, 1));
        Assert.Equal(9, sequencer.Epoch);
    }

    [Fact]
    public void A_delivery_of_an_older_epoch_is_dropped_at_once_never_held()
    {
        var (sequencer, ready) = New();
        Offer(sequencer, ready, 6, 1);
        Assert.Equal(DeliveryVerdict.StaleEpoch, Offer(sequencer, ready, 5, 7));
        Assert.Equal(DeliveryVerdict.StaleEpoch, Offer(sequencer, ready, 5, 1));
        Assert.False(sequencer.Waiting);
        Assert.Equal(["6.1"], ready);
        Assert.Equal(6, sequencer.Epoch);
    }

    [Fact]
    public void A_delivery_numbered_for_another_session_is_not_this_sequencers()
    {
        var (sequencer, ready) = New();
        Offer(sequencer, ready, 5, 1);
        Assert.Equal(DeliveryVerdict.OtherSession, Offer(sequencer, ready, 5, 2, session: 8));
        Assert.Equal(DeliveryVerdict.OtherSession, Offer(sequencer, ready, 6, 1, session: 8));
        Assert.Equal(["5.1"], ready);
        Assert.Equal((5, 2), (sequencer.Epoch, sequencer.Expected));
        Assert.False(sequencer.Waiting);
    }

    [Fact]
    public void A_fence_by_a_new_activation_drops_the_old_ones_late_deliveries_before_the_new_one_delivers()
    {
        var (sequencer, ready) = New();
        Offer(sequencer, ready, 5, 1);
        Offer(sequencer, ready, 5, 3); // held: 2 is missing
        Assert.True(sequencer.Fence(6));
        Assert.False(sequencer.Waiting); // what the old activation left held is void
        Assert.Equal(DeliveryVerdict.StaleEpoch, Offer(sequencer, ready, 5, 2)); // late: after the fence, never applied
        Assert.Equal(DeliveryVerdict.Applied, Offer(sequencer, ready, 6, 1));
        Assert.Equal(["5.1", "6.1"], ready);
        Assert.False(sequencer.Fence(6)); // the same activation again
        Assert.False(sequencer.Fence(4));
        Assert.Equal((6, 2), (sequencer.Epoch, sequencer.Expected));
    }
}
