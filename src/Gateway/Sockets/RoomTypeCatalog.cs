using System.Collections.Immutable;
using Orleans.Metadata;

namespace RoomActors.Gateway.Sockets;

/// <summary>The room types the cluster hosts, read from the cluster manifest (no grain is activated to check).</summary>
internal sealed class RoomTypeCatalog(IClusterManifestProvider manifests)
{
    private (MajorMinorVersion Version, ImmutableSortedDictionary<string, RoomTypeInfo> Types) _cache = (MajorMinorVersion.Zero, ImmutableSortedDictionary<string, RoomTypeInfo>.Empty);

    /// <summary>Room type name → what it has.</summary>
    public ImmutableSortedDictionary<string, RoomTypeInfo> Types
    {
        get
        {
            var manifest = manifests.Current;
            var cache = _cache;
            if (cache.Version != manifest.Version || manifest.Version == MajorMinorVersion.Zero)
            {
                var types = ImmutableSortedDictionary.CreateBuilder<string, RoomTypeInfo>(StringComparer.Ordinal);
                foreach (var (grainType, properties) in manifest.AllGrainManifests.SelectMany(m => m.Grains))
                {
                    if (RoomGrainIds.RoomTypeOf(grainType) is { } type)
                    {
                        types[type] = new RoomTypeInfo(
                            properties.Properties.TryGetValue(RoomGrainIds.HandlesHttpProperty, out var http) && http == "true",
                            properties.Properties.TryGetValue(RoomGrainIds.BeforeConnectProperty, out var admit) && admit == "true");
                    }
                }

                _cache = cache = (manifest.Version, types.ToImmutable());
            }

            return cache.Types;
        }
    }

    public bool Contains(string type) => Types.ContainsKey(type);

    public bool HandlesHttp(string type) => Types.GetValueOrDefault(type)?.HandlesHttp ?? false;

    public bool ChecksBeforeConnect(string type) => Types.GetValueOrDefault(type)?.ChecksBeforeConnect ?? false;
}

/// <summary>What a room type offers besides WebSockets.</summary>
internal sealed record RoomTypeInfo(bool HandlesHttp, bool ChecksBeforeConnect);

