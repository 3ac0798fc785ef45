using Microsoft.AspNetCore.SignalR;

// What a C# team would pick instead: an ASP.NET Core SignalR hub with groups, with the URL shape and relay semantics
// of the `broadcast` room. A client connects (WebSockets, negotiation skipped) to /rooms/broadcast/{name}, joins the
// group {name}, and every string it sends with the hub method `Send` goes to every member of the group, the sender
// included, as the client method `m`. The load generator speaks the SignalR JSON protocol (--protocol signalr).
// With --redis host:port the hub uses SignalR's Redis backplane, so several servers share the groups (a room's clients
// may be spread over them), and tells each client `joined` once it is in its group; without it, one server on its own.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
var signalR = builder.Services.AddSignalR(options =>
{
    options.MaximumReceiveMessageSize = 1024 * 1024;
    options.ClientTimeoutInterval = TimeSpan.FromMinutes(10); // the load generator's idle clients send no pings
});
var redis = builder.Configuration["redis"];
if (!string.IsNullOrEmpty(redis))
{
    signalR.AddStackExchangeRedis(redis);
}

builder.Services.AddSingleton(new HubSettings(AnnounceJoin: !string.IsNullOrEmpty(redis)));

var app = builder.Build();
app.MapHub<RoomHub>("/rooms/broadcast/{name}");
app.Run();

/// <summary>
/// <paramref name="AnnounceJoin"/>: send the caller <c>joined</c> once it is in its group. SignalR answers the handshake
/// before the hub's <c>OnConnectedAsync</c> has run, and with the Redis backplane the join is a subscription in Redis that
/// may still be under way when other members send: the load generator waits for <c>joined</c> (--signalr-joined true).
/// </summary>
internal sealed record HubSettings(bool AnnounceJoin);

/// <summary>One group per room name; <see cref="Send"/> relays to the whole group.</summary>
internal sealed class RoomHub(HubSettings settings) : Hub
{
    private string Room => (string)Context.GetHttpContext()!.Request.RouteValues["name"]!;

    public override async Task OnConnectedAsync()
    {
        await Groups.AddToGroupAsync(Context.ConnectionId, Room);
        if (settings.AnnounceJoin)
        {
            await Clients.Caller.SendAsync("joined");
        }
    }

    /// <summary>Relays <paramref name="message"/> to every connection of the caller's room.</summary>
    public Task Send(string message) => Clients.Group(Room).SendAsync("m", message);
}
