namespace RoomActors.Gateway.Hosting;

/// <summary>The page served at <c>/</c>: pick a room, chat through the <c>chat</c> room.</summary>
internal static class DemoPage
{
    private static string? _html;

    public static string Html => _html ??= Load();

    private static string Load()
    {
        using var stream = typeof(DemoPage).Assembly.GetManifestResourceStream("RoomActors.Gateway.Pages.index.html")
            ?? throw new InvalidOperationException("The demo page resource is missing from the gateway assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
