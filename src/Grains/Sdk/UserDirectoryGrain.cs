using Microsoft.Extensions.Logging;

namespace RoomActors;

/// <summary>
/// Where one user's connections are (see <see cref="IUserDirectory"/>): a durable set of (room, connection) entries, kept
/// by the rooms (added when a connection with the user joins and whenever a room starts with it, removed when it
/// closes) and repaired on use: an entry whose room no longer has the user's connections is dropped when a send or close
/// finds it empty.
/// </summary>
internal sealed partial class UserDirectoryGrain(
    [PersistentState("user", RoomOptions.StorageName)] IPersistentState<UserDirectoryState> state,
    ILogger<UserDirectoryGrain> logger) : Grain, IUserDirectory
{
    public async Task Add(UserConnection connection)
    {
        if (state.State.Connections.Add(connection))
        {
            await state.WriteStateAsync();
        }
    }

    public async Task Remove(UserConnection connection)
    {
        if (state.State.Connections.Remove(connection))
        {
            await WriteAsync();
        }
    }

    public Task<UserConnection[]> Get() => Task.FromResult(state.State.Connections.ToArray());

    public Task<int> Send(Payload payload) =>
        ForEachRoomAsync(new RoomCallEnvelope { Kind = RoomCallKind.UserSend, UserId = this.GetPrimaryKeyString(), Payload = payload });

    public Task<int> Close(int code, string reason) =>
        ForEachRoomAsync(new RoomCallEnvelope { Kind = RoomCallKind.UserClose, UserId = this.GetPrimaryKeyString(), CloseCode = code, CloseReason = reason });

    /// <summary>Asks every room that holds a connection of the user (each once, at the same time); drops stale entries.</summary>
    private async Task<int> ForEachRoomAsync(RoomCallEnvelope call)
    {
        var rooms = state.State.Connections.GroupBy(c => (c.RoomType, c.RoomName)).ToList();
        var answers = await Task.WhenAll(rooms.Select(async room =>
        {
            try
            {
                var grain = GrainFactory.GetGrain<IRoomGrain>(RoomGrainIds.Of(room.Key.RoomType, room.Key.RoomName));
                return (Room: room, (await grain.Call(call)).Count);
            }
            catch (Exception ex)
            {
                // Reported; the entry stays (the room may only be slow) and the other rooms still get it.
                LogRoomFailed(logger, ex, room.Key.RoomType, room.Key.RoomName, this.GetPrimaryKeyString());
                return (Room: room, Count: -1);
            }
        }));

        var stale = answers.Where(a => a.Count == 0).SelectMany(a => a.Room).ToList();
        if (stale.Count > 0)
        {
            state.State.Connections.ExceptWith(stale);
            await WriteAsync();
        }

        return answers.Where(a => a.Count > 0).Sum(a => a.Count);
    }

    private Task WriteAsync() => state.State.Connections.Count == 0 ? state.ClearStateAsync() : state.WriteStateAsync();

    [LoggerMessage(EventId = 1020, Level = LogLevel.Warning, Message = "Room {RoomType}/{RoomName} did not answer the user directory for user {User}.")]
    private static partial void LogRoomFailed(ILogger logger, Exception exception, string roomType, string roomName, string user);
}

/// <summary>The user directory's durable state: the user's connections.</summary>
[GenerateSerializer]
internal sealed class UserDirectoryState
{
    [Id(0)] public HashSet<UserConnection> Connections { get; set; } = new();
}
