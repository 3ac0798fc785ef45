using RoomActors.Hosting;

// `ticket --user ada --room 'chat/*'` prints a ticket signed with RoomActors:Auth:SigningKey and exits.
if (RoomTicketCommand.IsInvoked(args))
{
    return RoomTicketCommand.Run(args);
}

// All-in-one by default: a silo hosting the rooms, with the WebSocket gateway in the same process.
// With --redis it joins a cluster; then --urls decides whether it also serves WebSockets.
RoomActorsHost.BuildSilo(args).Run();
return 0;
