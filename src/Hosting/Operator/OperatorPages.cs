using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Http;

namespace RoomActors.Hosting;

/// <summary>The operator's HTML pages: the same data as the JSON endpoints, rendered on the server (no script needed to read them).</summary>
internal static class OperatorPages
{
    private static readonly HtmlEncoder Html = HtmlEncoder.Default;
    private static string? _template;

    private static string Template => _template ??= ReadTemplate();

    /// <summary>True when the client asked for HTML (a browser): the inspector's routes answer it a page instead of JSON.</summary>
    public static bool WantsHtml(HttpRequest request) =>
        request.Headers.Accept.Any(a => a?.Contains("text/html", StringComparison.OrdinalIgnoreCase) == true);

    /// <summary>The list of rooms in memory, by type.</summary>
    public static IResult Rooms(HttpRequest request, RoomListing listing)
    {
        var root = Root(request);
        var content = new StringBuilder();
        content.Append("<h1>Rooms in memory</h1>\n<p class=\"muted\">By type, from every silo's activations. Hibernated rooms are not in memory, so not ")
            .Append("listed; open one by its URL <code>").Append(Html.Encode(root)).Append("/rooms/TYPE/NAME</code> to read it from storage without waking it.</p>\n");
        foreach (var type in listing.Types)
        {
            content.Append("<h2>").Append(Html.Encode(type.Type)).Append(" <span class=\"muted\">").Append(type.Active).Append(" in memory</span></h2>\n");
            if (type.Rooms.Length == 0)
            {
                continue;
            }

            content.Append("<ul>\n");
            foreach (var name in type.Rooms)
            {
                content.Append("<li><a href=\"").Append(Html.Encode(RoomPath(root, type.Type, name))).Append("\">").Append(Html.Encode(name)).Append("</a></li>\n");
            }

            content.Append("</ul>\n");
            if (type.Truncated)
            {
                content.Append("<p class=\"muted\">… the first ").Append(listing.Limit).Append(" only (<code>?limit=</code> for more).</p>\n");
            }
        }

        return Page(request, "Rooms", content.ToString());
    }

    /// <summary>One room: what it is, and its connections, with buttons to make it hibernate and to close a connection.</summary>
    public static IResult Room(HttpRequest request, RoomDetail room)
    {
        var path = RoomPath(Root(request), room.Type, room.Name);
        var content = new StringBuilder();
        content.Append("<h1>").Append(Html.Encode($"{room.Type}/{room.Name}")).Append("</h1>\n<table>\n");
        Row(content, "in memory", room.Awake
            ? $"<span class=\"awake\">awake</span> on silo <code>{Html.Encode(room.Silo ?? "?")}</code>"
            : "<span class=\"asleep\">no</span> <span class=\"muted\">(hibernated or not started: read from storage, not woken)</span>");
        Row(content, "last turn", room.LastTurn is { } turn ? Time(turn) : "<span class=\"muted\">known while awake</span>");
        Row(content, "alarm", room.Alarm is { } alarm ? Time(alarm) : "none");
        Row(content, "state", room.StateBytes is { } bytes ? $"{bytes} bytes" : "<span class=\"muted\">no typed state</span>");
        Row(content, "storage keys", room.StorageKeys.ToString());
        Row(content, "epoch", room.Epoch.ToString());
        content.Append("</table>\n<p><button data-post=\"").Append(Html.Encode(path + "/hibernate")).Append("\">Hibernate now</button></p>\n");
        content.Append("<h2>").Append(room.Connections.Length).Append(room.Connections.Length == 1 ? " connection" : " connections").Append("</h2>\n");
        if (room.Connections.Length > 0)
        {
            content.Append("<table>\n<tr><th>id</th><th>tags</th><th>user</th><th>socket</th><th>joined</th><th>gateway</th><th>state</th><th></th></tr>\n");
            foreach (var c in room.Connections)
            {
                content.Append("<tr><td><code>").Append(Html.Encode(c.Id)).Append("</code></td><td>")
                    .Append(string.Join(", ", c.Tags.Skip(1).Select(t => $"<code>{Html.Encode(t)}</code>"))).Append("</td><td>")
                    .Append(Html.Encode(c.User ?? "")).Append("</td><td>")
                    .Append(c.Connected ? "connected" : $"detached since {Time(c.DetachedSince!.Value)}").Append("</td><td>")
                    .Append(Time(c.Joined)).Append("</td><td><code>").Append(Html.Encode(c.Gateway)).Append("</code></td><td>")
                    .Append(c.StateBytes).Append(" B</td><td><button data-post=\"")
                    .Append(Html.Encode($"{path}/connections/{Uri.EscapeDataString(c.Id)}/close"))
                    .Append("\" data-confirm=\"Close this connection (1008, closed by an operator)?\">Close</button></td></tr>\n");
            }

            content.Append("</table>\n");
        }

        return Page(request, $"{room.Type}/{room.Name}", content.ToString());
    }

    private static void Row(StringBuilder content, string label, string html) =>
        content.Append("<tr><th>").Append(label).Append("</th><td>").Append(html).Append("</td></tr>\n");

    private static string Time(DateTimeOffset time) => Html.Encode(time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff 'UTC'"));

    private static string Root(HttpRequest request) => request.PathBase + RoomActorsOperatorExtensions.Path;

    private static string RoomPath(string root, string type, string name) => $"{root}/rooms/{Uri.EscapeDataString(type)}/{Uri.EscapeDataString(name)}";

    private static IResult Page(HttpRequest request, string title, string content) => Results.Text(
        Template.Replace("{{title}}", Html.Encode(title)).Replace("{{base}}", Html.Encode(Root(request))).Replace("{{content}}", content),
        "text/html; charset=utf-8");

    private static string ReadTemplate()
    {
        const string name = "RoomActors.Hosting.Pages.operator.html";
        using var stream = typeof(OperatorPages).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"The resource {name} is missing from the hosting assembly; rebuild RoomActors.Hosting.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
