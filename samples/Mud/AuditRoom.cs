using System.Web;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace RoomActors.Mud;

/// <summary>
/// <c>mud-audit/main</c>: the append-only log of what was said and what moderators did, kept for Code of Conduct cases.
/// Venue rooms and the hub send it entries (one-way room messages, after their own turn is saved); it stores them in
/// blocks of <see cref="BlockSize"/> (one record written per turn). Moderators read it over HTTP:
/// <c>GET /rooms/mud-audit/main?after=N&amp;limit=M</c> with a ticket (auth on) whose user is a moderator.
/// </summary>
[Room(Type)]
public sealed class AuditRoom : Room
{
    /// <summary>The room type.</summary>
    public const string Type = "mud-audit";

    /// <summary>The one audit room's name.</summary>
    public const string Main = "main";

    /// <summary>Entries per stored record.</summary>
    public const int BlockSize = 100;

    private List<AuditEntry> _block = new();
    private long _count;

    private MudOptions Options => ServiceProvider.GetRequiredService<IOptions<MudOptions>>().Value;

    /// <inheritdoc />
    protected override async Task OnStartAsync()
    {
        _count = await Storage.GetAsync<long>("count");
        _block = _count % BlockSize == 0 ? new() : await Storage.GetAsync<List<AuditEntry>>(BlockKey(_count)) ?? new();
    }

    /// <inheritdoc />
    protected override Task OnRoomMessageAsync(RoomCall call)
    {
        var entry = Wire.Read<AuditEntry>(call.Text) with { N = ++_count, Time = TimeProvider.GetUtcNow() };
        if ((entry.N - 1) % BlockSize == 0)
        {
            _block = new();
        }

        _block.Add(entry);
        Storage.Put(BlockKey(entry.N), _block);
        Storage.Put("count", _count);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    protected override async Task<RoomHttpResponse> OnRequestAsync(RoomHttpRequest request)
    {
        if (request.UserId is null)
        {
            return RoomHttpResponse.Text("The audit log is for moderators: turn auth on (RoomActors:Auth:SigningKey) and send a moderator's ticket.", 403);
        }

        var moderator = request.Claims.GetValueOrDefault("mod") == "true" || Options.Moderators.Contains(request.UserId);
        if (!moderator)
        {
            return RoomHttpResponse.Text("The audit log is for moderators only.", 403);
        }

        if (request.Method != "GET")
        {
            return RoomHttpResponse.Text("The audit log is append-only: GET it.", 405);
        }

        var query = HttpUtility.ParseQueryString(request.QueryString);
        var after = long.TryParse(query["after"], out var a) ? Math.Max(0, a) : 0;
        var limit = int.TryParse(query["limit"], out var l) ? Math.Clamp(l, 1, 1000) : 100;
        var entries = new List<AuditEntry>();
        for (var block = after / BlockSize; block * BlockSize < _count && entries.Count < limit; block++)
        {
            var items = block == (_count - 1) / BlockSize ? _block : await Storage.GetAsync<List<AuditEntry>>($"b:{block:D10}") ?? [];
            entries.AddRange(items.Where(e => e.N > after).Take(limit - entries.Count));
        }

        return RoomHttpResponse.Json(Wire.Write(new { entries, next = entries.Count > 0 ? entries[^1].N : after, total = _count }));
    }

    private static string BlockKey(long n) => $"b:{(n - 1) / BlockSize:D10}";
}

/// <summary>One line of the audit log.</summary>
/// <param name="N">Its number (1, 2, …), given by the audit room.</param>
/// <param name="Kind">say, me, dance, whisper, shout, report, or a moderator action (delete, ban, unban, evacuate, close, open, reload).</param>
/// <param name="Room">Where.</param>
/// <param name="User">Who (user id).</param>
/// <param name="Name">Who (display name).</param>
/// <param name="Text">What was said, or the action's reason.</param>
/// <param name="Target">Whom it was to or about (a whisper's recipient, a banned name, a deleted message id).</param>
/// <param name="Time">When the audit room stored it.</param>
public sealed record AuditEntry(long N, string Kind, string Room, string User, string Name, string? Text = null, string? Target = null, DateTimeOffset Time = default);
