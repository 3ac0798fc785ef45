using System.Diagnostics;
using System.Net.WebSockets;
using RoomActors.Tests.Protocol;

namespace RoomActors.Tests.Distributed;

/// <summary>A v1 client that records every room message and ack in the background, and can resume after a drop.</summary>
internal sealed class Recorder : IAsyncDisposable
{
    private readonly List<(long Seq, string Text, long At)> _messages = new();
    private readonly List<long> _acks = new();
    private readonly TaskCompletionSource _dropped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _loop = Task.CompletedTask;

    private Recorder(V1Client client) => Client = client;

    public V1Client Client { get; private set; }

    public string Id => Client.Id;

    public int Resumes { get; private set; }

    /// <summary>Completes when the socket ends (or stays silent for two minutes).</summary>
    public Task Dropped => _dropped.Task;

    /// <summary>How the socket ended, once <see cref="Dropped"/> completed: the close code and reason, null for none.</summary>
    public (WebSocketCloseStatus? Status, string? Reason) Closed { get; private set; }

    public TimeSpan LongestGap
    {
        get
        {
            lock (_messages)
            {
                return TimeSpan.FromMilliseconds(_messages.Zip(_messages.Skip(1), (a, b) => b.At - a.At).DefaultIfEmpty(0).Max());
            }
        }
    }

    public static async Task<Recorder> StartAsync(Uri room)
    {
        var recorder = new Recorder(await V1Client.ConnectAsync(room));
        recorder._loop = recorder.ReadAsync();
        return recorder;
    }

    public async Task ResumeAsync(Uri room)
    {
        await _loop;
        var client = await V1Client.ResumeAsync(room, Client.Token, Client.LastSeq, Client.Id);
        var resumed = await client.NextAsync();
        Assert.Equal("resumed", resumed.Kind);
        Client = client;
        Resumes++;
        _loop = ReadAsync();
    }

    public List<string> Texts()
    {
        lock (_messages)
        {
            return [.. _messages.Select(m => m.Text)];
        }
    }

    public List<(long, string)> Numbered()
    {
        lock (_messages)
        {
            return [.. _messages.Select(m => (m.Seq, m.Text))];
        }
    }

    public long[] AckedIds()
    {
        lock (_messages)
        {
            return [.. _acks];
        }
    }

    public async Task WaitForAsync(string text, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (!Texts().Contains(text))
        {
            if (deadline.Elapsed > timeout)
            {
                throw new TimeoutException($"{Id} never received '{text}' (had {Texts().Count} messages)");
            }

            await Task.Delay(50);
        }
    }

    private async Task ReadAsync()
    {
        try
        {
            while (true)
            {
                var frame = await Client.NextAsync(TimeSpan.FromMinutes(2));
                lock (_messages)
                {
                    if (frame.Kind == "m")
                    {
                        _messages.Add((frame.Seq, frame.Text, Environment.TickCount64));
                    }
                    else if (frame.Kind == "ack")
                    {
                        _acks.Add(long.Parse(frame.Fields[0]));
                    }
                }
            }
        }
        catch (Exception)
        {
            // The socket ended (the channel completed) or stayed silent for two minutes: a drop, for the test to handle.
        }

        try
        {
            var (status, reason, _) = await Client.Client.WaitClosedAsync(TimeSpan.FromSeconds(1));
            Closed = (status, reason);
        }
        catch (TimeoutException)
        {
            // Silent, not closed: no close code to record.
        }

        _dropped.TrySetResult();
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await _loop;
    }
}
