using System.IO.Compression;
using System.Xml.Linq;
using RoomActors.Tests.Docs;
using RoomActors.Tests.Infrastructure;

namespace RoomActors.Tests.Packaging;

/// <summary>
/// <c>dotnet pack</c> of the solution (from the build these tests run on) makes exactly the library packages (the four
/// author-facing ones, the test kit and the .NET client), versioned with the repository, each depending on the RoomActors packages its project references.
/// </summary>
[Trait("Category", "Packaging")]
public sealed class PackageTests
{
    private static readonly Dictionary<string, string[]> Expected = new()
    {
        ["RoomActors.Grains.Interfaces"] = [],
        ["RoomActors.Grains"] = ["RoomActors.Grains.Interfaces"],
        ["RoomActors.Gateway"] = ["RoomActors.Grains.Interfaces"],
        ["RoomActors.Hosting"] = ["RoomActors.Gateway", "RoomActors.Grains"],
        ["RoomActors.Client"] = [],
        ["RoomActors.Testing"] = ["RoomActors.Grains"],
    };

    [Fact]
    public async Task Packing_the_solution_makes_the_library_packages_depending_on_each_other()
    {
        var output = Directory.CreateTempSubdirectory("roomactors-pack-");
        try
        {
            var configuration = Path.GetFileName(Path.GetDirectoryName(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)))!;
            var pack = await Dotnet.RunAsync(["pack", Path.Combine(ReadmeTests.RepositoryRoot(), "RoomActors.sln"),
                "-c", configuration, "--no-build", "-o", output.FullName, "-nologo"]);
            Assert.True(pack.ExitCode == 0, $"dotnet pack failed: {pack}");

            var version = Version();
            var packages = output.GetFiles("*.nupkg").Select(f => f.Name).Order().ToArray();
            Assert.Equal(Expected.Keys.Select(id => $"{id}.{version}.nupkg").Order(), packages); // hosts, tests, samples: none

            foreach (var (id, dependsOn) in Expected)
            {
                var nuspec = Nuspec(Path.Combine(output.FullName, $"{id}.{version}.nupkg"));
                var ns = nuspec.Root!.Name.Namespace;
                var metadata = nuspec.Root.Element(ns + "metadata")!;
                Assert.Equal(id, metadata.Element(ns + "id")!.Value);
                Assert.Equal(version, metadata.Element(ns + "version")!.Value);
                Assert.False(string.IsNullOrWhiteSpace(metadata.Element(ns + "description")?.Value), $"{id} has no description");

                var roomActorsDependencies = metadata.Descendants(ns + "dependency")
                    .Where(d => d.Attribute("id")!.Value.StartsWith("RoomActors.", StringComparison.Ordinal))
                    .ToDictionary(d => d.Attribute("id")!.Value, d => d.Attribute("version")!.Value);
                Assert.Equal(dependsOn.Order(), roomActorsDependencies.Keys.Order());
                Assert.All(roomActorsDependencies.Values, v => Assert.Equal(version, v));
            }
        }
        finally
        {
            output.Delete(recursive: true);
        }
    }

    /// <summary>The repository's version: <c>&lt;Version&gt;</c> in Directory.Build.props.</summary>
    private static string Version() =>
        XDocument.Load(Path.Combine(ReadmeTests.RepositoryRoot(), "Directory.Build.props")).Descendants("Version").Single().Value;

    private static XDocument Nuspec(string package)
    {
        using var zip = ZipFile.OpenRead(package);
        using var stream = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open();
        return XDocument.Load(stream);
    }
}
