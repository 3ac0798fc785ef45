using Microsoft.Playwright;

namespace RoomActors.Tests.Browser;

/// <summary>
/// Headless Chromium driven by Playwright: the system's <c>chromium</c> (Debian's package, which <c>./test.sh</c> installs
/// through apt), never a browser Playwright downloads. Without it the tests fail saying so; they are not skipped.
/// </summary>
public sealed class ChromiumFixture : IAsyncLifetime
{
    /// <summary>Where Debian and Ubuntu put the browser; <c>CHROMIUM_PATH</c> names another.</summary>
    private static readonly string[] Candidates = ["/usr/bin/chromium", "/usr/lib/chromium/chromium", "/usr/bin/chromium-browser"];

    /// <summary>How long one Playwright action or expectation may wait before it fails the test.</summary>
    public const float ActionTimeoutMs = 15_000;

    public IPlaywright Playwright { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    public static string FindExecutable()
    {
        var configured = Environment.GetEnvironmentVariable("CHROMIUM_PATH");
        string[] candidates = string.IsNullOrEmpty(configured) ? Candidates : [configured];
        return candidates.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException(
                $"No chromium at {string.Join(", ", candidates)}: the browser tests need Debian's chromium package. " +
                "./test.sh installs it (as root: apt-get install chromium); or set CHROMIUM_PATH to a Chromium binary.");
    }

    public async Task InitializeAsync()
    {
        var executable = FindExecutable();
        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Browser = await Playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = executable,
            Headless = true,
            Timeout = 60_000,
        });
    }

    /// <summary>A fresh browser context (its own cookies and storage: one attendee) and a page in it.</summary>
    public async Task<IPage> NewPageAsync(int width = 1100, int height = 760)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = width, Height = height },
            Locale = "en-US",
            TimezoneId = "UTC",
        });
        context.SetDefaultTimeout(ActionTimeoutMs);
        var page = await context.NewPageAsync();
        return page;
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        Playwright?.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<ChromiumFixture>
{
    public const string Name = "browser";
}
