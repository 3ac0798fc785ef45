using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;
using RoomActors.Gateway.Hosting;

namespace RoomActors.Silo.Hosting;

/// <summary>Makes a process a RoomActors silo: it hosts room grains.</summary>
public static class RoomActorsSiloExtensions
{
    /// <summary>
    /// Hosts room grains. Embedded all-in-one mode: localhost clustering on <see cref="RoomActorsOptions.SiloPort"/>
    /// and <see cref="RoomActorsOptions.GatewayPort"/>, room state in memory.
    /// </summary>
    public static WebApplicationBuilder UseRoomActorsSilo(this WebApplicationBuilder builder)
    {
        var options = builder.Configuration.GetRoomActorsOptions();
        builder.Host.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(options.SiloPort, options.GatewayPort, serviceId: options.ServiceId, clusterId: options.ClusterId);
            silo.AddMemoryGrainStorage(RoomOptions.StorageName);
        });
        return builder;
    }
}
