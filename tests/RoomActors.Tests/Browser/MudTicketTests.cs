using Microsoft.Playwright;
using RoomActors.Gateway.Auth;
using static Microsoft.Playwright.Assertions;

namespace RoomActors.Tests.Browser;

/// <summary>The page with auth on: the ticket in its address goes to every room it connects to.</summary>
[Collection(BrowserCollection.Name)]
public sealed class MudTicketTests(ChromiumFixture chromium) : IAsyncLifetime
{
    private const string SigningKey = "a signing key of at least thirty-two bytes, for tests";
    private MudServer _server = null!;

    public async Task InitializeAsync()
    {
        SetDefaultExpectTimeout(ChromiumFixture.ActionTimeoutMs);
        _server = await MudServer.StartAsync($"--RoomActors:Auth:SigningKey={SigningKey}");
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact(Timeout = 120_000)]
    public async Task The_ticket_in_the_address_signs_in_and_follows_a_move()
    {
        var ticket = RoomTickets.Create(SigningKey, "user-ada", "mud/*", DateTimeOffset.UtcNow.AddHours(1));
        var page = await chromium.NewPageAsync();
        var sockets = new List<string>();
        page.WebSocket += (_, socket) => { lock (sockets) sockets.Add(socket.Url); };
        await page.GotoAsync(_server.Page($"?ticket={Uri.EscapeDataString(ticket)}"));
        await using var ada = new Attendee("Ada", page);
        await Expect(page.Locator("#ticketNote")).ToBeVisibleAsync();

        await ada.EnterAsync();
        await ada.TypeAsync("/go lounge");
        await Expect(ada.RoomName).ToHaveTextAsync("Lounge");

        lock (sockets)
        {
            Assert.Equal(2, sockets.Count);
            Assert.All(sockets, url => Assert.Contains("ticket=" + Uri.EscapeDataString(ticket), url));
            Assert.Contains("/rooms/mud/entrance?", sockets[0]);
            Assert.Contains("/rooms/mud/lounge?", sockets[1]);
        }

        Assert.Empty(ada.Errors);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_name_another_user_holds_is_refused_with_the_form_ready_for_another()
    {
        await using var ada = await OpenAsync("user-ada", "Ada");
        await ada.EnterAsync();
        await using var eve = await OpenAsync("user-eve", "Ada");
        await eve.EnterAsync(expectRoom: null);

        await Expect(eve.Alert).ToContainTextAsync("name is taken");
        await Expect(eve.Page.GetByLabel("Display name")).ToBeFocusedAsync();
        await Expect(ada.RoomName).ToHaveTextAsync("Entrance");
        await Expect(ada.Alert).ToBeHiddenAsync();
    }

    /// <summary>The page with a ticket for <paramref name="user"/> in its address, not signed in yet.</summary>
    private async Task<Attendee> OpenAsync(string user, string name)
    {
        var ticket = RoomTickets.Create(SigningKey, user, "mud/*", DateTimeOffset.UtcNow.AddHours(1));
        var page = await chromium.NewPageAsync();
        var attendee = new Attendee(name, page);
        await page.GotoAsync(_server.Page($"?ticket={Uri.EscapeDataString(ticket)}"));
        return attendee;
    }
}
