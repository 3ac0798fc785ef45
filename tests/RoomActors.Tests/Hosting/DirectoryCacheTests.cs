using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using RoomActors.Hosting;
using RoomActors.Tests.Infrastructure;

namespace RoomActors.Tests.Hosting;

/// <summary>
/// The silo's grain directory cache is sized by <c>RoomActors:DirectoryCacheSize</c> (100,000 by default) instead of
/// Orleans' 1,000,000, whose table is allocated up front and walked whole each time the metrics are read.
/// </summary>
public sealed class DirectoryCacheTests
{
    [Fact]
    public void The_silo_caches_100000_room_addresses_unless_configured()
    {
        Assert.Equal(100_000, CacheSizeOf(Silo()));
        Assert.Equal(2_500, CacheSizeOf(Silo("--RoomActors:DirectoryCacheSize=2500")));
        Assert.Equal(0, CacheSizeOf(Silo("--RoomActors:DirectoryCacheSize=0")));
    }

    [Fact]
    public void A_hosts_own_directory_options_after_the_silo_win()
    {
        var builder = Silo();
        builder.Services.Configure<GrainDirectoryOptions>(o => o.CacheSize = 1_000_000);
        Assert.Equal(1_000_000, CacheSizeOf(builder));
    }

    [Fact]
    public void A_negative_size_is_refused_naming_the_setting()
    {
        var error = Assert.Throws<OptionsValidationException>(() =>
            RoomActorsOptionsValidator.ThrowIfInvalid(new RoomActorsOptions { DirectoryCacheSize = -1 }));
        Assert.Contains("RoomActors:DirectoryCacheSize (-1)", error.Message);
    }

    private static Microsoft.AspNetCore.Builder.WebApplicationBuilder Silo(params string[] args)
    {
        var builder = RoomActorsHost.CreateBuilder([.. args, "--urls", "http://127.0.0.1:0", "--silo-port", FreePort.Next().ToString(),
            "--client-port", FreePort.Next().ToString()]);
        builder.Logging.ClearProviders();
        builder.UseRoomActorsSilo();
        return builder;
    }

    // Built, not started: the options Orleans reads when the silo starts.
    private static int CacheSizeOf(Microsoft.AspNetCore.Builder.WebApplicationBuilder builder)
    {
        using var services = (ServiceProvider)builder.Services.BuildServiceProvider();
        return services.GetRequiredService<IOptions<GrainDirectoryOptions>>().Value.CacheSize;
    }
}
