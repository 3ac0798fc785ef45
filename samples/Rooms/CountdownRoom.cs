using System.Globalization;

namespace RoomActors.Samples;

/// <summary>
/// <c>countdown</c>: the text frame <c>start N</c> sets the room's alarm N seconds ahead (replacing any other) and
/// broadcasts <c>started N</c>; when the alarm fires every connection gets <c>ring</c>; <c>cancel</c> deletes it.
/// The alarm is durable: it rings even if the room was hibernated or its silo died in between.
/// </summary>
[Room("countdown")]
public sealed class CountdownRoom : Room
{
    /// <summary>The longest countdown, in seconds (a day).</summary>
    public const int MaxSeconds = 86_400;

    /// <inheritdoc />
    protected override Task OnMessageAsync(Connection sender, RoomMessage message)
    {
        var words = message.IsText ? message.Text.Split(' ') : [];
        switch (words)
        {
            case ["start", var text] when int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds <= MaxSeconds:
                SetAlarm(TimeProvider.GetUtcNow().AddSeconds(seconds));
                Broadcast($"started {seconds}");
                break;
            case ["cancel"]:
                DeleteAlarm();
                Broadcast("cancelled");
                break;
            default:
                sender.Send($"send 'start N' (0-{MaxSeconds} seconds) or 'cancel'");
                break;
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    protected override Task OnAlarmAsync(AlarmInfo alarm)
    {
        Broadcast("ring");
        return Task.CompletedTask;
    }
}
