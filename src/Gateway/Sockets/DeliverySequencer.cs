namespace RoomActors.Gateway.Sockets;

/// <summary>What <see cref="DeliverySequencer{T}.Offer"/> did with a delivery.</summary>
internal enum DeliveryVerdict
{
    /// <summary>Next in order: applied (with any held-back deliveries that follow it).</summary>
    Applied,

    /// <summary>The first delivery of a newer room activation: the sequencer follows it from here, then applied.</summary>
    NewEpoch,

    /// <summary>Ahead of the next expected one: held back until the ones before it arrive.</summary>
    Early,

    /// <summary>Already applied (it came again, e.g. with the answer to a batch sent again): dropped.</summary>
    Duplicate,

    /// <summary>From an older room activation than the one followed: dropped, never held.</summary>
    StaleEpoch,

    /// <summary>Numbered for another session of this gateway with the room: not this sequencer's, dropped.</summary>
    OtherSession,
}

/// <summary>
/// Puts one room's deliveries to one gateway session back in the room's order. Pure: no clock, no I/O, no locks (the
/// caller holds its own). A room numbers what it sends a gateway session 1, 2, 3… within an epoch; each activation of
/// the room has a larger epoch than the one before (persisted with the room), so a delivery from an older or a
/// duplicate activation is recognised as stale and dropped at once.
/// </summary>
/// <typeparam name="T">The delivery.</typeparam>
internal sealed class DeliverySequencer<T>(long session)
{
    private readonly SortedDictionary<(long Epoch, long Number), T> _early = new();

    /// <summary>The gateway session this sequencer orders deliveries for.</summary>
    public long Session { get; } = session;

    /// <summary>The room activation followed; 0 before the first delivery.</summary>
    public long Epoch { get; private set; }

    /// <summary>The number of the next delivery to apply within <see cref="Epoch"/>.</summary>
    public long Expected { get; private set; } = 1;

    /// <summary>True while deliveries are held back waiting for an earlier one (a gap, if it lasts).</summary>
    public bool Waiting => _early.Count > 0;

    /// <summary>
    /// Offers a delivery numbered <paramref name="number"/> in <paramref name="epoch"/> for <paramref name="session"/>;
    /// adds what can be applied now to <paramref name="ready"/>, in order.
    /// </summary>
    public DeliveryVerdict Offer(long session, long epoch, long number, T delivery, List<T> ready)
    {
        if (session != Session)
        {
            return DeliveryVerdict.OtherSession;
        }

        if (epoch < Epoch)
        {
            return DeliveryVerdict.StaleEpoch;
        }

        var verdict = DeliveryVerdict.Applied;
        if (epoch > Epoch)
        {
            if (number != 1)
            {
                // The newer activation's first deliveries may still be on their way.
                _early[(epoch, number)] = delivery;
                return DeliveryVerdict.Early;
            }

            // A newer activation numbers from 1: follow it; whatever was held back from older ones is void.
            verdict = Epoch == 0 ? DeliveryVerdict.Applied : DeliveryVerdict.NewEpoch;
            Follow(epoch);
        }
        else if (number < Expected)
        {
            return DeliveryVerdict.Duplicate;
        }
        else if (number > Expected)
        {
            _early[(epoch, number)] = delivery;
            return DeliveryVerdict.Early;
        }

        ready.Add(delivery);
        Expected = number + 1;
        while (_early.Remove((Epoch, Expected), out var next))
        {
            ready.Add(next);
            Expected++;
        }

        return verdict;
    }

    /// <summary>
    /// A new activation of the room (numbering in <paramref name="epoch"/>) took over before its first delivery: from
    /// here on deliveries of older activations are stale. False when the sequencer already follows that epoch or a newer one.
    /// </summary>
    public bool Fence(long epoch)
    {
        if (epoch <= Epoch)
        {
            return false;
        }

        Follow(epoch);
        return true;
    }

    /// <summary>
    /// Numbers from 1 in <paramref name="epoch"/>; what was held back from older epochs is void. Its own method: the
    /// lambda's closure would otherwise be allocated on every <see cref="Offer"/>.
    /// </summary>
    private void Follow(long epoch)
    {
        Epoch = epoch;
        Expected = 1;
        foreach (var key in _early.Keys.Where(k => k.Epoch < epoch).ToList())
        {
            _early.Remove(key);
        }
    }

    /// <summary>Gives up on what is held back (the gap lasted too long; the caller resynchronises its clients).</summary>
    public void Clear() => _early.Clear();
}
