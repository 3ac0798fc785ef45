using RoomActors.Testing;

namespace RoomActors.Tests.Docs;

/// <summary>The README's rooms-calling-rooms example (TablesExample.cs) does what the README says, under the test kit.</summary>
public sealed class TablesExampleTests
{
    [Fact]
    public async Task Tables_report_to_the_lobby_ask_it_and_invite_users_wherever_they_are()
    {
        await using var host = await RoomTestHost.StartAsync();
        var ada = await host.ConnectAsync("table", "t1", "?name=ada");
        var bob = await host.ConnectAsync("table", "t2", "?name=bob");
        var cy = await host.ConnectAsync("table", "t2", "?name=cy");

        // The joins reach the lobby one-way, after each connect's turn: ask until it has counted all three.
        string? busiest = null;
        for (var i = 0; i < 100 && busiest != "the busiest table is t2"; i++)
        {
            await Task.Delay(i == 0 ? 0 : 100);
            await ada.SendAsync("busiest");
            busiest = await ada.NextTextAsync();
        }

        Assert.Equal("the busiest table is t2", busiest);

        await bob.SendAsync("invite ada");
        Assert.Equal("bob invites you to table t2", await ada.NextTextAsync());
        Assert.True(await cy.QuietAsync(TimeSpan.FromMilliseconds(200)));
    }
}
