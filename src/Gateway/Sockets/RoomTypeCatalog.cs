using System.Collections.Immutable;
using Orleans.Metadata;

namespace RoomActors.Gateway.Sockets;

/// <summary>The room types the cluster hosts, read from the cluster manifest (no grain is activated to check).</summary>
internal sealed class RoomTypeCatalog(IClusterManifestProvider manifests)
{
    private (MajorMinorVersion Version, ImmutableSortedSet<string> Types) _cache = (MajorMinorVersion.Zero, []);

    public ImmutableSortedSet<string> Types
    {
        get
        {
            var manifest = manifests.Current;
            var cache = _cache;
            if (cache.Version != manifest.Version || manifest.Version == MajorMinorVersion.Zero)
            {
                var types = manifest.AllGrainManifests
                    .SelectMany(m => m.Grains.Keys)
                    .Select(RoomGrainIds.RoomTypeOf)
                    .OfType<string>()
                    .ToImmutableSortedSet(StringComparer.Ordinal);
                _cache = cache = (manifest.Version, types);
            }

            return cache.Types;
        }
    }

    public bool Contains(string type) => Types.Contains(type);
}
