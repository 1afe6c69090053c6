using System.Globalization;
using System.Text;
using Microsoft.Extensions.Primitives;
using RaftKv.Store.Commands;
using RaftKv.Store.Keyspace;

namespace RaftKv.Node.Api;

/// <summary>
/// Parses the keys of a range, from a query string or a transaction operation: <c>prefix</c>, or
/// <c>from</c> with an optional exclusive <c>to</c>; <c>from</c> with <c>prefix</c> starts inside
/// the prefix (how a listing continues from <c>next</c>). Keys are UTF-8, or base64 when asked.
/// </summary>
public static class RangeQuery
{
    /// <summary>A range read from <c>GET /v1/kv</c>: the keys, <c>limit</c>, <c>revision</c>, <c>keysOnly</c>, <c>countOnly</c>.</summary>
    public static bool TryParse(IQueryCollection query, bool base64, out RangeRequest request, out string? error)
    {
        request = null!;
        if (!TryParseKeys(query, base64, out var range, out error)
            || !TryParseNumber(query["limit"], "limit", KvApi.DefaultLimit, 1, KvApi.MaxLimit, out var limit, out error)
            || !TryParseNumber(query["revision"], "revision", 0, 1, long.MaxValue, out var revision, out error)
            || !TryParseFlag(query["keysOnly"], "keysOnly", out var keysOnly, out error)
            || !TryParseFlag(query["countOnly"], "countOnly", out var countOnly, out error))
        {
            return false;
        }

        request = new RangeRequest(range, revision, limit, keysOnly, countOnly);
        return true;
    }

    /// <summary>Whether <c>encoding=base64</c> was asked for; null if <c>encoding</c> is something else.</summary>
    public static bool? ParseEncoding(IQueryCollection query) => query["encoding"].ToString() switch
    {
        "" => false,
        "base64" => true,
        _ => null,
    };

    public static bool TryParseKeys(IQueryCollection query, bool base64, out KeyRange range, out string? error)
        => TryParseKeys(Single(query["prefix"]), Single(query["from"]), Single(query["to"]), base64, out range, out error);

    public static bool TryParseKeys(string? prefix, string? from, string? to, bool base64, out KeyRange range, out string? error)
    {
        range = default;
        if (!TryDecode(prefix, "prefix", base64, out var prefixBytes, out error)
            || !TryDecode(from, "from", base64, out var fromBytes, out error)
            || !TryDecode(to, "to", base64, out var toBytes, out error))
        {
            return false;
        }

        if (prefixBytes is not null)
        {
            if (toBytes is not null)
            {
                error = "Give prefix, or from and to, not both.";
                return false;
            }

            range = KeyRange.Prefix(prefixBytes);
            if (fromBytes is not null && fromBytes.AsSpan().SequenceCompareTo(range.Key) > 0)
            {
                range = range with { Key = fromBytes };
            }
        }
        else if (fromBytes is not null)
        {
            range = KeyRange.Between(fromBytes, toBytes);
        }
        else
        {
            error = "Give the keys: prefix=P, or from=A with an optional to=B (exclusive).";
            return false;
        }

        error = RequestRules.Check(new RangeRequest(range));
        return error is null;
    }

    public static bool TryParseNumber(StringValues given, string name, long absent, long min, long max, out long value, out string? error)
    {
        error = null;
        value = absent;
        if (given.Count == 0)
        {
            return true;
        }

        if (given.Count == 1 && long.TryParse(given[0], NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= min && value <= max)
        {
            return true;
        }

        error = $"{name} must be one integer from {min} to {max}.";
        return false;
    }

    public static bool TryParseFlag(StringValues given, string name, out bool value, out string? error)
    {
        error = null;
        value = false;
        switch (Single(given))
        {
            case null or "false":
                return true;
            case "true":
                value = true;
                return true;
            default:
                error = $"{name} must be true or false.";
                return false;
        }
    }

    private static string? Single(StringValues values) => values.Count == 0 ? null : values[^1];

    private static bool TryDecode(string? text, string name, bool base64, out byte[]? bytes, out string? error)
    {
        error = null;
        bytes = null;
        if (text is null)
        {
            return true;
        }

        if (!base64)
        {
            bytes = Encoding.UTF8.GetBytes(text);
            return true;
        }

        try
        {
            bytes = Convert.FromBase64String(text);
            return true;
        }
        catch (FormatException)
        {
            error = $"{name} is not valid base64.";
            return false;
        }
    }
}
