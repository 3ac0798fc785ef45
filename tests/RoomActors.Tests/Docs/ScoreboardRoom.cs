using RoomActors;

[Room("scoreboard")]
public sealed class ScoreboardRoom : Room<Scores>
{
    protected override Task OnBeforeConnectAsync(BeforeConnectContext context)
    {
        if (context.UserId is null && context.Query["guest"] != "yes")
        {
            context.Deny(401, "sign in, or join as ?guest=yes");
        }

        return Task.CompletedTask;
    }

    protected override async Task OnMessageAsync(Connection sender, RoomMessage message)
    {
        State.Total++;                                   // typed state: saved at the end of the turn
        Storage.Put($"by:{sender.Id}", message.Text);    // key/value: one record per key
        if (GetAlarm() is null)
        {
            SetAlarm(DateTimeOffset.UtcNow.AddSeconds(10)); // durable: fires even if the room slept or moved
        }

        Broadcast($"total {State.Total}, last from {await Storage.GetAsync<string>($"by:{sender.Id}")}");
    }

    protected override Task OnAlarmAsync(AlarmInfo alarm)
    {
        Broadcast($"summary: {State.Total} messages, {Storage.ListKeys("by:").Count} senders");
        return Task.CompletedTask;
    }

    protected override Task<RoomHttpResponse> OnRequestAsync(RoomHttpRequest request) =>
        Task.FromResult(RoomHttpResponse.Json($$"""{"total":{{State.Total}}}"""));
}

[GenerateSerializer]
public sealed class Scores
{
    [Id(0)] public int Total { get; set; }
}
