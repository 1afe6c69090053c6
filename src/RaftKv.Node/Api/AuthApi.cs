using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using RaftKv.Node.Auth;
using RaftKv.Node.Cluster;
using RaftKv.Node.Raft;
using RaftKv.Node.Security;
using RaftKv.Store.Auth;
using RaftKv.Store.Commands;
using RaftKv.Store.Keyspace;
using RaftKv.Store.Results;

namespace RaftKv.Node.Api;

/// <summary>
/// Authentication for the HTTP API, and its users and roles at <c>/v1/auth</c>, as etcd's <c>Auth</c>
/// service: tokens, enable and disable, users with passwords and roles, roles with permissions on keys,
/// prefixes and ranges. Changes go through the log like any write; a change by anyone but <c>root</c>
/// is refused (403) while authentication is enabled.
/// </summary>
public static class AuthApi
{
    /// <summary>Paths under <c>/v1</c> served without credentials: getting a token, and the status operators and probes read.</summary>
    private static readonly HashSet<string> OpenPaths = new(StringComparer.Ordinal) { "/v1/auth/token", "/v1/auth/status", "/v1/status" };

    /// <summary>
    /// Finds the caller of every request under <c>/v1</c>: a bearer token, Basic credentials, or a client
    /// certificate when the node requires them. With authentication enabled, a request without valid
    /// credentials gets 401 and goes no further.
    /// </summary>
    public static IApplicationBuilder UseRaftKvAuthentication(this IApplicationBuilder app, ClientTrust? clientTrust)
    {
        var authenticator = app.ApplicationServices.GetRequiredService<Authenticator>();
        var useCertificates = clientTrust is { RequiresClientCertificates: true };
        return app.Use(async (context, next) =>
        {
            var path = context.Request.Path;
            if (!path.StartsWithSegments("/v1", StringComparison.Ordinal) || OpenPaths.Contains(path.Value!))
            {
                await next(context);
                return;
            }

            var certificateUser = useCertificates ? ClientTrust.UserOf(context.Connection.ClientCertificate) : null;
            var outcome = await authenticator.AuthenticateAsync(context.Request.Headers.Authorization, null, certificateUser, context.RequestAborted);
            if (outcome.Caller is not { } caller)
            {
                await Unauthenticated(context, outcome.Failure).ExecuteAsync(context);
                return;
            }

            context.Items[typeof(Caller)] = caller;
            await next(context);
        });
    }

    public static IEndpointRouteBuilder MapAuthApi(this IEndpointRouteBuilder routes)
    {
        var auth = routes.MapGroup("/v1/auth");
        auth.MapPost("/token", TokenAsync).Answers<TokenResponse>("Sign in: a token for Basic credentials", StatusCodes.Status400BadRequest, StatusCodes.Status401Unauthorized, StatusCodes.Status409Conflict, StatusCodes.Status503ServiceUnavailable);
        auth.MapGet("/status", (Authenticator authenticator) => TypedResults.Ok(new AuthStatusResponse(authenticator.State.Enabled, authenticator.State.Revision))).Produces<AuthStatusResponse>().WithSummary("Whether authentication is on");
        auth.MapPost("/enable", (HttpContext context, Caller caller, WriteCoordinator writes) => ChangeAsync(context, caller, writes, new AuthEnableRequest(RandomNumberGenerator.GetBytes(32)))).Writes<AuthChangeResponse>("Turn authentication on", StatusCodes.Status200OK, StatusCodes.Status409Conflict);
        auth.MapPost("/disable", (HttpContext context, Caller caller, WriteCoordinator writes) => ChangeAsync(context, caller, writes, new AuthDisableRequest())).Writes<AuthChangeResponse>("Turn authentication off", StatusCodes.Status200OK, StatusCodes.Status409Conflict);

        auth.MapGet("/users", ListUsersAsync).Reads<NamesResponse>("The users' names");
        auth.MapGet("/users/{name}", GetUserAsync).Reads<UserResponse>("A user and its roles", StatusCodes.Status404NotFound);
        auth.MapPut("/users/{name}", AddUserAsync).Writes<AuthChangeResponse>("Add a user", StatusCodes.Status201Created, StatusCodes.Status409Conflict);
        auth.MapPost("/users/{name}/password", ChangePasswordAsync).Writes<AuthChangeResponse>("Change a user's password", StatusCodes.Status200OK, StatusCodes.Status404NotFound);
        auth.MapDelete("/users/{name}", (HttpContext context, Caller caller, WriteCoordinator writes, string name) => ChangeAsync(context, caller, writes, new UserDeleteRequest(name))).Writes<AuthChangeResponse>("Delete a user", StatusCodes.Status200OK, StatusCodes.Status404NotFound, StatusCodes.Status409Conflict);
        auth.MapPut("/users/{name}/roles/{role}", (HttpContext context, Caller caller, WriteCoordinator writes, string name, string role) => ChangeAsync(context, caller, writes, new UserGrantRoleRequest(name, role))).Writes<AuthChangeResponse>("Grant a role to a user", StatusCodes.Status200OK, StatusCodes.Status404NotFound, StatusCodes.Status409Conflict);
        auth.MapDelete("/users/{name}/roles/{role}", (HttpContext context, Caller caller, WriteCoordinator writes, string name, string role) => ChangeAsync(context, caller, writes, new UserRevokeRoleRequest(name, role))).Writes<AuthChangeResponse>("Revoke a role from a user", StatusCodes.Status200OK, StatusCodes.Status404NotFound, StatusCodes.Status409Conflict);

        auth.MapGet("/roles", ListRolesAsync).Reads<NamesResponse>("The roles' names");
        auth.MapGet("/roles/{name}", GetRoleAsync).Reads<RoleResponse>("A role and its permissions", StatusCodes.Status404NotFound);
        auth.MapPut("/roles/{name}", (HttpContext context, Caller caller, WriteCoordinator writes, string name) => ChangeAsync(context, caller, writes, new RoleAddRequest(name), StatusCodes.Status201Created)).Writes<AuthChangeResponse>("Add a role", StatusCodes.Status200OK, StatusCodes.Status409Conflict);
        auth.MapDelete("/roles/{name}", (HttpContext context, Caller caller, WriteCoordinator writes, string name) => ChangeAsync(context, caller, writes, new RoleDeleteRequest(name))).Writes<AuthChangeResponse>("Delete a role", StatusCodes.Status200OK, StatusCodes.Status404NotFound, StatusCodes.Status409Conflict);
        auth.MapPost("/roles/{name}/permissions", GrantPermissionAsync).Writes<AuthChangeResponse>("Grant a permission to a role", StatusCodes.Status200OK, StatusCodes.Status404NotFound);
        auth.MapDelete("/roles/{name}/permissions", RevokePermissionAsync).Writes<AuthChangeResponse>("Revoke a permission from a role", StatusCodes.Status200OK, StatusCodes.Status404NotFound, StatusCodes.Status409Conflict);
        return routes;
    }

    /// <summary>401 with a problem body; the detail says what was wrong with the credentials.</summary>
    public static IResult Unauthenticated(HttpContext context, AuthFailure failure)
    {
        context.Response.Headers.WWWAuthenticate = "Bearer realm=\"raftkv\", Basic realm=\"raftkv\"";
        var detail = failure switch
        {
            AuthFailure.InvalidToken => "invalid auth token: it is malformed, expired, or of a user since deleted or given a new password. Get a new one from POST /v1/auth/token.",
            AuthFailure.BadCredentials => "authentication failed, invalid user ID or password",
            _ => "Authentication is enabled: send Authorization: Bearer <token from POST /v1/auth/token>, or Basic credentials.",
        };
        return TypedResults.Problem(detail, statusCode: StatusCodes.Status401Unauthorized, title: "Unauthenticated");
    }

    private static async Task<IResult> TokenAsync(HttpContext context, Authenticator authenticator, LinearizableReads reads)
    {
        // Linearizable, as etcd's Authenticate: a user just added, or an enable just made, through another member counts here.
        if (await ReadAsync(context, reads) is { } unavailable)
        {
            return unavailable;
        }

        var auth = authenticator.State;
        if (!auth.Enabled)
        {
            return TypedResults.Problem("authentication is not enabled", statusCode: StatusCodes.Status409Conflict, title: "Authentication not enabled");
        }

        var header = context.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            return Unauthenticated(context, AuthFailure.Missing);
        }

        var outcome = await authenticator.AuthenticateAsync(header, null, null, context.RequestAborted);
        if (outcome.Caller?.User is not { } name || !auth.Users.TryGetValue(name, out var user))
        {
            return Unauthenticated(context, AuthFailure.BadCredentials);
        }

        return TypedResults.Ok(new TokenResponse(authenticator.IssueToken(auth, user), (long)authenticator.TokenTtl.TotalSeconds));
    }

    private static async Task<IResult> ListUsersAsync(HttpContext context, Caller caller, LinearizableReads reads, KvStateMachine stateMachine)
        => await ReadAsync(context, reads) ?? (caller.IsAdmin(stateMachine.Store.Auth)
            ? TypedResults.Ok(new NamesResponse([.. stateMachine.Store.Auth.Users.Keys]))
            : Problems.PermissionDenied());

    private static async Task<IResult> ListRolesAsync(HttpContext context, Caller caller, LinearizableReads reads, KvStateMachine stateMachine)
        => await ReadAsync(context, reads) ?? (caller.IsAdmin(stateMachine.Store.Auth)
            ? TypedResults.Ok(new NamesResponse([.. stateMachine.Store.Auth.Roles.Keys]))
            : Problems.PermissionDenied());

    /// <summary>A user, for root or for itself.</summary>
    private static async Task<IResult> GetUserAsync(HttpContext context, Caller caller, LinearizableReads reads, KvStateMachine stateMachine, string name)
    {
        if (await ReadAsync(context, reads) is { } problem)
        {
            return problem;
        }

        var auth = stateMachine.Store.Auth;
        if (!caller.IsAdmin(auth) && caller.User != name)
        {
            return Problems.PermissionDenied();
        }

        return auth.Users.TryGetValue(name, out var user)
            ? TypedResults.Ok(new UserResponse(user.Name, [.. user.Roles], user.Password is null))
            : Problems.Rejected(CommandResult.Rejected(CommandError.UserNotFound, 0, 0));
    }

    /// <summary>A role, for root or for a user that has it.</summary>
    private static async Task<IResult> GetRoleAsync(HttpContext context, Caller caller, LinearizableReads reads, KvStateMachine stateMachine, string name)
    {
        if (await ReadAsync(context, reads) is { } problem)
        {
            return problem;
        }

        var auth = stateMachine.Store.Auth;
        if (!caller.IsAdmin(auth) && !(caller.User is { } user && auth.Users.TryGetValue(user, out var found) && found.Roles.Contains(name)))
        {
            return Problems.PermissionDenied();
        }

        return auth.Roles.TryGetValue(name, out var role)
            ? TypedResults.Ok(new RoleResponse(role.Name, [.. role.Permissions.Select(PermissionJson.From)]))
            : Problems.Rejected(CommandResult.Rejected(CommandError.RoleNotFound, 0, 0));
    }

    private static async Task<IResult> AddUserAsync(HttpContext context, Caller caller, WriteCoordinator writes, Authenticator authenticator, RequestBodies bodies, string name)
    {
        var (password, noPassword, problem) = await ReadPasswordAsync(context, bodies, authenticator);
        return problem ?? await ChangeAsync(context, caller, writes, new UserAddRequest(name, noPassword ? null : password), StatusCodes.Status201Created);
    }

    private static async Task<IResult> ChangePasswordAsync(HttpContext context, Caller caller, WriteCoordinator writes, Authenticator authenticator, RequestBodies bodies, string name)
    {
        var (password, noPassword, problem) = await ReadPasswordAsync(context, bodies, authenticator);
        return problem ?? await ChangeAsync(context, caller, writes, new UserChangePasswordRequest(name, noPassword ? null : password));
    }

    private static Task<IResult> GrantPermissionAsync(HttpContext context, Caller caller, WriteCoordinator writes, string name)
    {
        var query = context.Request.Query;
        if (!TryParsePermissionRange(query, out var range, out var error))
        {
            return Task.FromResult(Problems.BadRequest(error!));
        }

        PermissionType? type = query["type"].ToString() switch
        {
            "read" => PermissionType.Read,
            "write" => PermissionType.Write,
            "readwrite" => PermissionType.ReadWrite,
            _ => null,
        };
        return type is { } given
            ? ChangeAsync(context, caller, writes, new RoleGrantPermissionRequest(name, new PermissionGrant(given, range.Key, range.RangeEnd)))
            : Task.FromResult(Problems.BadRequest("type must be 'read', 'write' or 'readwrite'."));
    }

    private static Task<IResult> RevokePermissionAsync(HttpContext context, Caller caller, WriteCoordinator writes, string name)
        => TryParsePermissionRange(context.Request.Query, out var range, out var error)
            ? ChangeAsync(context, caller, writes, new RoleRevokePermissionRequest(name, range.Key, range.RangeEnd))
            : Task.FromResult(Problems.BadRequest(error!));

    /// <summary>Proposes a change to users and roles: 200 (or <paramref name="created"/>) with the auth revision after it.</summary>
    private static async Task<IResult> ChangeAsync(HttpContext context, Caller caller, WriteCoordinator writes, Request change, int created = StatusCodes.Status200OK)
    {
        if (RequestRules.Check(change) is { } invalid)
        {
            return Problems.BadRequest(invalid);
        }

        if (!WriteRequest.TryGetRequestId(context.Request.Headers["Idempotency-Key"], out var requestId, out var error))
        {
            return Problems.BadRequest(error!);
        }

        var result = await writes.WriteAsync(new WriteCommand(requestId, caller.Authorize(change)));
        return WriteResults.ToHttp(context, result, outcome => TypedResults.Json(new AuthChangeResponse(((AuthResult)outcome.Result!).AuthRevision), statusCode: created));
    }

    /// <summary><c>{"password": "..."}</c> hashed here, so that the log never holds it; or <c>{"noPassword": true}</c>.</summary>
    private static async Task<(PasswordHash? Password, bool NoPassword, IResult? Problem)> ReadPasswordAsync(HttpContext context, RequestBodies bodies, Authenticator authenticator)
    {
        using var read = await bodies.ReadJsonAsync(context, 4096);
        if (read.Overloaded)
        {
            return (null, false, Problems.Unavailable(context, bodies.OverloadedDetail));
        }

        var root = read.Json?.RootElement;
        if (root is { ValueKind: JsonValueKind.Object } body)
        {
            if (body.TryGetProperty("noPassword", out var none) && none.ValueKind == JsonValueKind.True && !body.TryGetProperty("password", out _))
            {
                return (null, true, null);
            }

            if (body.TryGetProperty("password", out var given) && given.ValueKind == JsonValueKind.String && given.GetString() is { Length: > 0 } password)
            {
                return (authenticator.HashPassword(password), false, null);
            }
        }

        return (null, false, Problems.BadRequest("The body must be {\"password\": \"...\"} with a non-empty password, or {\"noPassword\": true}."));
    }

    private static bool TryParsePermissionRange(IQueryCollection query, out KeyRange range, out string? error)
    {
        if (query["key"].ToString() is { Length: > 0 } key)
        {
            range = KeyRange.ForKey(Encoding.UTF8.GetBytes(key));
            error = query.ContainsKey("prefix") || query.ContainsKey("from") ? "Give key, prefix, or from and to: one of them." : null;
            return error is null;
        }

        return RangeQuery.TryParseKeys(query, base64: false, out range, out error);
    }

    /// <summary>Users and roles are read at a linearizable point, as keys are.</summary>
    private static Task<IResult?> ReadAsync(HttpContext context, LinearizableReads reads) => Reads.WaitAsync(context, reads);
}

public sealed record AuthStatusResponse(bool Enabled, long Revision);

/// <param name="Ttl">Seconds the token is accepted for.</param>
public sealed record TokenResponse(string Token, long Ttl);

public sealed record AuthChangeResponse(long AuthRevision);

public sealed record NamesResponse(IReadOnlyList<string> Names);

public sealed record UserResponse(string Name, IReadOnlyList<string> Roles, bool NoPassword);

public sealed record RoleResponse(string Name, IReadOnlyList<PermissionJson> Permissions);

/// <summary>A permission as JSON: its type, and its key with a range end (empty for one key, <c>"\u0000"</c> for every key from it).</summary>
public sealed record PermissionJson(string Type, string Key, string RangeEnd)
{
    public static PermissionJson From(PermissionGrant permission)
        => new(permission.Type switch { PermissionType.Read => "read", PermissionType.Write => "write", _ => "readwrite" }, Text(permission.Key), Text(permission.RangeEnd));

    private static string Text(byte[] bytes) => Encoding.UTF8.GetString(bytes);
}
