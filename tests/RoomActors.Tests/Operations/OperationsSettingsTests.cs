using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RoomActors.Hosting;

namespace RoomActors.Tests.Operations;

/// <summary>The operators' switches: <c>--management-urls</c> and <c>--log-format</c>, read and checked at start.</summary>
public sealed class OperationsSettingsTests
{
    private static RoomActorsOptions Read(params string[] args) =>
        new ConfigurationBuilder().AddCommandLine(args, RoomActorsHost.SwitchMappings.ToDictionary()).Build().GetRoomActorsOptions();

    [Fact]
    public void The_management_urls_are_read_from_their_switch_and_checked()
    {
        Assert.Null(Read().ManagementUrls);
        Assert.Equal("http://0.0.0.0:9090", Read("--management-urls", "http://0.0.0.0:9090").ManagementUrls);
        Assert.Equal("http://127.0.0.1:9090;http://[::1]:9090", Read("--management-urls", "http://127.0.0.1:9090;http://[::1]:9090").ManagementUrls);

        var error = Assert.Throws<OptionsValidationException>(() => Read("--management-urls", "9090"));
        Assert.Contains("RoomActors:ManagementUrls", error.Message);
        Assert.Contains("http://0.0.0.0:9090", error.Message); // says what a good one looks like
        Assert.Throws<OptionsValidationException>(() => Read("--management-urls", "ftp://0.0.0.0:9090"));
    }

    [Fact]
    public void A_process_with_urls_refuses_a_management_port()
    {
        var error = Assert.Throws<InvalidOperationException>(() => RoomActorsHost.BuildAllInOne(["--management-urls", "http://127.0.0.1:9090"]));
        Assert.Contains("--management-urls", error.Message);
        Assert.Contains("/health/ready", error.Message);
        Assert.Throws<InvalidOperationException>(() => RoomActorsHost.BuildGateway(["--urls", "http://127.0.0.1:0", "--management-urls", "http://127.0.0.1:9090"]));
    }

    [Fact]
    public void The_log_format_switch_sets_the_console_formatter_and_refuses_unknown_ones()
    {
        var builder = RoomActorsHost.CreateHeadlessBuilder(["--log-format", "json"]);
        Assert.Equal("json", builder.Configuration["Logging:Console:FormatterName"]);
        using (var host = builder.Build())
        {
            var console = host.Services.GetRequiredService<IOptionsMonitor<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>>().CurrentValue;
            Assert.Equal("json", console.FormatterName); // what the console logger reads
        }

        var error = Assert.Throws<InvalidOperationException>(() => RoomActorsHost.CreateBuilder(["--log-format", "xml"]));
        Assert.Contains("use json", error.Message);
    }
}
