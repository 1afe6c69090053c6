using System.Globalization;

namespace RaftKv.Client;

/// <summary>
/// Keys to list or delete: every key with a prefix, or the keys from <see cref="From"/> (inclusive) to
/// <see cref="To"/> (exclusive; null: to the end), in the order of their UTF-8 bytes.
/// </summary>
public sealed record KeyRange
{
    private KeyRange(string? prefix, string? from, string? to)
    {
        Prefix = prefix;
        From = from;
        To = to;
    }

    /// <summary>Every key, which is the empty prefix.</summary>
    public static KeyRange All { get; } = new("", null, null);

    /// <summary>Set for a prefix range (empty: every key).</summary>
    public string? Prefix { get; }

    /// <summary>The first key of a from/to range; in a prefix range, where within the prefix to start, if resumed.</summary>
    public string? From { get; }

    /// <summary>The end of a from/to range, exclusive; null: to the end.</summary>
    public string? To { get; }

    /// <summary>Every key that starts with <paramref name="prefix"/> (an empty prefix: every key).</summary>
    public static KeyRange WithPrefix(string prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        return new(prefix, null, null);
    }

    /// <summary>The keys from <paramref name="from"/> (inclusive) to <paramref name="to"/> (exclusive; null: to the end).</summary>
    public static KeyRange Between(string from, string? to = null)
    {
        ArgumentNullException.ThrowIfNull(from);
        return new(null, from, to);
    }

    /// <summary>The rest of this range from <paramref name="next"/> on: what a page's <see cref="RangePage.Next"/> continues with.</summary>
    public KeyRange ResumeAt(string next)
    {
        ArgumentNullException.ThrowIfNull(next);
        return new(Prefix, next, To);
    }

    internal void AddTo(QueryBuilder query)
    {
        query.Add("prefix", Prefix);
        query.Add("from", From);
        query.Add("to", To);
    }
}

/// <summary>How to read a range.</summary>
public sealed record RangeOptions
{
    /// <summary>Keys per page (the server's default is 1000, its maximum 10000).</summary>
    public int? Limit { get; init; }

    /// <summary>Read the keys as they were at this past store revision (default: now).</summary>
    public long? Revision { get; init; }

    /// <summary>Leave the values out.</summary>
    public bool KeysOnly { get; init; }

    /// <summary>Only count the keys: <see cref="RangePage.Items"/> is empty. Not for <see cref="RaftKvClient.RangeAsync"/>.</summary>
    public bool CountOnly { get; init; }

    /// <summary>How fresh the read must be.</summary>
    public Consistency Consistency { get; init; } = Consistency.Linearizable;
}

/// <param name="Key">The key.</param>
/// <param name="Value">The value; null when the range was read keys-only.</param>
/// <param name="CreateRevision">The store revision that created the key.</param>
/// <param name="ModRevision">The store revision of the key's last change.</param>
/// <param name="Version">1 when created, and one more for each put since.</param>
/// <param name="Lease">The key's lease; 0 if none.</param>
public sealed record KeyValueItem(string Key, byte[]? Value, long CreateRevision, long ModRevision, long Version, long Lease);

/// <param name="Revision">The store revision the page was read at.</param>
/// <param name="Count">How many keys the range holds, ignoring the page size.</param>
/// <param name="More">Whether keys follow this page.</param>
/// <param name="Next">The key the next page starts at (see <see cref="KeyRange.ResumeAt"/>), or null.</param>
/// <param name="Items">The keys of this page, in order.</param>
public sealed record RangePage(long Revision, long Count, bool More, string? Next, IReadOnlyList<KeyValueItem> Items);

/// <summary>What a range read found.</summary>
public enum RangeOutcome
{
    /// <summary>Read.</summary>
    Ok,

    /// <summary>The revision asked for has been compacted away (410); <see cref="RangeResult.CompactRevision"/> says up to where.</summary>
    Compacted,

    /// <summary>The read could not be served (a bad request, no quorum, timeout, unreachable node). Retrying is safe.</summary>
    Failed,
}

/// <param name="Outcome">Ok, compacted or failed.</param>
/// <param name="Page">The page, when ok.</param>
/// <param name="CompactRevision">When compacted, the store's compact revision.</param>
/// <param name="StatusCode">The HTTP status, or null if no response arrived.</param>
/// <param name="Detail">Why it was not ok.</param>
public readonly record struct RangeResult(RangeOutcome Outcome, RangePage? Page, long CompactRevision, int? StatusCode, string? Detail);

/// <summary>A page of <see cref="RaftKvClient.RangeAsync"/> could not be read; <see cref="Result"/> says why.</summary>
public sealed class RangeFailedException(RangeResult result)
    : Exception($"The range could not be read: {result.Outcome}, HTTP {result.StatusCode?.ToString(CultureInfo.InvariantCulture) ?? "none"}: {result.Detail}")
{
    /// <summary>What the failed page's read said.</summary>
    public RangeResult Result { get; } = result;
}
