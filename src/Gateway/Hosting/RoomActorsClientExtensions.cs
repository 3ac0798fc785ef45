using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;

namespace RoomActors.Gateway.Hosting;

/// <summary>Makes a process an Orleans client of the RoomActors cluster.</summary>
public static class RoomActorsClientExtensions
{
    /// <summary>
    /// Connects to the cluster as an Orleans client: for now the localhost-clustered silo at
    /// <see cref="RoomActorsOptions.GatewayPort"/>.
    /// </summary>
    public static WebApplicationBuilder UseRoomActorsClient(this WebApplicationBuilder builder)
    {
        var options = builder.Configuration.GetRoomActorsOptions();
        builder.Host.UseOrleansClient(client =>
        {
            client.UseLocalhostClustering(options.GatewayPort, options.ServiceId, options.ClusterId);
        });
        return builder;
    }
}
