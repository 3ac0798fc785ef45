using System.Net;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace RoomActors.Tests.Browser;

/// <summary>The MUD's page (samples/Mud/Pages) in headless Chromium, before anyone signs in: served, loads, no errors.</summary>
[Collection(BrowserCollection.Name)]
public sealed class MudPageTests(ChromiumFixture chromium) : IAsyncLifetime
{
    private MudServer _server = null!;

    public async Task InitializeAsync()
    {
        SetDefaultExpectTimeout(ChromiumFixture.ActionTimeoutMs);
        _server = await MudServer.StartAsync();
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Theory(Timeout = 60_000)]
    [InlineData("/mud", "text/html")]
    [InlineData("/mud/mud.js", "text/javascript")]
    [InlineData("/mud/mud.css", "text/css")]
    [InlineData("/client/roomactors.js", "text/javascript")]
    public async Task The_page_and_its_files_are_served(string path, string contentType)
    {
        using var http = new HttpClient { BaseAddress = _server.Http, Timeout = TimeSpan.FromSeconds(15) };
        using var response = await http.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(contentType, response.Content.Headers.ContentType?.MediaType);
        Assert.NotEmpty(await response.Content.ReadAsStringAsync());
    }

    [Fact(Timeout = 60_000)]
    public async Task An_unknown_page_file_is_404()
    {
        using var http = new HttpClient { BaseAddress = _server.Http, Timeout = TimeSpan.FromSeconds(15) };
        using var response = await http.GetAsync("/mud/secrets.json");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact(Timeout = 60_000)]
    public async Task The_page_loads_with_the_sign_in_form_focused_and_no_script_errors()
    {
        var page = await chromium.NewPageAsync();
        var errors = WatchErrors(page);
        await page.GotoAsync(_server.Page());

        await Expect(page).ToHaveTitleAsync("The Conference Hall");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in" })).ToBeVisibleAsync();
        await Expect(page.GetByLabel("Display name")).ToBeFocusedAsync();
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Enter" })).ToBeVisibleAsync();
        await Expect(page.Locator("#game")).ToBeHiddenAsync();
        await Expect(page.Locator("#ticketNote")).ToBeHiddenAsync();
        Assert.Empty(errors);
        await page.Context.CloseAsync();
    }

    [Fact(Timeout = 60_000)]
    public async Task A_ticket_in_the_address_is_mentioned()
    {
        var page = await chromium.NewPageAsync();
        var errors = WatchErrors(page);
        await page.GotoAsync(_server.Page("?ticket=abc.def.ghi"));

        await Expect(page.Locator("#ticketNote")).ToBeVisibleAsync();
        Assert.Empty(errors);
        await page.Context.CloseAsync();
    }

    /// <summary>Uncaught script errors and failed module loads of the page, as they happen.</summary>
    internal static List<string> WatchErrors(IPage page)
    {
        var errors = new List<string>();
        page.PageError += (_, error) => { lock (errors) errors.Add(error); };
        page.Console += (_, message) =>
        {
            if (message.Type == "error" && !message.Text.Contains("WebSocket", StringComparison.Ordinal))
            {
                lock (errors) errors.Add($"{message.Text} ({message.Location})");
            }
        };
        return errors;
    }
}
