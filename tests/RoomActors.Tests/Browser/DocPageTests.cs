using System.Net;
using Microsoft.Playwright;
using RoomActors.Tests.Docs;
using RoomActors.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace RoomActors.Tests.Browser;

/// <summary>
/// The editor page at <c>/doc</c> in headless Chromium: two pages type into the same <c>doc</c> room through the real
/// yjs and y-websocket (loaded from tests/yjs/node_modules, which ./test.sh installs) and see each other's text.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class DocPageTests(ChromiumFixture chromium) : IAsyncLifetime
{
    private static readonly string Modules = Path.Combine(ReadmeTests.RepositoryRoot(), "tests", "yjs", "node_modules");
    private AllInOneServer _server = null!;

    public async Task InitializeAsync()
    {
        SetDefaultExpectTimeout(ChromiumFixture.ActionTimeoutMs);
        Assert.True(File.Exists(Path.Combine(Modules, "yjs", "package.json")),
            "tests/yjs/node_modules is missing: run ./test.sh, or npm ci in tests/yjs");
        _server = await AllInOneServer.StartAsync("--RoomActors:Gateway:YjsModules=" + Modules);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact(Timeout = 90_000)]
    public async Task Two_pages_type_into_the_same_document_and_see_each_others_text()
    {
        var name = "page-" + Guid.NewGuid().ToString("N")[..8];
        var ada = await OpenAsync(name);
        var bob = await OpenAsync(name);
        try
        {
            await Expect(ada.Page.Locator("#peers")).ToHaveTextAsync("2 people here");

            await ada.Editor.ClickAsync();
            await ada.Page.Keyboard.TypeAsync("Hello from Ada.");
            await Expect(bob.Editor).ToHaveValueAsync("Hello from Ada.");

            await bob.Editor.ClickAsync();
            await bob.Page.Keyboard.PressAsync("End");
            await bob.Page.Keyboard.TypeAsync(" And Bob.");
            await Expect(ada.Editor).ToHaveValueAsync("Hello from Ada. And Bob.");

            // Both at once, at different places: the two texts converge.
            await ada.Page.Keyboard.PressAsync("Home");
            var typing = ada.Page.Keyboard.TypeAsync(">> ");
            await bob.Page.Keyboard.TypeAsync(" Bye!");
            await typing;
            await Expect(ada.Editor).ToHaveValueAsync(">> Hello from Ada. And Bob. Bye!");
            await Expect(bob.Editor).ToHaveValueAsync(">> Hello from Ada. And Bob. Bye!");

            // The server has it too.
            using var http = new HttpClient { BaseAddress = _server.Http, Timeout = TimeSpan.FromSeconds(15) };
            Assert.Equal("{\"text\":\">> Hello from Ada. And Bob. Bye!\"}", await http.GetStringAsync($"/rooms/doc/{name}?format=json"));
            Assert.Empty(ada.Errors);
            Assert.Empty(bob.Errors);
        }
        finally
        {
            await ada.Page.Context.CloseAsync();
            await bob.Page.Context.CloseAsync();
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task The_modules_are_served_from_the_packages_only()
    {
        using var http = new HttpClient { BaseAddress = _server.Http, Timeout = TimeSpan.FromSeconds(15) };
        using var yjs = await http.GetAsync("/doc/modules/yjs/dist/yjs.mjs");
        Assert.Equal(HttpStatusCode.OK, yjs.StatusCode);
        Assert.Equal("text/javascript", yjs.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/doc/modules/yjs/package.json")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/doc/modules/ws/index.js")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/doc/modules/yjs/..%2F..%2Fyjs%2Fdist%2Fyjs.mjs")).StatusCode);
    }

    private async Task<(IPage Page, ILocator Editor, List<string> Errors)> OpenAsync(string name)
    {
        var page = await chromium.NewPageAsync();
        var errors = MudPageTests.WatchErrors(page);
        await page.GotoAsync(new Uri(_server.Http, $"/doc?name={name}").ToString());
        var editor = page.GetByLabel("Text (everyone in this document sees your typing as you type)");
        await Expect(editor).ToBeEnabledAsync(); // enabled once the provider has synced
        await Expect(page.Locator("#status")).ToHaveTextAsync("connected");
        return (page, editor, errors);
    }
}
