using Microsoft.Extensions.DependencyInjection;
using Orleans.Hosting;

namespace RoomActors.Testing;

/// <summary>How <see cref="RoomTestHost.StartAsync"/> sets up its silo.</summary>
public sealed class RoomTestHostOptions
{
    /// <summary>
    /// Adds or replaces silo services the rooms use, e.g. <c>services.Configure&lt;MyOptions&gt;(o =&gt; …)</c> or a fake of
    /// a service. Runs after the kit's own registrations. Default none.
    /// </summary>
    public Action<IServiceCollection>? ConfigureServices { get; set; }

    /// <summary>Configures the Orleans silo further (more storage providers, grain services). Default none.</summary>
    public Action<ISiloBuilder>? ConfigureSilo { get; set; }

    /// <summary>
    /// Configuration values of the silo host, as in <c>appsettings.json</c> with <c>:</c> between sections, e.g.
    /// <c>["RoomActors:Rooms:HibernateAfter"] = "00:00:02"</c> (room options are bound from <c>RoomActors:Rooms</c> and
    /// checked at start). Default empty.
    /// </summary>
    public Dictionary<string, string?> Configuration { get; set; } = new();

    /// <summary>
    /// The clock rooms read (<c>Room.TimeProvider</c>) and grain timers follow, e.g. a fake one the test advances; Orleans'
    /// own background work stays on real time. With it, the kit does not check gateway leases (its gateway never dies).
    /// Default null: the system clock.
    /// </summary>
    public TimeProvider? TimeProvider { get; set; }

    /// <summary>
    /// How long the waits of <see cref="TestRoomClient"/> (<see cref="TestRoomClient.NextAsync"/>,
    /// <see cref="TestRoomClient.ClosedAsync"/>) and a connect's join last before they throw <see cref="TimeoutException"/>,
    /// unless a call passes its own. Default 10 s.
    /// </summary>
    public TimeSpan DefaultTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
