using RoomActors.Tests.Docs;

namespace RoomActors.Tests.Testing;

/// <summary>The test kit's README example is a compiled file, run with these tests (<see cref="PollRoomTests"/>).</summary>
public sealed class TestingReadmeTests
{
    [Fact]
    public void The_readme_example_is_the_compiled_poll_room_test()
    {
        var root = ReadmeTests.RepositoryRoot();
        var readme = File.ReadAllText(Path.Combine(root, "src/Testing/README.md")).ReplaceLineEndings("\n");
        const string start = "<!-- testing-example -->\n```csharp\n";
        var from = readme.IndexOf(start, StringComparison.Ordinal);
        Assert.True(from >= 0, "src/Testing/README.md lost its '<!-- testing-example -->' C# block");
        from += start.Length;
        var code = readme[from..readme.IndexOf("```", from, StringComparison.Ordinal)];

        var compiled = File.ReadAllText(Path.Combine(root, "tests/RoomActors.Tests/Testing/PollRoomTests.cs")).ReplaceLineEndings("\n");
        Assert.Equal(compiled, code);
    }
}
