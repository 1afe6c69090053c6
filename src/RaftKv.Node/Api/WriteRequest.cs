using System.Globalization;
using System.Text;
using Microsoft.Extensions.Primitives;
using RaftKv.Store;
using RaftKv.Store.Commands;
using RaftKv.Store.Keyspace;

namespace RaftKv.Node.Api;

/// <summary>Parses the parts of a PUT or DELETE that become the command: its condition and its request id.</summary>
public static class WriteRequest
{
    public const int MaxIdempotencyKeyLength = 200;

    /// <summary>
    /// The condition on <paramref name="key"/> from <c>If-Match: "rev"</c>, <c>If-None-Match: *</c> or
    /// <c>?prevValue=</c> (its values as <see cref="TryGetQueryBytes"/> decodes them), as a transaction
    /// compare; null when none is given. At most one may be given.
    /// </summary>
    public static bool TryParseCondition(byte[] key, StringValues ifMatch, StringValues ifNoneMatch, IReadOnlyList<byte[]> prevValue, out Compare? condition, out string? error)
    {
        condition = null;
        error = null;
        var given = (ifMatch.Count > 0 ? 1 : 0) + (ifNoneMatch.Count > 0 ? 1 : 0) + (prevValue.Count > 0 ? 1 : 0);
        if (given > 1)
        {
            error = "At most one of If-Match, If-None-Match and prevValue may be given.";
            return false;
        }

        if (ifMatch.Count > 0)
        {
            var tag = ifMatch.Count == 1 ? ifMatch[0]?.Trim() : null;
            if (tag is null || tag.Length < 3 || tag[0] != '"' || tag[^1] != '"'
                || !long.TryParse(tag.AsSpan(1, tag.Length - 2), NumberStyles.None, CultureInfo.InvariantCulture, out var revision)
                || revision <= 0)
            {
                error = "If-Match must be one quoted modRevision, for example If-Match: \"42\".";
                return false;
            }

            condition = new Compare(KeyRange.ForKey(key), CompareTarget.ModRevision, CompareResult.Equal, revision);
        }
        else if (ifNoneMatch.Count > 0)
        {
            if (ifNoneMatch.Count != 1 || ifNoneMatch[0]?.Trim() != "*")
            {
                error = "If-None-Match supports only *, meaning create only.";
                return false;
            }

            condition = new Compare(KeyRange.ForKey(key), CompareTarget.CreateRevision, CompareResult.Equal, 0);
        }
        else if (prevValue.Count > 0)
        {
            if (prevValue.Count != 1)
            {
                error = "prevValue may be given once.";
                return false;
            }

            condition = new Compare(KeyRange.ForKey(key), CompareTarget.Value, CompareResult.Equal, Value: prevValue[0]);
        }

        return true;
    }

    /// <summary>
    /// The values of the query parameter <paramref name="name"/>, percent-decoded to exact bytes from
    /// the raw query string: a value is bytes, so it need not be UTF-8, and <c>+</c> is a plus sign, not
    /// a space (that is HTML forms' encoding, not a URI's). ASP.NET's own decoding does both.
    /// </summary>
    public static bool TryGetQueryBytes(string rawQuery, string name, out List<byte[]> values, out string? error)
    {
        values = [];
        error = null;
        foreach (var parameter in rawQuery.TrimStart('?').Split('&'))
        {
            var equals = parameter.IndexOf('=', StringComparison.Ordinal);
            if ((equals < 0 ? parameter : parameter[..equals]) != name)
            {
                continue;
            }

            if (PercentDecode(equals < 0 ? "" : parameter[(equals + 1)..]) is not { } value)
            {
                error = $"{name} has a malformed percent-encoding: every byte outside printable ASCII must be %XX.";
                return false;
            }

            values.Add(value);
        }

        return true;
    }

    private static byte[]? PercentDecode(string encoded)
    {
        var bytes = new byte[encoded.Length];
        var count = 0;
        for (var i = 0; i < encoded.Length; i++)
        {
            var c = encoded[i];
            if (c == '%')
            {
                if (i + 2 >= encoded.Length || !char.IsAsciiHexDigit(encoded[i + 1]) || !char.IsAsciiHexDigit(encoded[i + 2]))
                {
                    return null;
                }

                bytes[count++] = (byte)Convert.ToInt32(encoded.Substring(i + 1, 2), 16);
                i += 2;
            }
            else if (c is < ' ' or > '~')
            {
                return null;
            }
            else
            {
                bytes[count++] = (byte)c;
            }
        }

        return bytes[..count];
    }

    /// <summary>
    /// The request id: the client's <c>Idempotency-Key</c> when given (so its retries are applied once),
    /// otherwise a fresh one. The two never collide: they carry different prefixes.
    /// </summary>
    public static bool TryGetRequestId(StringValues idempotencyKey, out string requestId, out string? error)
    {
        error = null;
        if (idempotencyKey.Count == 0)
        {
            requestId = "s:" + Guid.NewGuid().ToString("N");
            return true;
        }

        requestId = "";
        var key = idempotencyKey.Count == 1 ? idempotencyKey[0] : null;
        if (string.IsNullOrEmpty(key) || key.Length > MaxIdempotencyKeyLength || !key.All(c => c is > ' ' and < (char)0x7F))
        {
            error = $"Idempotency-Key must be 1 to {MaxIdempotencyKeyLength} visible ASCII characters.";
            return false;
        }

        requestId = RequestIdTable.ClientKeyPrefix + key;
        return true;
    }
}
