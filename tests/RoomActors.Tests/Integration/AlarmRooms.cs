using System.Collections.Concurrent;

namespace RoomActors.Tests.Integration;

/// <summary>
/// Alarms over text commands: <c>set MS</c> (alarm in MS milliseconds), <c>get</c>, <c>del</c>, <c>fail N</c> (the
/// hook throws on its first N attempts). Each firing is broadcast as <c>alarm retry=N</c> and recorded per room.
/// </summary>
[Room("it-alarm")]
public sealed class AlarmRoom : Room
{
    public static readonly ConcurrentDictionary<string, ConcurrentQueue<AlarmInfo>> Fired = new();
    public static readonly ConcurrentDictionary<string, int> Starts = new();
    private static readonly ConcurrentDictionary<string, int> FailuresLeft = new();

    protected override Task OnStartAsync()
    {
        Starts.AddOrUpdate(RoomName, 1, (_, n) => n + 1);
        return Task.CompletedTask;
    }

    protected override Task OnMessageAsync(Connection sender, RoomMessage message)
    {
        var parts = message.Text.Split(' ');
        switch (parts[0])
        {
            case "set":
                SetAlarm(TimeProvider.GetUtcNow().AddMilliseconds(int.Parse(parts[1])));
                sender.Send("set");
                break;
            case "get":
                sender.Send(GetAlarm() is { } at ? "at " + at.ToUnixTimeMilliseconds() : "none");
                break;
            case "del":
                DeleteAlarm();
                sender.Send("deleted");
                break;
            case "fail":
                FailuresLeft[RoomName] = int.Parse(parts[1]);
                sender.Send("failing");
                break;
        }

        return Task.CompletedTask;
    }

    protected override Task OnAlarmAsync(AlarmInfo alarm)
    {
        if (FailuresLeft.TryGetValue(RoomName, out var left) && left > 0)
        {
            FailuresLeft[RoomName] = left - 1;
            throw new InvalidOperationException("alarm hook fails on demand (test)");
        }

        Fired.GetOrAdd(RoomName, _ => new()).Enqueue(alarm);
        Broadcast($"alarm retry={alarm.RetryCount}");
        return Task.CompletedTask;
    }
}
