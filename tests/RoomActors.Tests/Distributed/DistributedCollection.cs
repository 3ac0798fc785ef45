namespace RoomActors.Tests.Distributed;

/// <summary>
/// Tests of real processes run one at a time: each starts its own redis-server and processes, and they compete for
/// the machine's two cores.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DistributedCollection
{
    public const string Name = "distributed";
}
