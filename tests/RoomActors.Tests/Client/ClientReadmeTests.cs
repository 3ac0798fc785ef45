using RoomActors.Tests.Docs;

namespace RoomActors.Tests.Client;

/// <summary>The client README's example is compiled code: <see cref="ClientExamples.ClientReadmeExample"/>.</summary>
public sealed class ClientReadmeTests
{
    [Fact]
    public void The_readme_example_is_the_compiled_example()
    {
        var root = ReadmeTests.RepositoryRoot();
        var block = ReadmeTests.CodeBlock("src/Client/README.md", "client-usage");

        var file = File.ReadAllText(Path.Combine(root, "tests/RoomActors.Tests/Client/ClientReadmeExample.cs")).ReplaceLineEndings("\n");
        var begin = file.IndexOf("// readme-begin\n", StringComparison.Ordinal) + "// readme-begin\n".Length;
        var body = file[begin..file.IndexOf("        // readme-end", StringComparison.Ordinal)];
        var dedented = string.Join('\n', body.Split('\n').Select(line => line.StartsWith("        ", StringComparison.Ordinal) ? line[8..] : line));
        Assert.Equal(file[..file.IndexOf('\n')] + "\n\n" + dedented, block);
    }
}
