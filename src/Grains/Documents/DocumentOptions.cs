using Microsoft.Extensions.Options;

namespace RoomActors.Documents;

/// <summary>
/// Limits and storage of document rooms (<see cref="DocumentRoom"/>). Configuration section <c>RoomActors:Documents</c>
/// (bound by the silo host and checked when it starts).
/// </summary>
public sealed class DocumentOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "RoomActors:Documents";

    /// <summary>
    /// The largest update one message may carry, in bytes: a larger one closes its sender with <see cref="DocumentRoom.TooLarge"/> and the document is
    /// untouched. A client that was offline sends all its edits as one update when it comes back. Keep it below the
    /// gateways' <c>RoomActors:Gateway:MaxMessageBytes</c> (1 MiB by default), which refuses larger frames first.
    /// Default 512 KiB.
    /// </summary>
    public int MaxUpdateBytes { get; set; } = 512 * 1024;

    /// <summary>
    /// The largest document, in bytes of its merged Yjs update: an update that would make it larger closes its sender
    /// with <see cref="DocumentRoom.TooLarge"/>. A new client receives the whole document in one frame, so keep it below the gateways'
    /// <c>RoomActors:Gateway:OutboundQueueBytes</c> (4 MiB by default). Default 2 MiB.
    /// </summary>
    public int MaxDocumentBytes { get; set; } = 2 * 1024 * 1024;

    /// <summary>
    /// Each update is appended to the room's storage at the end of its turn; when the updates stored since the last
    /// snapshot pass this many bytes, the room writes the merged document as a new snapshot and drops those updates
    /// (once the snapshot is written). Default 256 KiB.
    /// </summary>
    public int CompactAfterBytes { get; set; } = 256 * 1024;
}

/// <summary>Checks <see cref="DocumentOptions"/> when the silo starts: every failure names the key, the value and what to change.</summary>
internal sealed class DocumentOptionsValidator : IValidateOptions<DocumentOptions>
{
    private const string Key = DocumentOptions.Section + ":";
    private static readonly DocumentOptions Defaults = new();

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, DocumentOptions options)
    {
        var failures = new List<string>();
        Positive(failures, nameof(DocumentOptions.MaxUpdateBytes), options.MaxUpdateBytes, Defaults.MaxUpdateBytes);
        Positive(failures, nameof(DocumentOptions.MaxDocumentBytes), options.MaxDocumentBytes, Defaults.MaxDocumentBytes);
        Positive(failures, nameof(DocumentOptions.CompactAfterBytes), options.CompactAfterBytes, Defaults.CompactAfterBytes);
        if (options.MaxUpdateBytes > options.MaxDocumentBytes)
        {
            failures.Add($"{Key}{nameof(DocumentOptions.MaxUpdateBytes)} ({options.MaxUpdateBytes}) is larger than "
                + $"{Key}{nameof(DocumentOptions.MaxDocumentBytes)} ({options.MaxDocumentBytes}); lower the first or raise the second.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Positive(List<string> failures, string option, int value, int fallback)
    {
        if (value < 1)
        {
            failures.Add($"{Key}{option} ({value}) must be at least 1 byte; the default is {fallback}.");
        }
    }
}
