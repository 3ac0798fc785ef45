using Orleans;
using RoomActors;
using RoomActors.Testing;
using Xunit;

namespace RoomActors.Tests.Testing;

[Room("poll")]
public sealed class PollRoom : Room<PollState>
{
    protected override Task OnConnectAsync(Connection connection, ConnectContext context)
    {
        connection.Send(Tally());
        return Task.CompletedTask;
    }

    protected override Task OnMessageAsync(Connection sender, RoomMessage message)
    {
        switch (message.Text)
        {
            case "yes":
                State.Yes++;
                break;
            case "no":
                State.No++;
                break;
            default:
                sender.Close(4400, "vote yes or no");
                return Task.CompletedTask;
        }

        Broadcast(Tally());
        return Task.CompletedTask;
    }

    protected override Task OnCloseAsync(Connection connection, int code, string reason)
    {
        Broadcast($"a voter left ({code})");
        return Task.CompletedTask;
    }

    protected override Task<RoomHttpResponse> OnRequestAsync(RoomHttpRequest request) =>
        Task.FromResult(RoomHttpResponse.Json($$"""{"yes":{{State.Yes}},"no":{{State.No}}}"""));

    private string Tally() => $"yes {State.Yes}, no {State.No}";
}

[GenerateSerializer]
public sealed class PollState
{
    [Id(0)] public int Yes { get; set; }
    [Id(1)] public int No { get; set; }
}

public sealed class PollRoomTests
{
    [Fact]
    public async Task Votes_reach_every_voter_and_outlive_the_room_leaving_memory()
    {
        await using var host = await RoomTestHost.StartAsync();
        await using var ada = await host.ConnectAsync("poll", "lunch");
        await using var bob = await host.ConnectAsync("poll", "lunch");
        Assert.Equal("yes 0, no 0", await ada.NextTextAsync()); // from the connect hook
        Assert.Equal("yes 0, no 0", await bob.NextTextAsync());

        await ada.SendAsync("yes");                              // returns when the room's turn has ended
        Assert.Equal("yes 1, no 0", await ada.NextTextAsync());
        Assert.Equal("yes 1, no 0", await bob.NextTextAsync());

        await bob.SendAsync("maybe");                            // the room closes bob...
        Assert.Equal((4400, "vote yes or no"), await bob.ClosedAsync());
        Assert.Equal("a voter left (4400)", await ada.NextTextAsync()); // ...and its close hook tells ada

        await host.RestartRoomAsync("poll", "lunch");            // out of memory, back from storage
        var response = await host.RequestAsync("poll", "lunch"); // GET /rooms/poll/lunch
        Assert.Equal("""{"yes":1,"no":0}""", response.BodyText());
        Assert.True(await ada.QuietAsync(TimeSpan.FromMilliseconds(100)));
    }
}
