using Microsoft.AspNetCore.SignalR;

// What a C# team would pick instead: an ASP.NET Core SignalR hub with groups, with the URL shape and relay semantics
// of the `broadcast` room. A client connects (WebSockets, negotiation skipped) to /rooms/broadcast/{name}, joins the
// group {name}, and every string it sends with the hub method `Send` goes to every member of the group, the sender
// included, as the client method `m`. The load generator speaks the SignalR JSON protocol (--protocol signalr).
// With --redis host:port the hub uses SignalR's Redis backplane, so several servers share the groups (a room's clients
// may be spread over them); without it, one server on its own.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
var signalR = builder.Services.AddSignalR(options =>
{
    options.MaximumReceiveMessageSize = 1024 * 1024;
    options.ClientTimeoutInterval = TimeSpan.FromMinutes(10); // the load generator's idle clients send no pings
});
if (builder.Configuration["redis"] is { Length: > 0 } redis)
{
    signalR.AddStackExchangeRedis(redis);
}

var app = builder.Build();
app.MapHub<RoomHub>("/rooms/broadcast/{name}");
app.Run();

/// <summary>One group per room name; <see cref="Send"/> relays to the whole group.</summary>
internal sealed class RoomHub : Hub
{
    private string Room => (string)Context.GetHttpContext()!.Request.RouteValues["name"]!;

    public override Task OnConnectedAsync() => Groups.AddToGroupAsync(Context.ConnectionId, Room);

    /// <summary>Relays <paramref name="message"/> to every connection of the caller's room.</summary>
    public Task Send(string message) => Clients.Group(Room).SendAsync("m", message);
}
