using RoomActors.Tests.Infrastructure;

namespace RoomActors.Tests.Integration;

/// <summary>The gateway serves the JavaScript client of <c>clients/js</c> byte for byte, with the right types.</summary>
[Collection(AllInOneCollection.Name)]
public sealed class ClientLibraryTests(AllInOneFixture fixture)
{
    [Theory]
    [InlineData("/client/roomactors.js", "roomactors.js", "text/javascript")]
    [InlineData("/client/roomactors.d.ts", "roomactors.d.ts", "application/typescript")]
    public async Task Gateway_serves_the_repository_file(string path, string file, string mediaType)
    {
        using var http = new HttpClient();
        using var response = await http.GetAsync(new Uri(fixture.Server.Http, path));

        response.EnsureSuccessStatusCode();
        Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("utf-8", response.Content.Headers.ContentType?.CharSet);
        var expected = await File.ReadAllTextAsync(Path.Combine(Docs.ReadmeTests.RepositoryRoot(), "clients", "js", file));
        Assert.Equal(expected, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_script_names_its_types_for_Deno_and_editors()
    {
        using var http = new HttpClient();
        using var response = await http.GetAsync(new Uri(fixture.Server.Http, "/client/roomactors.js"));

        Assert.Equal("/client/roomactors.d.ts", Assert.Single(response.Headers.GetValues("X-TypeScript-Types")));
    }
}
