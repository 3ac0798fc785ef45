using System.Collections.Immutable;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Hosting;
using Orleans.Metadata;
using Orleans.TestingHost;
using RoomActors.Testing.Internal;

namespace RoomActors.Testing;

/// <summary>
/// Tests rooms without sockets: one in-process Orleans silo (memory grain storage named
/// <see cref="RoomOptions.StorageName"/>, in-memory reminders) hosting every room class of the loaded assemblies, and
/// a gateway for <see cref="TestRoomClient"/>s that connect, send, close and drop as WebSocket clients do.
/// <code>
/// await using var host = await RoomTestHost.StartAsync();
/// await using var ada = await host.ConnectAsync("chat", "lobby");
/// await ada.SendAsync("hi");
/// Assert.Equal("hi", await ada.NextTextAsync());
/// </code>
/// </summary>
/// <remarks>
/// Everything goes through the room grain's contract as a gateway uses it: connects (with the before-connect check for
/// rooms that have one), batches of messages and closes, one call at a time per room, deliveries applied once each in the
/// room's order, the heartbeat rooms expect of a live gateway, and the answer a restarted room asks for. A call returns
/// once the room's turn has ended and what it sent this host's clients has arrived.
/// </remarks>
public sealed class RoomTestHost : IAsyncDisposable
{
    private readonly InProcessTestCluster _cluster;
    private readonly TestGateway _gateway;
    private readonly TimeSpan _timeout;

    private RoomTestHost(InProcessTestCluster cluster, TestGateway gateway, TimeSpan timeout)
    {
        _cluster = cluster;
        _gateway = gateway;
        _timeout = timeout;
    }

    /// <summary>Starts the silo and the gateway (about a second).</summary>
    /// <param name="options">Services, configuration and clock for the silo; default none.</param>
    public static async Task<RoomTestHost> StartAsync(RoomTestHostOptions? options = null)
    {
        options ??= new RoomTestHostOptions();
        if (options.DefaultTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.DefaultTimeout,
                $"{nameof(RoomTestHostOptions)}.{nameof(RoomTestHostOptions.DefaultTimeout)} must be positive.");
        }

        var builder = new InProcessTestClusterBuilder(1);
        builder.Options.InitializeClientOnDeploy = false; // the gateway lives in the silo, as in the all-in-one host
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSiloHost((_, host) => ConfigureHost(host, options));
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddMemoryGrainStorage(RoomOptions.StorageName);
            silo.AddMemoryGrainStorageAsDefault();
            silo.UseInMemoryReminderService();
            options.ConfigureSilo?.Invoke(silo);
        });

        var cluster = builder.Build();
        try
        {
            await cluster.DeployAsync();
            var services = cluster.Silos[0].ServiceProvider;
            var gateway = new TestGateway(services.GetRequiredService<IGrainFactory>(),
                services.GetRequiredService<IOptions<RoomOptions>>().Value.GatewayLease,
                services.GetRequiredService<ILoggerFactory>().CreateLogger("RoomActors.Testing.RoomTestHost"));
            await gateway.StartAsync();
            return new RoomTestHost(cluster, gateway, options.DefaultTimeout);
        }
        catch
        {
            // Do not leak a half-started silo; the caller sees the start failure.
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Calls grains of the silo directly (the rooms' grain ids are <see cref="RoomGrainIds.Of"/>).</summary>
    public IGrainFactory Grains => _gateway.Grains;

    /// <summary>The silo's services, e.g. to reach a fake the test registered.</summary>
    public IServiceProvider SiloServices => _cluster.Silos[0].ServiceProvider;

    /// <summary>The room types the silo hosts (from the cluster manifest).</summary>
    public IReadOnlyCollection<string> RoomTypes => Catalog().Keys.ToArray();

    /// <summary>
    /// Connects a client to room <paramref name="name"/> of type <paramref name="type"/>, as a WebSocket client of
    /// <c>/rooms/{type}/{name}?{query}</c> would: the before-connect hook (for rooms that have one), then the connect
    /// hook. Returns when the room's join has arrived, so what the connect hook sent is in <see cref="TestRoomClient.Received"/>.
    /// </summary>
    /// <param name="type">The room type (<c>[Room("type")]</c>).</param>
    /// <param name="name">The room name: 1–128 characters of <c>A-Z a-z 0-9 . _ ~ -</c>.</param>
    /// <param name="query">The query string (<c>context.Query</c>), with or without the leading <c>?</c>.</param>
    /// <param name="userId">The verified user a gateway with auth on passes (the ticket's subject); null as with auth off.</param>
    /// <param name="claims">The verified ticket's claims (<c>context.Claims</c>); default none.</param>
    /// <param name="headers">The forwarded request headers (<c>context.Headers</c>; names in lower case); default none.</param>
    /// <exception cref="RoomRejectedException">The room rejected (or denied) the connection.</exception>
    /// <exception cref="ArgumentException">No such room type, or an invalid room name.</exception>
    public async Task<TestRoomClient> ConnectAsync(string type, string name, string query = "", string? userId = null,
        IReadOnlyDictionary<string, string>? claims = null, IReadOnlyDictionary<string, string>? headers = null)
    {
        var room = Validate(type, name);
        var link = _gateway.Link(type, name);
        var client = new TestRoomClient(link, Guid.NewGuid().ToString("N"), userId, _timeout);
        var request = new ConnectRequest
        {
            ConnectionId = client.Id,
            Gateway = _gateway.Reference,
            Session = link.Session,
            QueryString = QueryString(query),
            Headers = LowerCase(headers),
            UserId = userId,
            Claims = claims ?? new Dictionary<string, string>(),
        };

        if (room.ChecksBeforeConnect)
        {
            var admission = await _gateway.CallAsync(link.RoomId, "before-connect check", () => link.Grain.Admit(request));
            if (!admission.Allowed)
            {
                throw new RoomRejectedException(type, name, admission.Status, admission.Reason ?? "", beforeConnect: true, []);
            }
        }

        link.AddPending(client);
        try
        {
            var result = await _gateway.CallAsync(link.RoomId, "connect", () => link.Grain.Connect(request));
            if (!result.Accepted)
            {
                // The room's join and close come as a delivery: wait briefly for them, so the exception holds what the
                // connect hook sent before it rejected.
                await Task.WhenAny(client.ClosedAsync(_timeout));
                throw new RoomRejectedException(type, name, result.CloseCode, result.Reason ?? "", beforeConnect: false, client.Received);
            }

            await client.Joined.WaitAsync(_timeout);
            return client;
        }
        catch (TimeoutException)
        {
            // Say what did not happen: the room accepted but its join never arrived.
            throw new TimeoutException($"Room {type}/{name} accepted client {client.Id}, but its join did not arrive within {_timeout.TotalSeconds:0.###} s.");
        }
        finally
        {
            if (client.IsClosed || !client.Joined.IsCompleted)
            {
                link.Remove(client);
            }
        }
    }

    /// <summary>
    /// Sends an HTTP request to the room's request hook, as a plain request to <c>/rooms/{type}/{name}/{path}?{query}</c>
    /// would. Rooms without a request hook answer as the gateway does: 426 for the room itself, 404 below it.
    /// </summary>
    /// <param name="type">The room type.</param>
    /// <param name="name">The room name.</param>
    /// <param name="method">The HTTP method.</param>
    /// <param name="path">The path below the room, without a leading slash; empty for the room itself.</param>
    /// <param name="query">The query string, with or without the leading <c>?</c>.</param>
    /// <param name="body">The body, sent as UTF-8; null for none.</param>
    /// <param name="userId">The verified user a gateway with auth on passes; null as with auth off.</param>
    /// <param name="headers">The request headers (names in lower case); default none.</param>
    /// <param name="claims">The verified ticket's claims (<c>RoomHttpRequest.Claims</c>); default none.</param>
    /// <exception cref="ArgumentException">No such room type, or an invalid room name.</exception>
    public async Task<RoomHttpResponse> RequestAsync(string type, string name, string method = "GET", string path = "", string query = "",
        string? body = null, string? userId = null, IReadOnlyDictionary<string, string>? headers = null,
        IReadOnlyDictionary<string, string>? claims = null)
    {
        var room = Validate(type, name);
        path = path.TrimStart('/');
        if (!room.HandlesHttp)
        {
            return path.Length == 0
                ? RoomHttpResponse.Text($"Connect to /rooms/{type}/{name} with a WebSocket client (Upgrade: websocket).", 426)
                : RoomHttpResponse.Text($"Room type '{type}' does not answer HTTP requests (it has no request hook).", 404);
        }

        var request = new RoomHttpRequest
        {
            Method = method.ToUpperInvariant(),
            Path = path,
            QueryString = QueryString(query),
            Headers = LowerCase(headers),
            Body = body is null ? [] : Encoding.UTF8.GetBytes(body),
            UserId = userId,
            Claims = claims ?? new Dictionary<string, string>(),
        };
        var id = RoomGrainIds.Of(type, name);
        var repeatable = request.Method is "GET" or "HEAD" or "OPTIONS";
        return await _gateway.CallAsync(id, "HTTP request", () => Grains.GetGrain<IRoomGrain>(id).Request(request), repeatable);
    }

    /// <summary>
    /// Takes the room out of memory, as hibernation, a move or a silo restart does, and waits until it is gone: the next
    /// call activates it again from storage (its state, key/value records, alarm and connections; test clients stay
    /// connected). Nothing happens when the room is not in memory.
    /// </summary>
    /// <param name="type">The room type.</param>
    /// <param name="name">The room name.</param>
    public Task RestartRoomAsync(string type, string name)
    {
        Validate(type, name);
        return _cluster.DeactivateAsync(RoomGrainIds.Of(type, name));
    }

    /// <summary>Closes every test client (1001, without telling the rooms) and stops the silo.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_gateway.IsStopped)
        {
            return;
        }

        await _gateway.StopAsync();
        await _cluster.StopAllSilosAsync();
        await _cluster.DisposeAsync();
    }

    private static void ConfigureHost(IHostApplicationBuilder host, RoomTestHostOptions options)
    {
        host.Configuration.AddInMemoryCollection(options.Configuration);
        var services = host.Services;
        services.AddOptions<RoomOptions>().BindConfiguration(RoomOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<RoomOptions>, RoomOptionsValidator>();
        if (options.TimeProvider is { } clock)
        {
            // Rooms and grain timers follow the test's clock; Orleans' own background work stays on real time. Gateway
            // leases are not checked: the registry would count the test's clock, and the kit's gateway never dies.
            services.RemoveAll<TimeProvider>();
            services.AddSingleton(clock);
            services.UseTimeProviderForBackgroundAreas(TimeProvider.System);
        }
        else
        {
            // As in a real silo: rooms close the connections of gateways that stop reporting (the kit's gateway reports).
            services.AddSingleton<GatewayLivenessCache>();
            services.AddHostedService(sp => sp.GetRequiredService<GatewayLivenessCache>());
        }

        options.ConfigureServices?.Invoke(services);
    }

    private RoomTypeInfo Validate(string type, string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(type);
        ArgumentException.ThrowIfNullOrEmpty(name);
        var types = Catalog();
        if (!types.TryGetValue(type, out var info))
        {
            throw new ArgumentException($"There is no room type '{type}'. Known types: {string.Join(", ", types.Keys)}. " +
                "A room class needs [Room(\"type\")] and must be in an assembly the test loads.", nameof(type));
        }

        if (name.Length > 128 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '~' or '-'))
        {
            throw new ArgumentException($"'{name}' is not a room name the gateway accepts: 1-128 characters of A-Z a-z 0-9 . _ ~ -.", nameof(name));
        }

        return info;
    }

    /// <summary>Room type name → what it has, from the cluster manifest (as the gateway reads it).</summary>
    private ImmutableSortedDictionary<string, RoomTypeInfo> Catalog()
    {
        var types = ImmutableSortedDictionary.CreateBuilder<string, RoomTypeInfo>(StringComparer.Ordinal);
        foreach (var (grainType, properties) in SiloServices.GetRequiredService<IClusterManifestProvider>().Current.AllGrainManifests.SelectMany(m => m.Grains))
        {
            if (RoomGrainIds.RoomTypeOf(grainType) is { } type)
            {
                types[type] = new RoomTypeInfo(
                    properties.Properties.TryGetValue(RoomGrainIds.HandlesHttpProperty, out var http) && http == "true",
                    properties.Properties.TryGetValue(RoomGrainIds.BeforeConnectProperty, out var admit) && admit == "true");
            }
        }

        return types.ToImmutable();
    }

    private static string QueryString(string query) => query.Length == 0 || query[0] == '?' ? query : "?" + query;

    private static Dictionary<string, string> LowerCase(IReadOnlyDictionary<string, string>? headers) =>
        headers?.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value) ?? new Dictionary<string, string>();

    private sealed record RoomTypeInfo(bool HandlesHttp, bool ChecksBeforeConnect);
}
