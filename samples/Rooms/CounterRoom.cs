namespace RoomActors.Samples;

/// <summary>
/// <c>counter</c>: a text frame <c>inc</c> increments a durable integer and broadcasts the new value as decimal text;
/// <c>GET /rooms/counter/{name}</c> answers the current value as <c>text/plain</c>.
/// </summary>
[Room("counter")]
public sealed class CounterRoom : Room<CounterState>
{
    /// <inheritdoc />
    protected override Task OnMessageAsync(Connection sender, RoomMessage message)
    {
        if (message.IsText && message.Text == "inc")
        {
            State.Value++;
            Broadcast(State.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        else
        {
            sender.Send("unknown command; send inc");
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    protected override Task<RoomHttpResponse> OnRequestAsync(RoomHttpRequest request) =>
        Task.FromResult(request.Method == "GET" && request.Path.Length == 0
            ? RoomHttpResponse.Text(State.Value.ToString(System.Globalization.CultureInfo.InvariantCulture))
            : RoomHttpResponse.Text("GET /rooms/counter/{name} reads the value; send the text frame inc over a WebSocket to increment it.", 405));
}

/// <summary>The counter's durable state.</summary>
[GenerateSerializer]
public sealed class CounterState
{
    /// <summary>The current value.</summary>
    [Id(0)] public long Value { get; set; }
}
