using System.Text.Json;
using Microsoft.Extensions.Configuration;
using RoomActors.Gateway;
using RoomActors.Gateway.Auth;
using RoomActors.Hosting;
using RoomActors.Tests.Infrastructure;

namespace RoomActors.Tests.Docs;

/// <summary>src/Silo/appsettings.json is an example of every setting at its default: it changes nothing.</summary>
public sealed class AppSettingsTests
{
    private static readonly string Source = Path.Combine(ReadmeTests.RepositoryRoot(), "src", "Silo", "appsettings.json");

    private static IConfiguration Example() => new ConfigurationBuilder().AddJsonFile(Source).Build();

    [Fact]
    public void Every_value_of_the_example_is_the_default()
    {
        var settings = Example();
        AssertDefault(settings, RoomActorsOptions.Section, new RoomActorsOptions());
        AssertDefault(settings, GatewayOptions.Section, new GatewayOptions());
        AssertDefault(settings, RoomOptions.Section, new RoomOptions());
        AssertDefault(settings, AuthOptions.Section, new AuthOptions());
        AssertDefault(settings, OperatorOptions.Section, new OperatorOptions());
        AssertDefault(settings, ClusterTlsOptions.Section, new ClusterTlsOptions());
        AssertDefault(settings, RoomActors.Documents.DocumentOptions.Section, new RoomActors.Documents.DocumentOptions());
    }

    [Fact]
    public void The_example_lists_every_setting_but_the_lists_and_the_secret()
    {
        // Lists are left out: the configuration binder appends to a list's default items instead of replacing them.
        string[] left = ["RoomActors:Gateway:ForwardedHeaders", "RoomActors:Auth:AllowedOrigins", "RoomActors:Auth:SigningKey", "RoomActors:Auth:PreviousSigningKey", "RoomActors:Operator:Key", "RoomActors:Tls:CertificatePassword"];
        var keys = Example().AsEnumerable().Select(kv => kv.Key).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var missing = Settings(RoomActorsOptions.Section, typeof(RoomActorsOptions))
            .Concat(Settings(GatewayOptions.Section, typeof(GatewayOptions)))
            .Concat(Settings(RoomOptions.Section, typeof(RoomOptions)))
            .Concat(Settings(AuthOptions.Section, typeof(AuthOptions)))
            .Concat(Settings(OperatorOptions.Section, typeof(OperatorOptions)))
            .Concat(Settings(ClusterTlsOptions.Section, typeof(ClusterTlsOptions)))
            .Concat(Settings(RoomActors.Documents.DocumentOptions.Section, typeof(RoomActors.Documents.DocumentOptions)))
            .Where(key => !keys.Contains(key) && !left.Contains(key));
        Assert.Empty(missing);
    }

    [Fact]
    public void The_example_sets_the_logging_defaults_of_the_code()
    {
        var settings = Example();
        Assert.Equal("Information", settings["Logging:LogLevel:Default"]);
        Assert.Equal("Warning", settings["Logging:LogLevel:Polly"]);
        Assert.Equal("None", settings["Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics"]);
        Assert.Null(settings["urls"]); // --urls decides whether a Redis silo serves WebSockets
    }

    [Fact]
    public void The_example_is_copied_next_to_the_built_silo()
    {
        var built = Path.Combine(Path.GetDirectoryName(BuildOutput.Dll("Silo"))!, "appsettings.json");
        Assert.Equal(File.ReadAllText(Source), File.ReadAllText(built));
    }

    private static void AssertDefault<T>(IConfiguration settings, string section, T defaults) where T : class
    {
        var bound = settings.GetSection(section).Get<T>();
        Assert.NotNull(bound);
        Assert.Equal(JsonSerializer.Serialize(defaults), JsonSerializer.Serialize(bound));
    }

    private static IEnumerable<string> Settings(string section, Type options) =>
        options.GetProperties().Where(p => p.CanWrite).Select(p => $"{section}:{p.Name}");
}
