namespace RoomActors.Gateway.Hosting;

/// <summary>
/// The JavaScript client for the <c>roomactors.v1</c> protocol (<c>clients/js</c> in the repository), served at
/// <c>/client/roomactors.js</c> with its TypeScript types at <c>/client/roomactors.d.ts</c>.
/// </summary>
internal static class ClientLibrary
{
    public const string ScriptPath = "/client/roomactors.js";
    public const string TypesPath = "/client/roomactors.d.ts";

    private static string? _script;
    private static string? _types;

    public static string Script => _script ??= EmbeddedText.Read("RoomActors.Gateway.Client.roomactors.js");

    public static string Types => _types ??= EmbeddedText.Read("RoomActors.Gateway.Client.roomactors.d.ts");
}
