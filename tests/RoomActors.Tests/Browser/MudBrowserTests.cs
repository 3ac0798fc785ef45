using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace RoomActors.Tests.Browser;

/// <summary>
/// People at the MUD's page in headless Chromium, against the real MUD (samples/Mud) in this process: every step waits
/// for what a person would see (Playwright's expectations retry up to <see cref="ChromiumFixture.ActionTimeoutMs"/>),
/// never for a time.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class MudBrowserTests(ChromiumFixture chromium) : IAsyncLifetime
{
    private MudServer _server = null!;

    public async Task InitializeAsync()
    {
        SetDefaultExpectTimeout(ChromiumFixture.ActionTimeoutMs);
        _server = await MudServer.StartAsync("--Mud:Moderators:0=Mod");
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private Task<Attendee> SignInAsync(string name, string? expectRoom = "Entrance", int width = 1100, int height = 760) =>
        Attendee.SignInAsync(chromium, _server, name, expectRoom, width, height);

    [Fact(Timeout = 120_000)]
    public async Task Two_attendees_sign_in_see_each_other_move_whisper_and_one_is_banned_by_a_mod_and_sees_why()
    {
        await using var ada = await SignInAsync("Ada");
        await using var bob = await SignInAsync("Bob");

        // They see each other.
        await Expect(ada.Occupant("Bob")).ToBeVisibleAsync();
        await Expect(ada.LogLine("arrive", "Bob")).ToBeVisibleAsync();
        await Expect(bob.Occupant("Ada")).ToBeVisibleAsync();
        await ada.TypeAsync("hello Bob");
        await Expect(bob.LogLine("say", "hello Bob")).ToContainTextAsync("Ada");

        // Bob follows an exit: his page connects to the lounge; Ada sees him go.
        await bob.Page.Locator("#exits").GetByRole(AriaRole.Button, new() { Name = "Go to Lounge", Exact = true }).ClickAsync();
        await Expect(bob.RoomName).ToHaveTextAsync("Lounge");
        await Expect(bob.Line).ToBeFocusedAsync();
        await Expect(ada.LogLine("leave", "Bob")).ToContainTextAsync("Lounge");
        await Expect(ada.Occupant("Bob")).ToHaveCountAsync(0);
        await Expect(bob.Occupant("Ada")).ToHaveCountAsync(0);

        // A whisper reaches him in another room; Ada's page confirms it.
        await ada.TypeAsync("/whisper Bob meet me at the cafe");
        await Expect(bob.LogLine("whisper", "meet me at the cafe")).ToContainTextAsync("Ada");
        await Expect(ada.LogLine("whisper", "meet me at the cafe")).ToContainTextAsync("Bob");

        // A moderator bans Bob: his page says why, offers the form again and does not reconnect.
        await using var mod = await SignInAsync("Mod");
        await mod.TypeAsync("/ban Bob spamming the lounge");
        await Expect(bob.Alert).ToContainTextAsync("banned");
        await Expect(bob.Alert).ToContainTextAsync("spamming the lounge");
        await Expect(bob.SignInForm).ToBeVisibleAsync();
        await Expect(bob.Page.Locator("#status")).ToHaveTextAsync("not signed in");

        // Signing in again is refused the same way.
        await bob.Page.Locator("#alert").EvaluateAsync("e => { e.textContent = ''; e.hidden = true; }");
        await bob.EnterAsync(expectRoom: null);
        await Expect(bob.Alert).ToContainTextAsync("spamming the lounge");

        Assert.Empty(ada.Errors);
        Assert.Empty(bob.Errors);
        Assert.Empty(mod.Errors);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_shout_reaches_other_rooms_a_report_reaches_the_moderator_and_a_profile_is_looked_up()
    {
        await using var ada = await SignInAsync("Ada");
        await using var bob = await SignInAsync("Bob");
        await using var mod = await SignInAsync("Mod");
        await bob.TypeAsync("/profile description I write compilers");
        await Expect(bob.Log.Locator(".line.notice", new() { HasText = "I write compilers" })).ToBeVisibleAsync();
        await bob.TypeAsync("/go Cafe");
        await Expect(bob.RoomName).ToHaveTextAsync("Cafe");

        await ada.TypeAsync("/shout the keynote starts in five minutes");
        await Expect(bob.LogLine("shout", "the keynote starts in five minutes")).ToContainTextAsync("Ada shouts from Entrance");

        await ada.TypeAsync("/mod someone left a bag in the entrance");
        await Expect(mod.LogLine("report", "someone left a bag in the entrance")).ToContainTextAsync("Ada");

        await ada.TypeAsync("/look Bob");
        await Expect(ada.LogLine("profile", "I write compilers")).ToContainTextAsync("Now in Cafe");

        await ada.TypeAsync("/look");
        await Expect(ada.LogLine("look", "The doors of the venue")).ToBeVisibleAsync();
        Assert.Empty(ada.Errors);
        Assert.Empty(bob.Errors);
        Assert.Empty(mod.Errors);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_moderator_evacuates_closes_and_opens_the_space_and_attendees_see_it()
    {
        await using var ada = await SignInAsync("Ada");
        await using var mod = await SignInAsync("Mod");
        await ada.TypeAsync("/go garden");
        await Expect(ada.RoomName).ToHaveTextAsync("Garden");

        await mod.TypeAsync("/evacuate");
        await Expect(ada.RoomName).ToHaveTextAsync("Entrance");
        await Expect(ada.Log.Locator(".line.notice", new() { HasText = "entrance" })).ToBeVisibleAsync();

        await mod.TypeAsync("/close a fire drill");
        await Expect(ada.Alert).ToContainTextAsync("The space is closed: a fire drill");
        await Expect(ada.SignInForm).ToBeVisibleAsync();
        await Expect(mod.RoomName).ToHaveTextAsync("Entrance");

        await mod.TypeAsync("/open");
        await Expect(mod.Log.Locator(".line.notice", new() { HasText = "the space is open" })).ToBeVisibleAsync();
        await ada.EnterAsync();
        await Expect(ada.Alert).ToBeHiddenAsync();
        await Expect(ada.Occupant("Mod")).ToBeVisibleAsync();
    }

    /// <summary>
    /// Two attendees talking, as docs/mud.png shows them. Written to the path in <c>MUD_SCREENSHOT</c> when it is set
    /// (samples/Mud/README.md: how to make the picture again), else to a temporary file that is checked and deleted.
    /// </summary>
    [Fact(Timeout = 120_000)]
    public async Task Screenshot_of_two_attendees_talking()
    {
        await using var ada = await SignInAsync("Ada");
        await using var grace = await SignInAsync("Grace");
        await ada.TypeAsync("/profile pronouns she/her");
        await ada.TypeAsync("Hello Grace! Are you going to the keynote?");
        await grace.TypeAsync("Yes, I'm saving us seats near the front.");
        await ada.TypeAsync("/me waves to the volunteers at the door");
        await grace.TypeAsync("/dance");
        await grace.TypeAsync("/whisper Ada bring the slides you showed me yesterday");
        await ada.TypeAsync("See you in the theater!");
        await Expect(ada.LogLine("whisper", "bring the slides")).ToBeVisibleAsync();
        await Expect(ada.LogLine("say", "See you in the theater!")).ToBeVisibleAsync();
        await Expect(ada.Rooms).ToContainTextAsync("Entrance");
        await ada.Line.FillAsync("/go theater");

        var requested = Environment.GetEnvironmentVariable("MUD_SCREENSHOT");
        var path = string.IsNullOrEmpty(requested) ? Path.Combine(Path.GetTempPath(), $"mud-{Guid.NewGuid():N}.png") : Path.GetFullPath(requested);
        try
        {
            var png = await ada.Page.ScreenshotAsync(new() { Path = path, Animations = ScreenshotAnimations.Disabled, Caret = ScreenshotCaret.Hide });
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
            Assert.True(File.Exists(path));
        }
        finally
        {
            if (string.IsNullOrEmpty(requested))
            {
                File.Delete(path);
            }
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task Text_from_others_is_shown_as_text_never_as_html()
    {
        await using var ada = await SignInAsync("Ada");
        await using var bob = await SignInAsync("Bob");
        const string Html = "<img src=x onerror=\"document.title='pwned'\"><b>bold</b>";
        await ada.TypeAsync(Html);

        await Expect(bob.LogLine("say", "bold")).ToContainTextAsync(Html);
        await Expect(bob.Log.Locator("img")).ToHaveCountAsync(0);
        await Expect(bob.Log.Locator("b", new() { HasText = "bold" })).ToHaveCountAsync(0);
        Assert.DoesNotContain("pwned", await bob.Page.TitleAsync());
    }

    [Fact(Timeout = 120_000)]
    public async Task The_input_line_recalls_what_was_sent_and_commands_work_from_the_keyboard()
    {
        await using var ada = await SignInAsync("Ada");
        await ada.TypeAsync("first line");
        await ada.TypeAsync("/me waves");
        await Expect(ada.LogLine("me", "waves")).ToContainTextAsync("Ada");

        await ada.Page.Keyboard.PressAsync("ArrowUp");
        await Expect(ada.Line).ToHaveValueAsync("/me waves");
        await ada.Page.Keyboard.PressAsync("ArrowUp");
        await Expect(ada.Line).ToHaveValueAsync("first line");
        await ada.Page.Keyboard.PressAsync("ArrowDown");
        await Expect(ada.Line).ToHaveValueAsync("/me waves");
        await ada.Page.Keyboard.PressAsync("Enter");
        await Expect(ada.LogLine("me", "waves")).ToHaveCountAsync(2);

        await ada.TypeAsync("/dance");
        await Expect(ada.LogLine("dance", "Ada")).ToBeVisibleAsync();
        await ada.TypeAsync("/nonsense");
        await Expect(ada.Log.Locator(".line.error")).ToBeVisibleAsync();

        // The exits and rooms are buttons reached with Tab.
        await ada.Page.Keyboard.PressAsync("Shift+Tab");
        var focused = await ada.Page.EvaluateAsync<string>("document.activeElement.tagName + ':' + (document.activeElement.getAttribute('aria-label') ?? document.activeElement.id)");
        Assert.NotEqual("INPUT:line", focused);
        Assert.Empty(ada.Errors);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_deleted_message_disappears_from_every_page()
    {
        await using var ada = await SignInAsync("Ada");
        await using var mod = await SignInAsync("Mod");
        await ada.TypeAsync("something regrettable");
        var line = mod.LogLine("say", "something regrettable");
        await Expect(line).ToBeVisibleAsync();
        var id = await line.GetAttributeAsync("data-id");
        Assert.StartsWith("entrance:", id);

        await mod.TypeAsync($"/delete {id}");
        await Expect(ada.LogLine("say", "something regrettable")).ToHaveCountAsync(0);
        await Expect(mod.LogLine("say", "something regrettable")).ToHaveCountAsync(0);
    }

    [Fact(Timeout = 120_000)]
    public async Task Signing_in_again_elsewhere_closes_the_older_page_which_says_so()
    {
        await using var first = await SignInAsync("Ada");
        await using var second = await SignInAsync("Ada");

        await Expect(first.Alert).ToContainTextAsync("signed in elsewhere");
        await Expect(first.SignInForm).ToBeVisibleAsync();
        await Expect(second.RoomName).ToHaveTextAsync("Entrance");
        await Expect(second.Occupant("Ada")).ToHaveCountAsync(1);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_name_that_cannot_be_used_is_refused_with_the_form_ready_for_another()
    {
        var page = await chromium.NewPageAsync();
        await using var nobody = new Attendee("no/slashes", page);
        await page.GotoAsync(_server.Page());
        await nobody.EnterAsync(expectRoom: null);

        await Expect(nobody.Alert).ToContainTextAsync("name can't be used");
        await Expect(page.GetByLabel("Display name")).ToBeFocusedAsync();
        await Expect(page.GetByLabel("Display name")).ToHaveValueAsync("no/slashes");
    }

    /// <summary>
    /// The page closes its socket normally (1000) on <c>pagehide</c>, so the room says goodbye at once; without that the
    /// browser's 1001 is a drop the room waits out for its resume window (30 s in the MUD's appsettings, 2 min by default), longer than
    /// any expectation here waits.
    /// </summary>
    [Fact(Timeout = 120_000)]
    public async Task Closing_the_page_leaves_at_once()
    {
        await using var ada = await SignInAsync("Ada");
        var bob = await SignInAsync("Bob");
        await Expect(ada.Occupant("Bob")).ToBeVisibleAsync();

        await bob.Page.CloseAsync(new() { RunBeforeUnload = true });
        await Expect(ada.LogLine("leave", "Bob")).ToBeVisibleAsync();
        await Expect(ada.Occupant("Bob")).ToHaveCountAsync(0);
        await bob.DisposeAsync();
    }

    [Fact(Timeout = 120_000)]
    public async Task On_a_phone_sized_window_the_side_panel_goes_under_the_log()
    {
        await using var ada = await SignInAsync("Ada", width: 390, height: 844);
        var log = await ada.Log.BoundingBoxAsync();
        var side = await ada.Page.Locator(".side").BoundingBoxAsync();
        Assert.NotNull(log);
        Assert.NotNull(side);
        Assert.True(side.Y >= log.Y + log.Height, $"the side panel (y {side.Y}) is under the log (y {log.Y} + {log.Height})");
        Assert.True(await ada.Page.EvaluateAsync<bool>("document.documentElement.scrollWidth <= window.innerWidth"), "no sideways scrolling");
        await Expect(ada.Line).ToBeInViewportAsync();
    }
}
