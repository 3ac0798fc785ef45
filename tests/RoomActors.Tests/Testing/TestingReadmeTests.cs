using RoomActors.Tests.Docs;

namespace RoomActors.Tests.Testing;

/// <summary>The test kit's README example is a compiled file, run with these tests (<see cref="PollRoomTests"/>).</summary>
public sealed class TestingReadmeTests
{
    [Fact]
    public void The_readme_example_is_the_compiled_poll_room_test()
    {
        var compiled = File.ReadAllText(Path.Combine(ReadmeTests.RepositoryRoot(), "tests/RoomActors.Tests/Testing/PollRoomTests.cs")).ReplaceLineEndings("\n");
        Assert.Equal(compiled, ReadmeTests.CodeBlock("src/Testing/README.md", "testing-example"));
    }
}
