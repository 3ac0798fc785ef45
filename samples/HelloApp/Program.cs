using RoomActors.Hosting;

// This app's silo: its own rooms (HelloRoom.cs) and the referenced sample rooms (unless --samples false), with the
// WebSocket gateway in the same process, on http://localhost:8080 unless --urls says otherwise.
RoomActorsHost.BuildAllInOne(args).Run();
