using System.Diagnostics;
using RoomActors.Tests.Infrastructure;

namespace RoomActors.Tests.Distributed;

/// <summary>
/// A gateway lost under traffic, in one broadcast room: a client on the gateway that stays sends a numbered message
/// every 20 ms (at most 300); four clients on the gateway that goes resume on the one that stays once their socket ends.
/// </summary>
internal sealed class GatewayLossScenario : IAsyncDisposable
{
    private readonly Uri _resumeAt;

    private GatewayLossScenario(Recorder stayer, List<Recorder> movers, Uri resumeAt)
    {
        Stayer = stayer;
        Movers = movers;
        _resumeAt = resumeAt;
    }

    public Recorder Stayer { get; }

    public List<Recorder> Movers { get; }

    public static async Task<GatewayLossScenario> StartAsync(NodeProcess leaving, NodeProcess staying)
    {
        var name = "g-" + Guid.NewGuid().ToString("N")[..12];
        var stayer = await Recorder.StartAsync(staying.Room("broadcast", name));
        var movers = new List<Recorder>();
        for (var i = 0; i < 4; i++)
        {
            movers.Add(await Recorder.StartAsync(leaving.Room("broadcast", name)));
        }

        return new GatewayLossScenario(stayer, movers, staying.Room("broadcast", name));
    }

    /// <summary>
    /// Traffic for a second, then <paramref name="loseGateway"/>; each mover resumes once its socket ended. Then an
    /// acknowledged "end" that every client must see. Returns how long after the loss began each mover had resumed.
    /// </summary>
    public async Task<TimeSpan[]> RunAsync(Func<Task> loseGateway)
    {
        using var stop = new CancellationTokenSource();
        var traffic = Task.Run(async () =>
        {
            for (var i = 1; i <= 300 && !stop.IsCancellationRequested; i++)
            {
                await Stayer.Client.SendAsync($"s-{i}", id: i);
                await Task.Delay(20);
            }
        });

        await Task.Delay(1000);
        var lost = Stopwatch.StartNew();
        await loseGateway();
        var resumed = await Task.WhenAll(Movers.Select(async mover =>
        {
            await mover.Dropped.WaitAsync(TimeSpan.FromSeconds(30));
            await mover.ResumeAsync(_resumeAt);
            return lost.Elapsed;
        }));
        await Task.Delay(1000);
        stop.Cancel();
        await traffic;
        await Stayer.Client.SendAsync("end", id: 100_000);
        await Stayer.WaitForAsync("end", TimeSpan.FromSeconds(30));
        await Task.WhenAll(Movers.Select(m => m.WaitForAsync("end", TimeSpan.FromSeconds(30))));
        return resumed;
    }

    /// <summary>Every mover resumed once and holds the stayer's numbered history: no gap, nothing twice.</summary>
    public void AssertOneHistory()
    {
        foreach (var mover in Movers)
        {
            Assert.Equal(1, mover.Resumes);
            Assert.Equal(Stayer.Numbered(), mover.Numbered());
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Stayer.DisposeAsync();
        foreach (var mover in Movers)
        {
            await mover.DisposeAsync();
        }
    }
}
