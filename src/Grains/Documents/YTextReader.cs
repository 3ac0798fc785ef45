using System.Text;

namespace RoomActors.Documents;

/// <summary>
/// Reads the root-level texts of a parsed update: integrates its items into their sequences the way Yjs does (YATA:
/// each item between its origin and right origin, concurrent ones ordered by client id), then applies the delete set.
/// Items whose dependencies the update lacks stay out, as Yjs keeps them pending.
/// </summary>
internal sealed class YTextReader
{
    private readonly Dictionary<long, List<Node>> _store = new(); // each client's integrated nodes, by clock
    private readonly Dictionary<long, long> _state = new(); // each client's next clock
    private readonly Dictionary<string, Root> _roots = new(StringComparer.Ordinal);

    private sealed class Root
    {
        public Node? Start;
        public bool HasText; // a string, format or embed in its sequence
        public bool NotText; // map entries, or array values
    }

    private sealed class Node
    {
        public long Client;
        public long Clock;
        public long Length;
        public YId? Origin;
        public YId? RightOrigin;
        public bool IsGc;
        public string? Parent; // the root's name when the parent is a root type
        public bool HasParent; // false for a GC, or an item whose parent could not be found
        public string? ParentSub;
        public int ContentRef;
        public string? Text; // ContentString
        public Node? Left;
        public Node? Right;

        public long End => Clock + Length;
    }

    public static IReadOnlyDictionary<string, string> Read(YParsedUpdate update)
    {
        var reader = new YTextReader();
        reader.Integrate(update.Structs);
        var deleted = Deleted(update.DeleteSet);
        var texts = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, root) in reader._roots)
        {
            if (!root.HasText || root.NotText)
            {
                continue;
            }

            var text = new StringBuilder();
            for (var node = root.Start; node is not null; node = node.Right)
            {
                if (node.ContentRef == YStruct.ContentString)
                {
                    AppendUndeleted(text, node, deleted.GetValueOrDefault(node.Client));
                }
            }

            texts[name] = text.ToString();
        }

        return texts;
    }

    /// <summary>Integrates the structs in an order their dependencies allow (each client's in clock order).</summary>
    private void Integrate(List<YStruct> structs)
    {
        var queues = new Dictionary<long, Queue<YStruct>>();
        foreach (var group in structs.GroupBy(s => s.Client))
        {
            queues[group.Key] = new Queue<YStruct>(group.OrderBy(s => s.Clock)); // stable: as Yjs reads them
        }

        var blocked = new HashSet<long>();
        var onStack = new HashSet<long>();
        var stack = new Stack<long>();
        foreach (var first in queues.Keys.OrderByDescending(c => c))
        {
            stack.Push(first);
            onStack.Add(first);
            while (stack.Count > 0)
            {
                var client = stack.Peek();
                var queue = queues[client];
                if (blocked.Contains(client) || queue.Count == 0)
                {
                    stack.Pop();
                    onStack.Remove(client);
                    continue;
                }

                var next = queue.Peek();
                var state = _state.GetValueOrDefault(client);
                if (next.Kind == YStructKind.Skip || next.Clock > state)
                {
                    blocked.Add(client); // a gap: Yjs keeps the rest of this client pending
                    continue;
                }

                if (next.End <= state)
                {
                    queue.Dequeue(); // had it already
                    continue;
                }

                if (Missing(next, state) is { } dependency)
                {
                    var other = dependency.Client;
                    if (other == client || blocked.Contains(other) || onStack.Contains(other) || !queues.TryGetValue(other, out var needed) || needed.Count == 0)
                    {
                        blocked.Add(client); // never there: pending in Yjs
                    }
                    else
                    {
                        stack.Push(other);
                        onStack.Add(other);
                    }

                    continue;
                }

                queue.Dequeue();
                Add(next, state - next.Clock);
                _state[client] = next.End;
                if (stack.Count > 1)
                {
                    // Back to the struct that waited for this one (as Yjs): it may need no more of this client.
                    stack.Pop();
                    onStack.Remove(client);
                }
            }
        }
    }

    /// <summary>The first id the struct depends on that is not integrated yet.</summary>
    private YId? Missing(YStruct s, long state)
    {
        if (s.Kind != YStructKind.Item)
        {
            return null;
        }

        foreach (var id in new[] { s.Origin, s.RightOrigin, s.ParentId })
        {
            if (id is { } needed && (needed.Client == s.Client ? needed.Clock >= state : _state.GetValueOrDefault(needed.Client) <= needed.Clock))
            {
                return needed;
            }
        }

        return null;
    }

    private void Add(YStruct s, long offset)
    {
        if (offset > 0)
        {
            s = s.Slice(offset);
        }

        var node = new Node
        {
            Client = s.Client,
            Clock = s.Clock,
            Length = s.Length,
            Origin = s.Origin,
            RightOrigin = s.RightOrigin,
            IsGc = s.Kind == YStructKind.Gc,
            ContentRef = s.ContentRef,
            Text = s.ContentRef == YStruct.ContentString ? s.GetText() : null,
        };
        if (!_store.TryGetValue(s.Client, out var nodes))
        {
            _store[s.Client] = nodes = new List<Node>();
        }

        if (node.IsGc)
        {
            nodes.Add(node);
            return;
        }

        var left = s.Origin is { } o ? CleanEnd(o) : null;
        var right = s.RightOrigin is { } r ? CleanStart(r) : null;
        if (s.ParentKey is not null)
        {
            (node.Parent, node.HasParent, node.ParentSub) = (s.ParentKey, true, s.ParentSub);
        }
        else if (s.ParentId is not null)
        {
            (node.HasParent, node.ParentSub) = (true, s.ParentSub); // a nested type: not a root text
        }
        else if (left is { IsGc: false } || (left is null && right is { IsGc: false }))
        {
            var from = left ?? right!;
            (node.Parent, node.HasParent, node.ParentSub) = (from.Parent, from.HasParent, from.ParentSub);
        }

        nodes.Add(node);
        if (node.Parent is null || !node.HasParent || (left?.IsGc ?? false) || (right?.IsGc ?? false))
        {
            return; // not in a root's sequence (Yjs turns an item next to a GC into a GC)
        }

        if (!_roots.TryGetValue(node.Parent, out var root))
        {
            _roots[node.Parent] = root = new Root();
        }

        if (node.ParentSub is not null || s.ContentRef is YStruct.ContentAny or YStruct.ContentJson or YStruct.ContentBinary or YStruct.ContentDoc)
        {
            root.NotText = true;
            return;
        }

        root.HasText |= s.ContentRef is YStruct.ContentString or YStruct.ContentFormat or YStruct.ContentEmbed;
        Place(root, node, left, right);
    }

    /// <summary>YATA, as Yjs's <c>Item.integrate</c>: between the origin and the right origin, after the items that conflict and win.</summary>
    private void Place(Root root, Node node, Node? left, Node? right)
    {
        if ((left is null && (right is null || right.Left is not null)) || (left is not null && left.Right != right))
        {
            var o = left is not null ? left.Right : root.Start;
            var conflicting = new HashSet<Node>();
            var beforeOrigin = new HashSet<Node>();
            while (o is not null && o != right)
            {
                beforeOrigin.Add(o);
                conflicting.Add(o);
                if (node.Origin == o.Origin)
                {
                    if (o.Client < node.Client)
                    {
                        left = o;
                        conflicting.Clear();
                    }
                    else if (node.RightOrigin == o.RightOrigin)
                    {
                        break; // the same integration points: the client id puts this one first
                    }
                }
                else if (o.Origin is { } oo && Find(oo) is { } originItem && beforeOrigin.Contains(originItem))
                {
                    if (!conflicting.Contains(originItem))
                    {
                        left = o;
                        conflicting.Clear();
                    }
                }
                else
                {
                    break;
                }

                o = o.Right;
            }
        }

        node.Left = left;
        if (left is not null)
        {
            node.Right = left.Right;
            left.Right = node;
        }
        else
        {
            node.Right = root.Start;
            root.Start = node;
        }

        if (node.Right is not null)
        {
            node.Right.Left = node;
        }
    }

    private Node? Find(YId id)
    {
        if (!_store.TryGetValue(id.Client, out var nodes))
        {
            return null;
        }

        int lo = 0, hi = nodes.Count - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            var node = nodes[mid];
            if (id.Clock < node.Clock)
            {
                hi = mid - 1;
            }
            else if (id.Clock >= node.End)
            {
                lo = mid + 1;
            }
            else
            {
                return node;
            }
        }

        return null;
    }

    /// <summary>The node ending at <paramref name="id"/> (split there if it goes on).</summary>
    private Node? CleanEnd(YId id)
    {
        var node = Find(id);
        if (node is not null && !node.IsGc && id.Clock < node.End - 1)
        {
            Split(node, id.Clock - node.Clock + 1);
        }

        return node;
    }

    /// <summary>The node starting at <paramref name="id"/> (split there if it starts earlier).</summary>
    private Node? CleanStart(YId id)
    {
        var node = Find(id);
        if (node is not null && !node.IsGc && id.Clock > node.Clock)
        {
            return Split(node, id.Clock - node.Clock);
        }

        return node;
    }

    /// <summary>Yjs's <c>splitItem</c>: the node keeps <paramref name="diff"/> units, a new one after it has the rest.</summary>
    private Node Split(Node node, long diff)
    {
        var right = new Node
        {
            Client = node.Client,
            Clock = node.Clock + diff,
            Length = node.Length - diff,
            Origin = new YId(node.Client, node.Clock + diff - 1),
            RightOrigin = node.RightOrigin,
            Parent = node.Parent,
            HasParent = node.HasParent,
            ParentSub = node.ParentSub,
            ContentRef = node.ContentRef,
            Left = node,
            Right = node.Right,
        };
        if (node.Text is { } text)
        {
            var at = (int)diff;
            right.Text = text[at..];
            node.Text = text[..at];
            if (char.IsHighSurrogate(text[at - 1]))
            {
                // As Yjs: a surrogate pair split in two becomes two replacement characters.
                node.Text = text[..(at - 1)] + '\uFFFD';
                right.Text = '\uFFFD' + right.Text[1..];
            }
        }

        node.Length = diff;
        if (node.Right is not null)
        {
            node.Right.Left = right;
        }

        node.Right = right;
        var nodes = _store[node.Client];
        nodes.Insert(nodes.BinarySearch(node, ByClock.Instance) + 1, right);
        return right;
    }

    private sealed class ByClock : IComparer<Node>
    {
        public static readonly ByClock Instance = new();

        public int Compare(Node? x, Node? y) => x!.Clock.CompareTo(y!.Clock);
    }

    private static Dictionary<long, List<YDeleteRange>> Deleted(List<(long Client, List<YDeleteRange> Ranges)> deleteSet)
    {
        var deleted = new Dictionary<long, List<YDeleteRange>>();
        foreach (var (client, ranges) in deleteSet)
        {
            if (!deleted.TryGetValue(client, out var all))
            {
                deleted[client] = all = new List<YDeleteRange>();
            }

            all.AddRange(ranges);
        }

        foreach (var all in deleted.Values)
        {
            all.Sort((a, b) => a.Clock.CompareTo(b.Clock));
        }

        return deleted;
    }

    /// <summary>
    /// Appends the units of the node's text that no deleted range covers. Where a range starts or ends inside a
    /// surrogate pair, Yjs splits the item there and both halves become U+FFFD: so here too.
    /// </summary>
    private static void AppendUndeleted(StringBuilder text, Node node, List<YDeleteRange>? deleted)
    {
        var chars = node.Text!.ToCharArray();
        var gone = new bool[chars.Length];
        foreach (var range in deleted ?? [])
        {
            var from = Math.Max(range.Clock, node.Clock);
            var to = Math.Min(range.Clock + range.Length, node.End);
            if (from >= to)
            {
                continue;
            }

            foreach (var cut in new[] { from, to })
            {
                var at = (int)(cut - node.Clock);
                if (at > 0 && at < chars.Length && char.IsHighSurrogate(chars[at - 1]))
                {
                    chars[at - 1] = '\uFFFD';
                    chars[at] = '\uFFFD';
                }
            }

            Array.Fill(gone, true, (int)(from - node.Clock), (int)(to - from));
        }

        for (var i = 0; i < chars.Length; i++)
        {
            if (!gone[i])
            {
                text.Append(chars[i]);
            }
        }
    }
}
