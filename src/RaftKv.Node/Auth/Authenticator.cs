using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using RaftKv.Node.Cluster;
using RaftKv.Node.Configuration;
using RaftKv.Node.Raft;
using RaftKv.Store.Auth;

namespace RaftKv.Node.Auth;

/// <summary>Why a request's credentials did not make a caller.</summary>
public enum AuthFailure
{
    None,

    /// <summary>Authentication is enabled and the request has no credentials.</summary>
    Missing,

    /// <summary>A token that is malformed, forged, expired, or of a user since deleted or given a new password.</summary>
    InvalidToken,

    /// <summary>A user name and password that do not match.</summary>
    BadCredentials,
}

/// <param name="Caller">Who the credentials name; null on failure.</param>
public readonly record struct AuthOutcome(Caller? Caller, AuthFailure Failure);

/// <summary>
/// Turns a request's credentials into a <see cref="Caller"/>: a bearer token (HTTP <c>Authorization:
/// Bearer</c>, or the <c>token</c> or <c>authorization</c> metadata that etcd clients send), a user
/// name and password (HTTP Basic), or a client certificate whose common name is a user.
/// </summary>
/// <remarks>
/// PBKDF2 is slow on purpose, so a checked password is remembered (as a hash, for the user's current
/// generation) and checks run one at a time: a flood of guesses costs one core at most, not the node.
/// </remarks>
public sealed class Authenticator(KvStateMachine stateMachine, LinearizableReads reads, IOptions<RaftKvOptions> options, TimeProvider time) : IDisposable
{
    private const int MaxRemembered = 10_000;

    private readonly SemaphoreSlim hashing = new(1, 1);
    private readonly ConcurrentDictionary<string, long> verified = new(StringComparer.Ordinal);

    /// <summary>This node's applied users and roles.</summary>
    public AuthState State => stateMachine.Store.Auth;

    public TimeSpan TokenTtl => options.Value.AuthTokenTtl;

    /// <param name="authorization">The HTTP <c>Authorization</c> header, or gRPC's <c>authorization</c> metadata.</param>
    /// <param name="token">gRPC's <c>token</c> metadata.</param>
    /// <param name="certificateUser">The common name of a client certificate the TLS handshake validated.</param>
    public async Task<AuthOutcome> AuthenticateAsync(string? authorization, string? token, string? certificateUser, CancellationToken cancel)
    {
        var auth = State;
        var (caller, failure) = await FromCredentialsAsync(auth, authorization, token, certificateUser, cancel);
        if (!auth.Enabled)
        {
            // Credentials are not needed, and wrong ones are ignored, as etcd does. Right ones still name the
            // user, so that a write made as authentication is being enabled is checked as theirs when it applies.
            return new(caller ?? Caller.Unchecked, AuthFailure.None);
        }

        if (failure != AuthFailure.Missing)
        {
            return new(caller, failure);
        }

        // No credentials, and this node has authentication on: it may not yet have applied a disable
        // the cluster has committed. Caught up, it knows; a write made unchecked is refused by the log anyway
        // if authentication is on when it applies.
        try
        {
            await reads.WaitUntilCurrentAsync(allowLease: true, cancel);
        }
        catch (ReadUnavailableException)
        {
            return new(null, AuthFailure.Missing);
        }

        return State.Enabled ? new(null, AuthFailure.Missing) : new(Caller.Unchecked, AuthFailure.None);
    }

    /// <summary>The user, if the password is its own; null for an unknown user, one without a password, or a wrong password.</summary>
    public async Task<AuthUser?> VerifyPasswordAsync(AuthState auth, string user, string password, CancellationToken cancel)
    {
        if (!auth.Users.TryGetValue(user, out var found) || found.Password is not { } stored)
        {
            return null;
        }

        var remembered = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes($"{user}\0{password}\0{Convert.ToHexString(stored.Salt)}")));
        if (verified.TryGetValue(remembered, out var generation) && generation == found.Generation)
        {
            return found;
        }

        await hashing.WaitAsync(cancel);
        bool matches;
        try
        {
            matches = Passwords.Verify(stored, password);
        }
        finally
        {
            hashing.Release();
        }

        if (!matches)
        {
            return null;
        }

        if (verified.Count >= MaxRemembered)
        {
            verified.Clear();
        }

        verified[remembered] = found.Generation;
        return found;
    }

    private async Task<(Caller? Caller, AuthFailure Failure)> FromCredentialsAsync(AuthState auth, string? authorization, string? token, string? certificateUser, CancellationToken cancel)
    {
        if (authorization is { Length: > 0 } && authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            return TryParseBasic(authorization["Basic ".Length..]) is var (user, password) && await VerifyPasswordAsync(auth, user, password, cancel) is not null
                ? (new Caller(user), AuthFailure.None)
                : (null, AuthFailure.BadCredentials);
        }

        var bearer = token is { Length: > 0 } ? token
            : authorization is { Length: > 0 } && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? authorization["Bearer ".Length..].Trim()
            : authorization is { Length: > 0 } ? authorization.Trim()
            : null;
        if (bearer is not null)
        {
            return AuthTokens.Validate(auth, bearer, time.GetUtcNow()) is { } user ? (new Caller(user), AuthFailure.None) : (null, AuthFailure.InvalidToken);
        }

        return certificateUser is not null && auth.Users.ContainsKey(certificateUser)
            ? (new Caller(certificateUser), AuthFailure.None)
            : (null, AuthFailure.Missing);
    }

    public string IssueToken(AuthState auth, AuthUser user) => AuthTokens.Issue(auth, user, time.GetUtcNow() + TokenTtl);

    /// <summary>A password hashed for the log, at the configured cost.</summary>
    public PasswordHash HashPassword(string password) => Passwords.Hash(password, options.Value.PasswordHashIterations);

    public void Dispose() => hashing.Dispose();

    private static (string User, string Password)? TryParseBasic(string encoded)
    {
        try
        {
            var text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(Convert.FromBase64String(encoded.Trim()));
            var colon = text.IndexOf(':', StringComparison.Ordinal);
            return colon > 0 ? (text[..colon], text[(colon + 1)..]) : null;
        }
        catch (Exception e) when (e is FormatException or DecoderFallbackException)
        {
            return null;
        }
    }
}
