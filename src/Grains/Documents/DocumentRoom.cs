using System.Globalization;
using System.Text.Json;
using System.Web;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace RoomActors.Documents;

/// <summary>
/// A collaborative document that the stock Yjs <c>y-websocket</c> provider edits without a line of client code
/// changed: give it <c>new WebsocketProvider("ws://HOST/rooms/TYPE", NAME, ydoc)</c> (it connects to
/// <c>/rooms/TYPE/NAME</c>).
/// <code>
/// [Room("notes")]
/// public sealed class NotesRoom : DocumentRoom
/// {
///     protected override ValueTask&lt;string?&gt; OnUpdateAsync(Connection editor, ReadOnlyMemory&lt;byte&gt; update) =>
///         new(editor.HasTag("viewer") ? "this document is read-only for you" : null);
/// }
/// </code>
/// </summary>
/// <remarks>
/// <para>
/// The room is the authority. It keeps the document as Yjs updates (it does not integrate the CRDT: it merges and diffs
/// the encoded updates, <see cref="YUpdate"/>), answers a client's sync step 1 with exactly what the client lacks, and
/// relays each update to the other clients in the room's order. Where it merges, it drops the content of deleted items
/// as a <c>Y.Doc</c> with <c>gc</c> on does (y-websocket's server's default): clients that keep deleted content for
/// their own history (<c>gc: false</c>) do not get it back from the room. Each update is appended to the room's storage at the
/// end of its turn, before anyone hears of it (the output gate); when the stored updates pass
/// <see cref="DocumentOptions.CompactAfterBytes"/> they are merged into a snapshot. Awareness (cursors, names) is
/// relayed, never stored, and dropped for a client that leaves.
/// </para>
/// <para>
/// Bad input closes only its sender, and the document and the other clients are untouched: a truncated or malformed
/// message with <see cref="Malformed"/>, a text frame or an unknown message type with <see cref="Unsupported"/>, an
/// update over <see cref="DocumentOptions.MaxUpdateBytes"/> or one that would make the document larger than
/// <see cref="DocumentOptions.MaxDocumentBytes"/> with <see cref="TooLarge"/>, an update <see cref="OnUpdateAsync"/>
/// refuses with <see cref="Refused"/>. Each reason says what was wrong. The codes are in 4400–4499, which y-websocket
/// takes as final: it reports the close (its <c>closed</c> event) instead of reconnecting to send the same update again.
/// </para>
/// <para>
/// <c>GET /rooms/TYPE/NAME</c> answers the document as one Yjs update (<c>application/octet-stream</c>; load it with
/// <c>Y.applyUpdate</c>), and with <c>?format=json</c> (or <c>Accept: application/json</c>) the text of each root-level
/// <c>Y.Text</c> by name: <c>{"text":"…"}</c>. Override <see cref="Room.OnRequestAsync"/> to answer more, and call
/// the base for these.
/// </para>
/// </remarks>
public abstract class DocumentRoom : Room
{
    /// <summary>Close code of a truncated or malformed y-websocket message or Yjs update.</summary>
    public const int Malformed = 4400;

    /// <summary>Close code of an update <see cref="OnUpdateAsync"/> refused (the reason is the hook's).</summary>
    public const int Refused = 4422;

    /// <summary>Close code of an update over <see cref="DocumentOptions.MaxUpdateBytes"/>, or one that would make the document larger than <see cref="DocumentOptions.MaxDocumentBytes"/>.</summary>
    public const int TooLarge = 4413;

    /// <summary>Close code of a text frame, or of a message type the y-websocket protocol does not let a client send.</summary>
    public const int Unsupported = 4415;

    /// <summary>The storage key of the snapshot (the merged document up to a log position).</summary>
    private const string SnapshotKey = "y:snapshot";

    /// <summary>The storage keys of the updates after the snapshot: <c>y:u:</c> and a 16-digit sequence number.</summary>
    private const string LogPrefix = "y:u:";

    /// <summary>The encoded state vector of a client that has nothing (no clients: a count of zero).</summary>
    private static ReadOnlySpan<byte> EmptyStateVector => [0];

    private bool _loaded;
    private byte[] _document = YUpdate.Empty.ToArray(); // the merged document, without the updates in _tail
    private readonly List<byte[]> _tail = new(); // the updates since _document was merged, oldest first
    private int _tailBytes;
    private byte[]? _stateVector; // of the whole document; null when it must be computed again
    private long _nextSeq; // the next update's log number
    private long _snapshotUpTo; // the log numbers below this are in the snapshot
    private long _logBytes; // the bytes of the updates stored after the snapshot
    private readonly List<string> _covered = new(); // log keys a snapshot covers, dropped once that snapshot is written
    private long _coveredAfterTurn; // ... written by this turn (0: a snapshot that was read, so written)
    // Awareness as y-protocols keeps it: each Yjs client's clock and state (null once removed, the clock kept so that an
    // older state cannot come back), and the connection that first announced it (its owner: dropped when that closes).
    private readonly Dictionary<ulong, (ulong Clock, string? State, string Owner)> _awareness = new();
    private DocumentOptions? _documentOptions;

    /// <summary>The texts as they are: an <c>application/json</c> answer is not HTML, so nothing needs escaping beyond JSON's own.</summary>
    private static readonly JsonSerializerOptions TextsJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private DocumentOptions Limits => _documentOptions ??= ServiceProvider.GetService<IOptions<DocumentOptions>>()?.Value ?? new DocumentOptions();

    /// <summary>
    /// Runs before an update from <paramref name="editor"/> is applied (it is valid Yjs and within the limits). Return a
    /// reason to refuse it: the editor is closed with <see cref="Refused"/> and that reason, and the document is untouched.
    /// Return null to apply it. The default applies every update.
    /// </summary>
    /// <param name="editor">The connection that sent the update.</param>
    /// <param name="update">The Yjs update (format v1); <see cref="YUpdate"/> reads it.</param>
    protected virtual ValueTask<string?> OnUpdateAsync(Connection editor, ReadOnlyMemory<byte> update) => new((string?)null);

    /// <summary>
    /// Runs after an update was applied, in the same turn (it is stored at the end of the turn, with what this hook
    /// stores). <see cref="GetDocument"/> includes it.
    /// </summary>
    /// <param name="editor">The connection that sent the update.</param>
    /// <param name="update">The update.</param>
    protected virtual Task OnChangeAsync(Connection editor, ReadOnlyMemory<byte> update) => Task.CompletedTask;

    /// <summary>Runs when a connection has closed, after its awareness states were dropped for the others.</summary>
    /// <param name="connection">The connection.</param>
    /// <param name="code">The close code.</param>
    /// <param name="reason">The close reason.</param>
    protected virtual Task OnLeaveAsync(Connection connection, int code, string reason) => Task.CompletedTask;

    /// <summary>The whole document as one Yjs update (format v1). Call it from a hook.</summary>
    protected ReadOnlyMemory<byte> GetDocument()
    {
        if (!_loaded)
        {
            throw new InvalidOperationException("The document loads with the room's first event: call GetDocument from a hook.");
        }

        return Merged();
    }

    /// <summary>The y-websocket protocol. Sealed: hook <see cref="OnUpdateAsync"/> and <see cref="OnChangeAsync"/> instead.</summary>
    protected sealed override async Task OnMessageAsync(Connection sender, RoomMessage message)
    {
        if (message.IsText)
        {
            sender.Close(Unsupported, "a document room speaks the binary y-websocket protocol; text frames are not part of it");
            return;
        }

        await LoadAsync();
        DropCovered();
        YMessageType type;
        YSyncType sync;
        ReadOnlyMemory<byte> payload;
        try
        {
            (type, sync, payload) = YMessages.Read(message.Data);
        }
        catch (FormatException ex)
        {
            // Policy: bad input closes its sender only; nothing of it was applied.
            sender.Close(Malformed, Reason("malformed y-websocket message: " + ex.Message));
            return;
        }
        catch (NotSupportedException ex)
        {
            // Policy: a message a client may not send closes its sender only.
            sender.Close(Unsupported, Reason(ex.Message));
            return;
        }

        switch (type)
        {
            case YMessageType.Sync when sync == YSyncType.Step1:
                Answer(sender, payload);
                break;
            case YMessageType.Sync:
                await ApplyAsync(sender, payload);
                break;
            case YMessageType.Awareness:
                Relay(sender, payload, message);
                break;
            case YMessageType.QueryAwareness:
                SendAwareness(sender);
                break;
        }
    }

    /// <summary>Drops the closed connection's awareness states for the others, then runs <see cref="OnLeaveAsync"/>.</summary>
    protected sealed override Task OnCloseAsync(Connection connection, int code, string reason)
    {
        var gone = _awareness.Where(a => a.Value.Owner == connection.Id && a.Value.State is not null)
            .Select(a => new AwarenessEntry(a.Key, a.Value.Clock + 1, "null")).ToList();
        if (gone.Count > 0)
        {
            foreach (var entry in gone)
            {
                _awareness[entry.ClientId] = (entry.Clock, null, connection.Id);
            }

            Broadcast(YMessages.Awareness(gone));
        }

        return OnLeaveAsync(connection, code, reason);
    }

    /// <summary>
    /// <c>GET</c> (the path of the room itself): the document as a Yjs update, or with <c>?format=json</c> or
    /// <c>Accept: application/json</c> the text of its root-level <c>Y.Text</c> fields as a JSON object. Other methods:
    /// 405; other paths: 404.
    /// </summary>
    protected override async Task<RoomHttpResponse> OnRequestAsync(RoomHttpRequest request)
    {
        if (request.Path.Trim('/').Length != 0)
        {
            return RoomHttpResponse.Text($"a document room answers GET on its own path only, not on '/{request.Path}'", 404);
        }

        if (!string.Equals(request.Method, "GET", StringComparison.OrdinalIgnoreCase))
        {
            return new RoomHttpResponse
            {
                Status = 405,
                Headers = new Dictionary<string, string> { ["allow"] = "GET", ["content-type"] = "text/plain; charset=utf-8" },
                Body = "a document room answers GET (the document as a Yjs update, or ?format=json for its texts); edit it over y-websocket"u8.ToArray(),
            };
        }

        await LoadAsync();
        DropCovered();
        var format = HttpUtility.ParseQueryString(request.QueryString).Get("format");
        var json = format is not null
            ? string.Equals(format, "json", StringComparison.OrdinalIgnoreCase)
            : request.Headers.TryGetValue("accept", out var accept) && accept.Contains("application/json", StringComparison.OrdinalIgnoreCase);
        if (format is not null && !json && !string.Equals(format, "yjs", StringComparison.OrdinalIgnoreCase))
        {
            return RoomHttpResponse.Text($"unknown format '{format}': use format=json for the texts, or leave it out for the Yjs update", 400);
        }

        if (json)
        {
            return RoomHttpResponse.Json(JsonSerializer.Serialize(YUpdate.ReadTexts(Merged().Span), TextsJson));
        }

        return new RoomHttpResponse
        {
            Headers = new Dictionary<string, string> { ["content-type"] = "application/octet-stream" },
            Body = Merged().ToArray(),
        };
    }

    /// <summary>Sync step 1 from a client: what it lacks (step 2), the room's state vector (step 1: what the room lacks), and who is here.</summary>
    private void Answer(Connection sender, ReadOnlyMemory<byte> stateVector)
    {
        ReadOnlyMemory<byte> diff;
        try
        {
            // A client that has nothing (a new one: the empty state vector) gets the merged document itself, an update
            // with everything: diffing would parse and encode the whole document again for the same content.
            diff = stateVector.Span.SequenceEqual(EmptyStateVector) ? Merged() : YUpdate.Diff(Merged().Span, stateVector.Span);
        }
        catch (FormatException ex)
        {
            // Policy: the client's state vector is bad input (the document itself was validated when it was applied).
            sender.Close(Malformed, Reason("malformed state vector in sync step 1: " + ex.Message));
            return;
        }

        sender.Send(YMessages.SyncStep2(diff.Span));
        sender.Send(YMessages.SyncStep1(StateVector()));
        SendAwareness(sender);
    }

    /// <summary>Sync step 2 or an update: checked, stored at the end of the turn, relayed to the others.</summary>
    private async Task ApplyAsync(Connection sender, ReadOnlyMemory<byte> update)
    {
        var limits = Limits;
        if (update.Length > limits.MaxUpdateBytes)
        {
            sender.Close(TooLarge, Reason(
                $"an update of {update.Length} bytes is over this server's limit of {limits.MaxUpdateBytes} ({DocumentOptions.Section}:{nameof(DocumentOptions.MaxUpdateBytes)})"));
            return;
        }

        try
        {
            YUpdate.Validate(update.Span);
        }
        catch (FormatException ex)
        {
            // Policy: bad input closes its sender only; nothing of it was applied.
            sender.Close(Malformed, Reason("malformed Yjs update: " + ex.Message));
            return;
        }

        if (update.Span.SequenceEqual(YUpdate.Empty.Span))
        {
            return; // a client's step 2 with nothing the room lacks
        }

        if (await OnUpdateAsync(sender, update) is { } refused)
        {
            sender.Close(Refused, Reason(refused));
            return;
        }

        if (_document.Length + _tailBytes + update.Length > limits.MaxDocumentBytes)
        {
            // The sum overstates the merged size (updates overlap): merge to know.
            var merged = YGarbage.Collect(YUpdate.Merge([Merged(), update]));
            if (merged.Length > limits.MaxDocumentBytes)
            {
                sender.Close(TooLarge, Reason(
                    $"the document would be {merged.Length} bytes, over this server's limit of {limits.MaxDocumentBytes} ({DocumentOptions.Section}:{nameof(DocumentOptions.MaxDocumentBytes)})"));
                return;
            }
        }

        var copy = update.ToArray();
        _tail.Add(copy);
        _tailBytes += copy.Length;
        _stateVector = null;
        Storage.Put(LogKey(_nextSeq++), copy);
        _logBytes += copy.Length;
        Broadcast(YMessages.SyncUpdate(copy), [sender.Id]);
        await OnChangeAsync(sender, copy);
        if (_logBytes > limits.CompactAfterBytes)
        {
            Compact();
        }
    }

    /// <summary>Relays an awareness update to the others and remembers the states (in memory only) for newcomers.</summary>
    private void Relay(Connection sender, ReadOnlyMemory<byte> update, RoomMessage message)
    {
        List<AwarenessEntry> entries;
        try
        {
            entries = YMessages.ReadAwareness(update.Span);
        }
        catch (FormatException ex)
        {
            // Policy: bad input closes its sender only.
            sender.Close(Malformed, Reason("malformed awareness update: " + ex.Message));
            return;
        }

        // Applied as y-protocols' applyAwarenessUpdate does; only what changed is relayed. Clients send on what they
        // hear, so without this an update would bounce, and the last relayer would take the state over.
        var changed = new List<AwarenessEntry>(entries.Count);
        foreach (var entry in entries)
        {
            var known = _awareness.TryGetValue(entry.ClientId, out var current);
            var clock = known ? current.Clock : 0;
            if (clock < entry.Clock || (clock == entry.Clock && entry.Removed && known && current.State is not null))
            {
                var owner = known && current.State is not null ? current.Owner : sender.Id;
                _awareness[entry.ClientId] = (entry.Clock, entry.Removed ? null : entry.State, owner);
                changed.Add(entry);
            }
        }

        if (changed.Count == entries.Count)
        {
            Broadcast(message, [sender.Id]);
        }
        else if (changed.Count > 0)
        {
            Broadcast(YMessages.Awareness(changed), [sender.Id]);
        }
    }

    private void SendAwareness(Connection to)
    {
        var present = _awareness.Where(a => a.Value.State is not null).Select(a => new AwarenessEntry(a.Key, a.Value.Clock, a.Value.State!)).ToList();
        if (present.Count > 0)
        {
            to.Send(YMessages.Awareness(present));
        }
    }

    /// <summary>Reads the snapshot and the updates after it, once per activation (the room's first event).</summary>
    private async Task LoadAsync()
    {
        if (_loaded)
        {
            return;
        }

        var snapshot = await Storage.GetAsync<DocumentSnapshot>(SnapshotKey);
        _snapshotUpTo = snapshot?.UpTo ?? 0;
        _nextSeq = _snapshotUpTo;
        var parts = new List<ReadOnlyMemory<byte>>();
        if (snapshot?.Update is { Length: > 0 } data)
        {
            parts.Add(data);
        }

        foreach (var (key, update) in await Storage.ListAsync<byte[]>(LogPrefix))
        {
            var seq = long.Parse(key.AsSpan(LogPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture);
            if (seq < _snapshotUpTo)
            {
                _covered.Add(key); // the snapshot, which was read, has it: dropped with the next event
                continue;
            }

            if (update is not null)
            {
                parts.Add(update);
                _logBytes += update.Length;
            }

            _nextSeq = Math.Max(_nextSeq, seq + 1);
        }

        _document = parts.Count switch
        {
            0 => YUpdate.Empty.ToArray(),
            1 => parts[0].ToArray(),
            _ => YGarbage.Collect(YUpdate.Merge(parts)),
        };
        _coveredAfterTurn = 0;
        _loaded = true;
    }

    /// <summary>Writes the merged document as the snapshot; the updates it covers are dropped once it is written.</summary>
    private void Compact()
    {
        Storage.Put(SnapshotKey, new DocumentSnapshot(_nextSeq, Merged().ToArray()));
        for (var seq = _snapshotUpTo; seq < _nextSeq; seq++)
        {
            _covered.Add(LogKey(seq));
        }

        _snapshotUpTo = _nextSeq;
        _logBytes = 0;
        _coveredAfterTurn = TurnNumber;
    }

    /// <summary>
    /// Drops the stored updates a written snapshot covers. Not in the snapshot's own turn: the room's records are written
    /// side by side, and a write that failed half way must not leave the log dropped and the snapshot unwritten.
    /// </summary>
    private void DropCovered()
    {
        if (_covered.Count > 0 && SavedTurn >= _coveredAfterTurn)
        {
            foreach (var key in _covered)
            {
                Storage.Delete(key);
            }

            _covered.Clear();
        }
    }

    private ReadOnlyMemory<byte> Merged()
    {
        if (_tail.Count > 0)
        {
            // Deleted content goes with the merge, as a Y.Doc with gc on (y-websocket's server) drops it.
            _document = YGarbage.Collect(YUpdate.Merge([_document, .. _tail.Select(t => (ReadOnlyMemory<byte>)t)]));
            _tail.Clear();
            _tailBytes = 0;
        }

        return _document;
    }

    private byte[] StateVector() => _stateVector is not null && _tail.Count == 0 ? _stateVector : _stateVector = YUpdate.StateVector(Merged().Span);

    private static string LogKey(long seq) => LogPrefix + seq.ToString("D16", CultureInfo.InvariantCulture);

    /// <summary>A close reason fits in a close frame (123 bytes of UTF-8).</summary>
    private static string Reason(string reason) => reason.Length <= 120 ? reason : reason[..117] + "...";
}

/// <summary>The stored snapshot: the merged document with every log update below <paramref name="UpTo"/>.</summary>
internal sealed record DocumentSnapshot(long UpTo, byte[] Update);
