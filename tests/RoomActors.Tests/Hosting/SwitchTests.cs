using Microsoft.Extensions.Configuration;
using RoomActors.Hosting;

namespace RoomActors.Tests.Hosting;

/// <summary>The command-line switches and setting names, old and new.</summary>
public sealed class SwitchTests
{
    private static RoomActorsOptions Read(string[] args, Dictionary<string, string?>? settings = null) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(settings ?? [])
            .AddCommandLine(args, RoomActorsHost.SwitchMappings.ToDictionary())
            .Build()
            .GetRoomActorsOptions();

    [Fact]
    public void The_client_port_is_set_by_its_switch_and_by_its_former_name()
    {
        Assert.Equal(30000, Read([]).ClientPort);
        Assert.Equal(31001, Read(["--client-port", "31001"]).ClientPort);
        Assert.Equal(31002, Read(["--gateway-port", "31002"]).ClientPort);
        Assert.Equal(31003, Read([], new() { ["RoomActors:GatewayPort"] = "31003" }).ClientPort);
        Assert.Equal(31004, Read([], new() { ["RoomActors:ClientPort"] = "31004", ["RoomActors:GatewayPort"] = "31003" }).ClientPort);
    }
}
