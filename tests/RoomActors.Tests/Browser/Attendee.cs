using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace RoomActors.Tests.Browser;

/// <summary>One person at the MUD's page in their own browser context: what they type and what their page shows.</summary>
public sealed class Attendee(string name, IPage page) : IAsyncDisposable
{
    public string Name { get; } = name;

    public IPage Page { get; } = page;

    /// <summary>Uncaught script errors of the page (see <see cref="MudPageTests.WatchErrors"/>).</summary>
    public List<string> Errors { get; } = MudPageTests.WatchErrors(page);

    public ILocator Log => Page.Locator("#log");

    public ILocator Line => Page.GetByRole(AriaRole.Textbox, new() { Name = "Say something, or a /command" });

    public ILocator RoomName => Page.Locator("#roomName");

    public ILocator Occupants => Page.Locator("#occupants");

    public ILocator Rooms => Page.Locator("#rooms");

    public ILocator Alert => Page.GetByRole(AriaRole.Alert);

    public ILocator SignInForm => Page.Locator("#signin");

    /// <summary>A log line of <paramref name="kind"/> (say, me, whisper, arrive, leave, error…) containing <paramref name="text"/>.</summary>
    public ILocator LogLine(string kind, string text) => Log.Locator($".line.{kind}", new() { HasText = text });

    /// <summary>Someone listed under "Here".</summary>
    public ILocator Occupant(string name) => Occupants.GetByRole(AriaRole.Button, new() { Name = name, Exact = true });

    /// <summary>Opens the page, types the name and presses Enter: in the first room when <paramref name="expectRoom"/> is set.</summary>
    public static async Task<Attendee> SignInAsync(ChromiumFixture chromium, MudServer server, string name,
        string? expectRoom = "Entrance", int width = 1100, int height = 760, string query = "")
    {
        var page = await chromium.NewPageAsync(width, height);
        var attendee = new Attendee(name, page);
        await page.GotoAsync(server.Page(query));
        await attendee.EnterAsync(expectRoom);
        return attendee;
    }

    /// <summary>Signs in again from the form on the page.</summary>
    public async Task EnterAsync(string? expectRoom = "Entrance")
    {
        var nameBox = Page.GetByLabel("Display name");
        await Expect(nameBox).ToBeFocusedAsync();
        await nameBox.FillAsync(Name);
        await nameBox.PressAsync("Enter");
        if (expectRoom is not null)
        {
            await Expect(RoomName).ToHaveTextAsync(expectRoom);
            await Expect(Line).ToBeFocusedAsync();
        }
    }

    /// <summary>Types a line into the (focused) input line and presses Enter.</summary>
    public async Task TypeAsync(string text)
    {
        await Expect(Line).ToBeFocusedAsync();
        await Line.FillAsync(text);
        await Page.Keyboard.PressAsync("Enter");
        await Expect(Line).ToHaveValueAsync("");
    }

    public async ValueTask DisposeAsync() => await Page.Context.CloseAsync();
}
