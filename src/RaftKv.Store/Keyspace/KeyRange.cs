namespace RaftKv.Store.Keyspace;

/// <summary>
/// A key or a range of keys, as etcd spells it: <see cref="Key"/> alone when <see cref="RangeEnd"/>
/// is empty; every key from <see cref="Key"/> on when <see cref="RangeEnd"/> is a single zero byte;
/// otherwise the keys in [<see cref="Key"/>, <see cref="RangeEnd"/>). Keys order as unsigned bytes.
/// </summary>
public readonly record struct KeyRange(byte[] Key, byte[] RangeEnd)
{
    public static KeyRange ForKey(byte[] key) => new(key, []);

    /// <summary>Every key from <paramref name="from"/> on.</summary>
    public static KeyRange From(byte[] from) => new(from.Length == 0 ? [0] : from, [0]);

    /// <summary>[<paramref name="from"/>, <paramref name="to"/>), or to the end when <paramref name="to"/> is null.</summary>
    public static KeyRange Between(byte[] from, byte[]? to) => to is null ? From(from) : new(from.Length == 0 ? [0] : from, to);

    /// <summary>Every key that starts with <paramref name="prefix"/>; all keys when it is empty.</summary>
    public static KeyRange Prefix(byte[] prefix) => prefix.Length == 0 ? new([0], [0]) : new(prefix, PrefixEnd(prefix));

    public bool IsSingleKey => RangeEnd.Length == 0;

    /// <summary>The exclusive end, or null for "to the end of the keyspace".</summary>
    public byte[]? End => RangeEnd is [0] ? null : RangeEnd;

    public bool Contains(ReadOnlySpan<byte> key)
        => IsSingleKey
            ? key.SequenceEqual(Key)
            : key.SequenceCompareTo(Key) >= 0 && (End is not { } end || key.SequenceCompareTo(end) < 0);

    /// <summary>The smallest key greater than every key with this prefix (etcd's <c>GetPrefixRangeEnd</c>); [0] (the end) if there is none.</summary>
    public static byte[] PrefixEnd(ReadOnlySpan<byte> prefix)
    {
        for (var i = prefix.Length - 1; i >= 0; i--)
        {
            if (prefix[i] < 0xFF)
            {
                var end = prefix[..(i + 1)].ToArray();
                end[i]++;
                return end;
            }
        }

        return [0];
    }
}
