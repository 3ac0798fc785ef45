using RoomActors.Gateway.Hosting;
using RoomActors.Silo.Hosting;

// All-in-one by default: a silo hosting the rooms, with the WebSocket gateway in the same process.
var builder = RoomActorsHost.CreateBuilder(args);
builder.UseRoomActorsSilo();
builder.Services.AddRoomActorsGateway();

var app = builder.Build();
app.UseWebSockets();
app.MapRoomActors();
app.Run();
