using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace RoomActors.Gateway.Hosting;

/// <summary>
/// The editor page at <c>/doc</c>: a textarea bound to a <c>Y.Text</c> of a <c>doc</c> room, through the stock
/// y-websocket provider. The Yjs packages are not part of this repository: the page loads them as ES modules from
/// the npm packages in <see cref="GatewayOptions.YjsModules"/> (served under <c>/doc/modules/</c>, resolved by an
/// import map built from each package's <c>exports</c>), so no bundler and no build step are needed.
/// </summary>
internal sealed class DocPage(GatewayOptions options)
{
    /// <summary>The npm packages the page imports (directly or through each other).</summary>
    private static readonly string[] Packages = ["yjs", "lib0", "y-protocols", "y-websocket"];

    /// <summary>The <c>exports</c> conditions a browser's ES module loader takes, in order of preference.</summary>
    private static readonly string[] Conditions = ["browser", "module", "import", "default"];

    private const string ModulesPath = "/doc/modules/";
    private string? _importMap;
    private static string? _html;

    private static string Html => _html ??= EmbeddedText.Read("RoomActors.Gateway.Pages.doc.html");

    private string Root => Path.GetFullPath(options.YjsModules);

    /// <summary>The page, with the import map; or a page saying how to install the packages when they are missing.</summary>
    public IResult Page()
    {
        var missing = Packages.Where(p => !File.Exists(Path.Combine(Root, p, "package.json"))).ToList();
        if (missing.Count > 0)
        {
            return Results.Content(
                $"<!doctype html><meta charset=utf-8><title>RoomActors document</title><p>This page edits a <code>doc</code> room with Yjs, "
                + $"and loads the npm packages {string.Join(", ", Packages)} from <code>{System.Net.WebUtility.HtmlEncode(Root)}</code>, "
                + $"where {string.Join(", ", missing)} {(missing.Count == 1 ? "is" : "are")} missing. Run <code>npm ci</code> in "
                + "<code>tests/yjs</code> of the repository (<code>./test.sh</code> does), or set <code>RoomActors:Gateway:YjsModules</code> "
                + "to a <code>node_modules</code> folder that has them.</p>",
                "text/html; charset=utf-8", statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        return Results.Text(Html.Replace("<!--importmap-->", ImportMap(), StringComparison.Ordinal), "text/html; charset=utf-8");
    }

    /// <summary>A module of one of the packages: JavaScript files inside the package's folder only.</summary>
    public IResult Module(string package, string path)
    {
        if (!Packages.Contains(package) || !(path.EndsWith(".js", StringComparison.Ordinal) || path.EndsWith(".mjs", StringComparison.Ordinal)))
        {
            return Results.NotFound();
        }

        var folder = Path.Combine(Root, package) + Path.DirectorySeparatorChar;
        var file = Path.GetFullPath(Path.Combine(folder, path));
        if (!file.StartsWith(folder, StringComparison.Ordinal) || !File.Exists(file))
        {
            return Results.NotFound();
        }

        return Results.File(file, "text/javascript; charset=utf-8");
    }

    private string ImportMap() => _importMap ??= BuildImportMap();

    private string BuildImportMap()
    {
        var imports = new JsonObject();
        foreach (var package in Packages)
        {
            var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(Root, package, "package.json")));
            if (manifest?["exports"] is not JsonObject exports)
            {
                continue;
            }

            foreach (var (key, value) in exports)
            {
                if (!key.StartsWith('.') || Resolve(value) is not { } target || !(target.EndsWith(".js", StringComparison.Ordinal) || target.EndsWith(".mjs", StringComparison.Ordinal)))
                {
                    continue; // package.json, CommonJS builds, types
                }

                var specifier = key == "." ? package : package + key[1..];
                imports[specifier] = ModulesPath + package + "/" + target.TrimStart('.', '/');
            }
        }

        return "<script type=\"importmap\">" + new JsonObject { ["imports"] = imports }.ToJsonString() + "</script>";
    }

    /// <summary>The file an export maps to for a browser: a string, or the first matching condition (conditions nest).</summary>
    private static string? Resolve(JsonNode? value) => value switch
    {
        JsonValue text when text.GetValueKind() == JsonValueKind.String => text.GetValue<string>(),
        JsonObject conditions => Conditions.Where(conditions.ContainsKey).Select(c => Resolve(conditions[c])).FirstOrDefault(t => t is not null),
        _ => null,
    };
}
