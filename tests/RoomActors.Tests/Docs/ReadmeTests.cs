using RoomActors.Tests.Infrastructure;

namespace RoomActors.Tests.Docs;

/// <summary>The README's "write your first room" is this folder's HelloRoom.cs, compiled and run here.</summary>
[Collection(AllInOneCollection.Name)]
public sealed class ReadmeTests(AllInOneFixture fixture)
{
    [Fact]
    public void The_readme_first_room_is_the_compiled_HelloRoom()
    {
        var root = RepositoryRoot();
        var readme = File.ReadAllText(Path.Combine(root, "README.md")).ReplaceLineEndings("\n");
        const string start = "<!-- first-room -->\n```csharp\n";
        var from = readme.IndexOf(start, StringComparison.Ordinal);
        Assert.True(from >= 0, "README.md lost its '<!-- first-room -->' C# block");
        from += start.Length;
        var code = readme[from..readme.IndexOf("```", from, StringComparison.Ordinal)];

        var compiled = File.ReadAllText(Path.Combine(root, "tests", "RoomActors.Tests", "Docs", "HelloRoom.cs")).ReplaceLineEndings("\n");
        Assert.Equal(compiled, code);
    }

    [Fact]
    public async Task The_first_room_works_as_the_readme_says()
    {
        var name = Guid.NewGuid().ToString("N");
        await using var ada = await TestClient.ConnectAsync(fixture.Server.Room("hello", name, "?name=ada"));
        Assert.Equal("welcome, ada", await ada.ReceiveTextAsync());
        await using var bob = await TestClient.ConnectAsync(fixture.Server.Room("hello", name));
        Assert.Equal("welcome, stranger", await bob.ReceiveTextAsync());

        await bob.SendAsync("hi ada");
        Assert.Equal("hi ada", await ada.ReceiveTextAsync());

        await ada.CloseAsync();
        Assert.EndsWith(" left", await bob.ReceiveTextAsync());
        Assert.Empty(bob.Drain());
    }

    internal static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "RoomActors.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("RoomActors.sln not found above the test output directory.");
    }
}
