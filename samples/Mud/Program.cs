using RoomActors.Hosting;
using RoomActors.Mud;

// The conference social space. All-in-one by default (http://localhost:8080/mud); with --redis a silo of a cluster
// (also serving WebSockets and /mud with --urls); with --gateway a standalone gateway of that cluster.
if (RoomTicketCommand.IsInvoked(args))
{
    return RoomTicketCommand.Run(args);
}

if (args.Contains("--gateway"))
{
    var gateway = RoomActorsHost.BuildGateway([.. args.Where(a => a != "--gateway")]);
    gateway.MapMud();
    gateway.Run();
    return 0;
}

var host = RoomActorsHost.BuildSilo(args, builder => builder.AddMud());
(host as WebApplication)?.MapMud();
host.Run();
return 0;
