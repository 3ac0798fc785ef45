using System.Net;
using System.Net.Sockets;

namespace RoomActors.Tests.Infrastructure;

/// <summary>Free TCP ports on loopback, for silo and gateway ports that cannot be 0.</summary>
public static class FreePort
{
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
