using Microsoft.AspNetCore.Builder;
using RoomActors.Gateway.Hosting;
using RoomActors.Silo.Hosting;

// All-in-one by default: a silo hosting the rooms, with the WebSocket gateway in the same process.
// With --redis it joins a cluster; then --urls decides whether it also serves WebSockets.
var builder = RoomActorsHost.CreateBuilder(args);
if (!builder.CoHostsGateway())
{
    var silo = RoomActorsHost.CreateHeadlessBuilder(args);
    silo.UseRoomActorsSilo();
    silo.Build().Run();
    return;
}

builder.UseRoomActorsSilo();
builder.Services.AddRoomActorsGateway();

var app = builder.Build();
app.UseWebSockets();
app.MapRoomActors();
app.Run();
