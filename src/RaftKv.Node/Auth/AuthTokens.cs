using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using RaftKv.Store.Auth;

namespace RaftKv.Node.Auth;

/// <summary>
/// Bearer tokens that every node accepts: <c>v1.{user}.{generation}.{expiry}.{signature}</c>, signed
/// with HMAC-SHA256 under the key in the replicated auth state. A token ends at its expiry (the
/// issuing node's clock), when authentication is disabled (the next enable draws a new key), and when
/// its user is deleted or given a new password (the generation it names no longer matches).
/// </summary>
public static class AuthTokens
{
    private const string Version = "v1";

    public static string Issue(AuthState auth, AuthUser user, DateTimeOffset expires)
    {
        var body = string.Create(CultureInfo.InvariantCulture, $"{Version}.{Base64Url.EncodeToString(Encoding.UTF8.GetBytes(user.Name))}.{user.Generation}.{expires.ToUnixTimeMilliseconds()}");
        return $"{body}.{Base64Url.EncodeToString(Sign(auth.TokenKey, body))}";
    }

    /// <summary>The user a token names, if it is intact, unexpired and still current; null otherwise.</summary>
    public static string? Validate(AuthState auth, string token, DateTimeOffset now)
    {
        var parts = token.Split('.');
        if (parts is not [Version, var encodedUser, var generationText, var expiresText, var signatureText] || auth.TokenKey.Length == 0)
        {
            return null;
        }

        var body = token[..token.LastIndexOf('.')];
        byte[] signature;
        string user;
        try
        {
            signature = Base64Url.DecodeFromChars(signatureText);
            user = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(Base64Url.DecodeFromChars(encodedUser));
        }
        catch (Exception e) when (e is FormatException or DecoderFallbackException)
        {
            return null;
        }

        if (!CryptographicOperations.FixedTimeEquals(Sign(auth.TokenKey, body), signature)
            || !long.TryParse(generationText, NumberStyles.None, CultureInfo.InvariantCulture, out var generation)
            || !long.TryParse(expiresText, NumberStyles.None, CultureInfo.InvariantCulture, out var expires)
            || now.ToUnixTimeMilliseconds() >= expires
            || !auth.Users.TryGetValue(user, out var current)
            || current.Generation != generation)
        {
            return null;
        }

        return user;
    }

    private static byte[] Sign(byte[] key, string body) => HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(body));
}
