namespace RoomActors.Gateway.Hosting;

/// <summary>Text files embedded in the gateway assembly (see its project file).</summary>
internal static class EmbeddedText
{
    public static string Read(string name)
    {
        using var stream = typeof(EmbeddedText).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"The resource {name} is missing from the gateway assembly; rebuild RoomActors.Gateway.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
