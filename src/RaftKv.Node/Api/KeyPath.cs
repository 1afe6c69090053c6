using System.Text;

namespace RaftKv.Node.Api;

/// <summary>
/// Reads the key from the raw request target, so that a percent-encoded <c>/</c> (<c>%2F</c>)
/// and a literal <c>/</c> both mean a slash in the key, whatever the server's path decoding does.
/// </summary>
public static class KeyPath
{
    public const int MaxKeyBytes = 4096;
    public const string Prefix = "/v1/kv/";

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Decodes and validates the key of a <c>/v1/kv/{key}</c> request target.</summary>
    /// <returns>The key, or null with <paramref name="error"/> saying what is wrong with it.</returns>
    public static string? TryParse(string rawTarget, out string? error)
    {
        var path = rawTarget;
        var query = path.IndexOf('?', StringComparison.Ordinal);
        if (query >= 0)
        {
            path = path[..query];
        }

        if (!path.StartsWith(Prefix, StringComparison.Ordinal))
        {
            error = $"The request target must start with {Prefix}.";
            return null;
        }

        var encoded = path.AsSpan(Prefix.Length);
        var bytes = new byte[encoded.Length];
        var count = 0;
        for (var i = 0; i < encoded.Length; i++)
        {
            var c = encoded[i];
            if (c == '%')
            {
                if (i + 2 >= encoded.Length || !IsHex(encoded[i + 1]) || !IsHex(encoded[i + 2]))
                {
                    error = "The key has a malformed percent-encoding.";
                    return null;
                }

                bytes[count++] = (byte)((HexValue(encoded[i + 1]) << 4) | HexValue(encoded[i + 2]));
                i += 2;
            }
            else if (c > 0x7F)
            {
                error = "The key must be percent-encoded UTF-8.";
                return null;
            }
            else
            {
                bytes[count++] = (byte)c;
            }
        }

        return Validate(bytes.AsSpan(0, count), out error);
    }

    /// <summary>
    /// True if the path of <paramref name="rawTarget"/> has a <c>.</c> or <c>..</c> segment, literal or
    /// percent-encoded. Kestrel removes those before routing, while keys are read from the raw target,
    /// so the two would see different paths: such a request is refused instead.
    /// </summary>
    public static bool HasDotSegment(string rawTarget)
    {
        var query = rawTarget.IndexOf('?', StringComparison.Ordinal);
        var path = query >= 0 ? rawTarget[..query] : rawTarget;
        foreach (var segment in path.Split('/'))
        {
            var decoded = segment.Replace("%2e", ".", StringComparison.OrdinalIgnoreCase);
            if (decoded is "." or "..")
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Checks the rules every key follows: non-empty UTF-8 of at most <see cref="MaxKeyBytes"/> bytes.</summary>
    public static string? Validate(ReadOnlySpan<byte> utf8, out string? error)
    {
        if (utf8.Length == 0)
        {
            error = "The key must not be empty.";
            return null;
        }

        if (utf8.Length > MaxKeyBytes)
        {
            error = $"The key is {utf8.Length} bytes long; at most {MaxKeyBytes} bytes are allowed.";
            return null;
        }

        try
        {
            error = null;
            return StrictUtf8.GetString(utf8);
        }
        catch (DecoderFallbackException)
        {
            error = "The key is not valid UTF-8.";
            return null;
        }
    }

    private static bool IsHex(char c) => char.IsAsciiHexDigit(c);

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}
