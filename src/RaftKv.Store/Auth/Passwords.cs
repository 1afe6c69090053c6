using System.Security.Cryptography;
using System.Text;

namespace RaftKv.Store.Auth;

/// <summary>PBKDF2-HMAC-SHA256 with a random salt per password: a password is hashed before it is proposed, so neither the log nor a snapshot holds it.</summary>
public static class Passwords
{
    private const int SaltBytes = 16;
    private const int HashBytes = 32;

    public static PasswordHash Hash(string password, int iterations)
    {
        var salt = RandomNumberGenerator.GetBytes(SaltBytes);
        return new PasswordHash(salt, iterations, Derive(password, salt, iterations, HashBytes));
    }

    public static bool Verify(PasswordHash stored, string password)
        => CryptographicOperations.FixedTimeEquals(Derive(password, stored.Salt, stored.Iterations, stored.Hash.Length), stored.Hash);

    private static byte[] Derive(string password, byte[] salt, int iterations, int length)
        => Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, length);
}
