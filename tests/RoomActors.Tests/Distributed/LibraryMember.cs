using System.Diagnostics;
using RoomActors.Client;

namespace RoomActors.Tests.Distributed;

/// <summary>
/// A client of a room through the .NET client library (<see cref="RoomSocket"/>, which resumes on its own), knowing a
/// home server and a fallback, recording every room message in the background.
/// </summary>
internal sealed class LibraryMember : IAsyncDisposable
{
    private readonly List<(long Seq, string Text, long At)> _messages = new();
    private readonly CancellationTokenSource _stop = new();
    private Task _reader = Task.CompletedTask;
    private int _resyncs;

    private LibraryMember(RoomSocket socket) => Socket = socket;

    public RoomSocket Socket { get; }

    /// <summary>How many times the server could not resume the connection (the socket then connected fresh).</summary>
    public int Resyncs => Volatile.Read(ref _resyncs);

    /// <summary>Set when the socket stopped for good (a final close, not a disposal): the close code and reason.</summary>
    public RoomClosedException? ClosedForGood { get; private set; }

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

    public static async Task<LibraryMember> StartAsync(Uri home, Uri other, string type, string room)
    {
        var options = new RoomSocketOptions { Server = home, Type = type, Name = room, MinReconnectDelay = TimeSpan.FromMilliseconds(100) };
        options.FallbackServers.Add(other);
        var member = new LibraryMember(new RoomSocket(options));
        member.Socket.Resynced += (_, _) => Interlocked.Increment(ref member._resyncs);
        await member.Socket.ConnectAsync();
        member._reader = Task.Run(member.ReadAsync);
        return member;
    }

    public List<(long Seq, string Text)> History()
    {
        lock (_messages)
        {
            return [.. _messages.Select(m => (m.Seq, m.Text))];
        }
    }

    public async Task WaitForAsync(string text, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!History().Any(h => h.Text == text))
        {
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"{Socket.ConnectionId} never received '{text}'");
            }

            await Task.Delay(50);
        }
    }

    private async Task ReadAsync()
    {
        try
        {
            await foreach (var message in Socket.ReadAllAsync(_stop.Token))
            {
                lock (_messages)
                {
                    _messages.Add((message.Seq, message.Text, Environment.TickCount64));
                }
            }
        }
        catch (RoomClosedException ex)
        {
            // Closed for good by the server: recorded for the test to report; the history says what arrived.
            ClosedForGood = ex;
        }
        catch (Exception)
        {
            // Stopped (disposal): the history says what arrived.
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        await Socket.DisposeAsync();
        await _reader;
        _stop.Dispose();
    }
}
