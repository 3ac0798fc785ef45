namespace RoomActors.Tests.Infrastructure;

/// <summary>
/// The total-order check: the first `senders` clients each send `perSender`
/// messages at once; every client must receive all of them, in one identical order, each sender's in the order sent.
/// </summary>
public static class OrderCheck
{
    public static async Task<List<string>> RunAsync(IReadOnlyList<TestClient> clients, int senders, int perSender)
    {
        var total = senders * perSender;
        var receiving = clients.Select(async client =>
        {
            var seen = new List<string>(total);
            for (var i = 0; i < total; i++)
            {
                seen.Add(await client.ReceiveTextAsync());
            }

            return seen;
        }).ToList();
        var sending = clients.Take(senders).Select((client, s) => Task.Run(async () =>
        {
            for (var m = 0; m < perSender; m++)
            {
                await client.SendAsync($"{s}:{m}");
            }
        }));
        await Task.WhenAll(sending);
        var sequences = await Task.WhenAll(receiving);

        Assert.All(sequences, sequence => Assert.Equal(sequences[0], sequence));
        Assert.Equal(total, sequences[0].Distinct().Count());
        for (var s = 0; s < senders; s++)
        {
            Assert.Equal(Enumerable.Range(0, perSender).Select(m => $"{s}:{m}"),
                sequences[0].Where(x => x.StartsWith($"{s}:", StringComparison.Ordinal)));
        }

        return sequences[0];
    }
}
