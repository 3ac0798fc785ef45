using RoomActors.Documents;
using RoomActors.Tests.Infrastructure;

namespace RoomActors.Tests.Docs;

/// <summary>
/// The README's rooms are compiled files: "write your first room" is samples/HelloApp/HelloRoom.cs, run here as the
/// app's own process; the scoreboard is this folder's ScoreboardRoom.cs, run in the tests' all-in-one server.
/// </summary>
[Collection(AllInOneCollection.Name)]
public sealed class ReadmeTests(AllInOneFixture fixture)
{
    [Theory]
    [InlineData("first-room", "samples/HelloApp/HelloRoom.cs")]
    [InlineData("scoreboard-room", "tests/RoomActors.Tests/Docs/ScoreboardRoom.cs")]
    [InlineData("tables-rooms", "tests/RoomActors.Tests/Docs/TablesExample.cs")]
    [InlineData("notes-room", "tests/RoomActors.Tests/Docs/NotesRoom.cs")]
    public void Readme_examples_are_compiled_files(string marker, string file)
    {
        var compiled = File.ReadAllText(Path.Combine(RepositoryRoot(), file)).ReplaceLineEndings("\n");
        Assert.Equal(compiled, CodeBlock("README.md", marker));
    }

    /// <summary>The C# block after <c>&lt;!-- marker --&gt;</c> in the markdown file <paramref name="readme"/> (relative to the repository).</summary>
    internal static string CodeBlock(string readme, string marker)
    {
        var text = File.ReadAllText(Path.Combine(RepositoryRoot(), readme)).ReplaceLineEndings("\n");
        var start = $"<!-- {marker} -->\n```csharp\n";
        var from = text.IndexOf(start, StringComparison.Ordinal);
        Assert.True(from >= 0, $"{readme} lost its '<!-- {marker} -->' C# block");
        from += start.Length;
        return text[from..text.IndexOf("```", from, StringComparison.Ordinal)];
    }

    [Fact]
    public async Task The_scoreboard_example_works_as_the_readme_says()
    {
        var name = Guid.NewGuid().ToString("N");
        using var http = new HttpClient();
        var answer = await http.GetAsync(new Uri(fixture.Server.Http, $"/rooms/scoreboard/{name}"));
        Assert.Equal(System.Net.HttpStatusCode.OK, answer.StatusCode); // HTTP goes to the request hook
        Assert.Equal("{\"total\":0}", await answer.Content.ReadAsStringAsync());

        var socket = new System.Net.WebSockets.ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        await Assert.ThrowsAsync<System.Net.WebSockets.WebSocketException>(() => socket.ConnectAsync(fixture.Server.Room("scoreboard", name), CancellationToken.None));
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, socket.HttpStatusCode);

        await using var guest = await TestClient.ConnectAsync(fixture.Server.Room("scoreboard", name, "?guest=yes"));
        await guest.SendAsync("hi");
        Assert.Equal("total 1, last from hi", await guest.ReceiveTextAsync());
    }

    [Fact]
    public async Task The_notes_example_works_as_the_readme_says()
    {
        var name = Guid.NewGuid().ToString("N");
        // The Yjs update of client 1 inserting "a" into Y.Text "text" (as Y.encodeStateAsUpdate gives it), relayed as
        // a y-websocket sync update: [sync 0, update 2, length, bytes].
        byte[] update = [1, 1, 1, 0, 4, 1, 4, (byte)'t', (byte)'e', (byte)'x', (byte)'t', 1, (byte)'a', 0];
        byte[] message = [0, 2, (byte)update.Length, .. update];

        await using var viewer = await TestClient.ConnectAsync(fixture.Server.Room("notes", name, "?role=viewer"));
        await viewer.SendAsync(message);
        var (status, reason, _) = await viewer.WaitClosedAsync();
        Assert.Equal((System.Net.WebSockets.WebSocketCloseStatus)DocumentRoom.Refused, status);
        Assert.Equal("this document is read-only for you", reason);

        using var http = new HttpClient();
        Assert.Equal("{}", await http.GetStringAsync(new Uri(fixture.Server.Http, $"/rooms/notes/{name}?format=json")));

        await using var editor = await TestClient.ConnectAsync(fixture.Server.Room("notes", name));
        await using var other = await TestClient.ConnectAsync(fixture.Server.Room("notes", name));
        await editor.SendAsync(message);
        Assert.Equal(message, (await other.ReceiveAsync()).Data); // relayed to the others as the same sync update
        Assert.Equal("{\"text\":\"a\"}", await http.GetStringAsync(new Uri(fixture.Server.Http, $"/rooms/notes/{name}?format=json")));
    }

    [Fact]
    public async Task The_first_room_works_as_the_readme_says_in_the_built_hello_app()
    {
        var url = new Uri($"http://127.0.0.1:{FreePort.Next()}");
        await using var app = await NodeProcess.StartAsync("samples/HelloApp", "hello-app", url,
            "--silo-port", FreePort.Next().ToString(), "--client-port", FreePort.Next().ToString(),
            "--cluster-id", "hello-" + Guid.NewGuid().ToString("N")[..8]);

        var name = Guid.NewGuid().ToString("N");
        await using var ada = await TestClient.ConnectAsync(app.Room("hello", name, "?name=ada"));
        Assert.Equal("welcome, ada", await ada.ReceiveTextAsync());
        await using var bob = await TestClient.ConnectAsync(app.Room("hello", name));
        Assert.Equal("welcome, stranger", await bob.ReceiveTextAsync());

        await bob.SendAsync("hi ada");
        Assert.Equal("hi ada", await ada.ReceiveTextAsync());

        await ada.CloseAsync();
        Assert.EndsWith(" left", await bob.ReceiveTextAsync());
        Assert.Empty(bob.Drain());

        await bob.CloseAsync();
        Assert.Equal(0, await app.StopAsync());
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
