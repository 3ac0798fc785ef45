using RoomActors.Hosting;

// All-in-one by default: a silo hosting the rooms, with the WebSocket gateway in the same process.
// With --redis it joins a cluster; then --urls decides whether it also serves WebSockets.
RoomActorsHost.BuildSilo(args).Run();
