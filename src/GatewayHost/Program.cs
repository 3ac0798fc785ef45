using RoomActors.Hosting;

// A standalone gateway: an Orleans client that holds WebSockets and routes them to room grains in the cluster.
RoomActorsHost.BuildGateway(args).Run();
