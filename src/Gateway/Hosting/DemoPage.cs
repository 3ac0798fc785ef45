namespace RoomActors.Gateway.Hosting;

/// <summary>The page served at <c>/</c>: pick a room, chat through the <c>chat</c> room.</summary>
internal static class DemoPage
{
    private static string? _html;

    public static string Html => _html ??= EmbeddedText.Read("RoomActors.Gateway.Pages.index.html");
}
