using RoomActors.Gateway.Hosting;

// A standalone gateway: an Orleans client that holds WebSockets and routes them to room grains in the cluster.
var builder = RoomActorsHost.CreateBuilder(args);
builder.UseRoomActorsClient();
builder.Services.AddRoomActorsGateway();

var app = builder.Build();
app.UseWebSockets();
app.MapRoomActors();
app.Run();
