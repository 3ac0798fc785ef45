using RoomActors.Documents;

namespace RoomActors.Samples;

/// <summary>
/// <c>doc</c>: a Yjs document for the stock <c>y-websocket</c> provider,
/// <c>new WebsocketProvider("ws://HOST/rooms/doc", NAME, ydoc)</c>. Everything is in <see cref="DocumentRoom"/>; an
/// app derives its own to check who may edit (<c>OnUpdateAsync</c>) or to act on changes (<c>OnChangeAsync</c>).
/// </summary>
[Room("doc")]
public sealed class DocRoom : DocumentRoom
{
}
