using System.Collections.Immutable;
using Orleans.Metadata;

namespace RoomActors.Gateway.Sockets;

/// <summary>The room types the cluster hosts, read from the cluster manifest (no grain is activated to check).</summary>
internal sealed class RoomTypeCatalog(IClusterManifestProvider manifests)
{
    private (MajorMinorVersion Version, ImmutableSortedDictionary<string, bool> Types) _cache = (MajorMinorVersion.Zero, ImmutableSortedDictionary<string, bool>.Empty);

    /// <summary>Room type name → whether it answers HTTP requests.</summary>
    public ImmutableSortedDictionary<string, bool> Types
    {
        get
        {
            var manifest = manifests.Current;
            var cache = _cache;
            if (cache.Version != manifest.Version || manifest.Version == MajorMinorVersion.Zero)
            {
                var types = ImmutableSortedDictionary.CreateBuilder<string, bool>(StringComparer.Ordinal);
                foreach (var (grainType, properties) in manifest.AllGrainManifests.SelectMany(m => m.Grains))
                {
                    if (RoomGrainIds.RoomTypeOf(grainType) is { } type)
                    {
                        types[type] = properties.Properties.TryGetValue(RoomGrainIds.HandlesHttpProperty, out var http) && http == "true";
                    }
                }

                _cache = cache = (manifest.Version, types.ToImmutable());
            }

            return cache.Types;
        }
    }

    public bool Contains(string type) => Types.ContainsKey(type);

    public bool HandlesHttp(string type) => Types.GetValueOrDefault(type);
}
