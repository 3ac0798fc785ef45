namespace RoomActors.Contracts;

/// <summary>
/// Which gateways are alive. Gateways report every few seconds; rooms (through a silo-local cache) close the
/// connections of a gateway that stopped reporting. One registry per cluster (key 0); its memory is all it needs:
/// after a restart it knows every live gateway again within one report interval.
/// </summary>
public interface IGatewayRegistry : IGrainWithIntegerKey
{
    /// <summary>A gateway is alive.</summary>
    Task Heartbeat(IGatewayObserver gateway);

    /// <summary>The gateways alive now.</summary>
    Task<GatewayLiveness> GetLiveness();
}

/// <summary>The registry's view of gateways.</summary>
/// <param name="Alive">Gateways heard from within the lease.</param>
/// <param name="Settled">
/// False while the registry itself is younger than the lease (just started: it cannot tell a dead gateway from one
/// that has not reported yet). Nothing is declared dead until it is true.
/// </param>
[GenerateSerializer, Immutable]
public sealed record GatewayLiveness([property: Id(0)] GrainId[] Alive, [property: Id(1)] bool Settled);
