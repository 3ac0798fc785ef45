using RoomActors.Testing;

namespace RoomActors.Tests.Testing;

/// <summary>
/// Rooms that call rooms and reach users, under the kit: the SDK tests' <c>calls</c> room (Sdk/CallRooms.cs) driven by
/// test clients. What another room's turn sends arrives by call, not with the answer to the client's batch.
/// </summary>
[Collection(RoomTestHostCollection.Name)]
public sealed class RoomCallsUnderKitTests(RoomTestHostFixture fixture)
{
    private RoomTestHost Host => fixture.Host;

    private static string NewName() => Guid.NewGuid().ToString("N")[..12];

    [Fact]
    public async Task A_hook_that_awaits_another_rooms_reply_works()
    {
        var (a, b) = (NewName(), NewName());
        await using var ada = await Host.ConnectAsync("calls", a);
        await using var bob = await Host.ConnectAsync("calls", b);

        await ada.SendAsync($"ask {b}");
        Assert.Equal($"reply {b} asked 1 from {a}", await ada.NextTextAsync());
        await ada.SendAsync($"ask {b}");
        Assert.Equal($"reply {b} asked 2 from {a}", await ada.NextTextAsync());
        Assert.True(await bob.QuietAsync(TimeSpan.FromMilliseconds(100)));
    }

    [Fact]
    public async Task One_way_messages_reach_the_other_rooms_clients_in_order()
    {
        var (a, b) = (NewName(), NewName());
        await using var ada = await Host.ConnectAsync("calls", a);
        await using var bob = await Host.ConnectAsync("calls", b);

        await ada.SendAsync($"tell {b} one two three");
        foreach (var word in new[] { "one", "two", "three" })
        {
            Assert.Equal($"heard {word} from calls/{a} request=False", await bob.NextTextAsync());
        }
    }

    [Fact]
    public async Task Two_rooms_requesting_each_other_at_once_both_get_their_answers()
    {
        var (a, b, key) = (NewName(), NewName(), NewName());
        await using var ada = await Host.ConnectAsync("calls", a);
        await using var bob = await Host.ConnectAsync("calls", b);

        await Task.WhenAll(ada.SendAsync($"cross {b} {key}"), bob.SendAsync($"cross {a} {key}"));
        Assert.Equal($"crossed pong from {b}", await ada.NextTextAsync());
        Assert.Equal($"crossed pong from {a}", await bob.NextTextAsync());
    }

    [Fact]
    public async Task Users_are_reached_in_every_room_they_are_in()
    {
        var (a, b, user) = (NewName(), NewName(), NewName());
        await using var phone = await Host.ConnectAsync("calls", a, userId: user); // the verified user of a ticket
        await using var laptop = await Host.ConnectAsync("calls", b, $"user={user}"); // set by the connect hook
        await using var cy = await Host.ConnectAsync("calls", b);

        await cy.SendAsync($"find {user}");
        Assert.Equal($"found {string.Join(",", new[] { $"calls/{a}/{phone.Id}", $"calls/{b}/{laptop.Id}" }.Order())}",
            await cy.NextTextAsync());
        Assert.StartsWith("found ", await laptop.NextTextAsync(), StringComparison.Ordinal); // the broadcast in b

        await cy.SendAsync($"whisper {user} psst");
        Assert.Equal("psst", await phone.NextTextAsync());
        Assert.Equal("psst", await laptop.NextTextAsync());

        await cy.SendAsync($"kick {user}");
        Assert.Equal((4003, "kicked"), await phone.ClosedAsync());
        Assert.Equal((4003, "kicked"), await laptop.ClosedAsync());
        Assert.False(cy.IsClosed);
    }
}
