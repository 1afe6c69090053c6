namespace RaftKv.Store.Collections;

/// <summary>
/// An immutable ordered map from byte-string keys (compared as unsigned bytes, as etcd's
/// <c>bytes.Compare</c>) to values: a persistent AVL tree. Every change returns a new map that
/// shares all untouched nodes with the old one, so a reader or a snapshot holds a consistent view
/// for free while the applier moves on.
/// </summary>
/// <remarks>
/// A range of N keys out of M costs O(log M + N). A change allocates O(log M) nodes. Keys are
/// kept by reference: callers must never mutate a key array after inserting it.
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1000", Justification = "Empty and FromSorted belong to the map type, as in System.Collections.Immutable.")]
public sealed class PersistentSortedMap<TValue>
    where TValue : class
{
    public static PersistentSortedMap<TValue> Empty { get; } = new(null);

    private readonly Node? root;

    private PersistentSortedMap(Node? root) => this.root = root;

    public int Count => root?.Count ?? 0;

    public bool IsEmpty => root is null;

    private sealed class Node(byte[] key, TValue value, Node? left, Node? right)
    {
        public readonly byte[] Key = key;
        public readonly TValue Value = value;
        public readonly Node? Left = left;
        public readonly Node? Right = right;
        public readonly int Height = Math.Max(left?.Height ?? 0, right?.Height ?? 0) + 1;
        public readonly int Count = (left?.Count ?? 0) + (right?.Count ?? 0) + 1;
    }

    private static int Compare(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b) => a.SequenceCompareTo(b);

    public bool TryGetValue(ReadOnlySpan<byte> key, out TValue value)
    {
        var node = root;
        while (node is not null)
        {
            var order = Compare(key, node.Key);
            if (order == 0)
            {
                value = node.Value;
                return true;
            }

            node = order < 0 ? node.Left : node.Right;
        }

        value = null!;
        return false;
    }

    /// <summary>A map with <paramref name="key"/> set to <paramref name="value"/>.</summary>
    public PersistentSortedMap<TValue> SetItem(byte[] key, TValue value) => new(Set(root, key, value));

    /// <summary>A map without <paramref name="key"/>; this map if the key is absent.</summary>
    public PersistentSortedMap<TValue> Remove(ReadOnlySpan<byte> key)
    {
        var newRoot = Remove(root, key, out var removed);
        return removed ? new(newRoot) : this;
    }

    /// <summary>Builds a map from pairs in strictly ascending key order, in O(N).</summary>
    /// <exception cref="ArgumentException">The keys are not strictly ascending.</exception>
    public static PersistentSortedMap<TValue> FromSorted(IReadOnlyList<KeyValuePair<byte[], TValue>> items)
    {
        for (var i = 1; i < items.Count; i++)
        {
            if (Compare(items[i - 1].Key, items[i].Key) >= 0)
            {
                throw new ArgumentException("Keys must be strictly ascending.", nameof(items));
            }
        }

        return new(Build(items, 0, items.Count));
    }

    /// <summary>The pairs with <paramref name="from"/> &lt;= key &lt; <paramref name="to"/> (to the end when <paramref name="to"/> is null), in key order.</summary>
    public IEnumerable<KeyValuePair<byte[], TValue>> Range(byte[] from, byte[]? to)
    {
        var path = new Stack<Node>();
        var node = root;

        // Descend to the first key >= from, remembering the nodes still to visit on the way back up.
        while (node is not null)
        {
            if (Compare(node.Key, from) >= 0)
            {
                path.Push(node);
                node = node.Left;
            }
            else
            {
                node = node.Right;
            }
        }

        while (path.TryPop(out var next))
        {
            if (to is not null && Compare(next.Key, to) >= 0)
            {
                yield break;
            }

            yield return new(next.Key, next.Value);
            for (var child = next.Right; child is not null; child = child.Left)
            {
                path.Push(child);
            }
        }
    }

    private static Node? Build(IReadOnlyList<KeyValuePair<byte[], TValue>> items, int start, int end)
    {
        if (start >= end)
        {
            return null;
        }

        var middle = start + ((end - start) / 2);
        return new Node(items[middle].Key, items[middle].Value, Build(items, start, middle), Build(items, middle + 1, end));
    }

    private static Node Set(Node? node, byte[] key, TValue value)
    {
        if (node is null)
        {
            return new Node(key, value, null, null);
        }

        var order = Compare(key, node.Key);
        return order == 0
            ? new Node(node.Key, value, node.Left, node.Right)
            : order < 0
                ? Balance(node.Key, node.Value, Set(node.Left, key, value), node.Right)
                : Balance(node.Key, node.Value, node.Left, Set(node.Right, key, value));
    }

    private static Node? Remove(Node? node, ReadOnlySpan<byte> key, out bool removed)
    {
        if (node is null)
        {
            removed = false;
            return null;
        }

        var order = Compare(key, node.Key);
        if (order < 0)
        {
            var left = Remove(node.Left, key, out removed);
            return removed ? Balance(node.Key, node.Value, left, node.Right) : node;
        }

        if (order > 0)
        {
            var right = Remove(node.Right, key, out removed);
            return removed ? Balance(node.Key, node.Value, node.Left, right) : node;
        }

        removed = true;
        if (node.Left is null)
        {
            return node.Right;
        }

        if (node.Right is null)
        {
            return node.Left;
        }

        // Replace the node by its successor, the smallest key on its right.
        var successor = node.Right;
        while (successor.Left is not null)
        {
            successor = successor.Left;
        }

        return Balance(successor.Key, successor.Value, node.Left, RemoveMin(node.Right));
    }

    private static Node? RemoveMin(Node node)
        => node.Left is null ? node.Right : Balance(node.Key, node.Value, RemoveMin(node.Left), node.Right);

    private static int HeightOf(Node? node) => node?.Height ?? 0;

    /// <summary>A node over two subtrees whose heights differ by at most two, rotated back into AVL balance.</summary>
    private static Node Balance(byte[] key, TValue value, Node? left, Node? right)
    {
        var difference = HeightOf(left) - HeightOf(right);
        if (difference > 1)
        {
            // Left-heavy: a left-right case first turns the left child's right subtree outward.
            if (HeightOf(left!.Left) < HeightOf(left.Right))
            {
                left = RotateLeft(left);
            }

            return new Node(left.Key, left.Value, left.Left, new Node(key, value, left.Right, right));
        }

        if (difference < -1)
        {
            if (HeightOf(right!.Right) < HeightOf(right.Left))
            {
                right = RotateRight(right);
            }

            return new Node(right.Key, right.Value, new Node(key, value, left, right.Left), right.Right);
        }

        return new Node(key, value, left, right);
    }

    private static Node RotateLeft(Node node)
    {
        var pivot = node.Right!;
        return new Node(pivot.Key, pivot.Value, new Node(node.Key, node.Value, node.Left, pivot.Left), pivot.Right);
    }

    private static Node RotateRight(Node node)
    {
        var pivot = node.Left!;
        return new Node(pivot.Key, pivot.Value, pivot.Left, new Node(node.Key, node.Value, pivot.Right, node.Right));
    }
}
