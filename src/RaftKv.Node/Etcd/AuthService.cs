using System.Security.Cryptography;
using Etcdserverpb;
using Grpc.Core;
using RaftKv.Node.Auth;
using RaftKv.Store.Auth;
using RaftKv.Store.Commands;
using RaftKv.Store.Results;

namespace RaftKv.Node.Etcd;

/// <summary>
/// etcd's <c>Auth</c> service over the replicated users and roles: changes go through the log and are
/// checked there (root only while authentication is enabled); reads are linearizable. Passwords are
/// hashed here, before proposal, so the log never holds one.
/// </summary>
public sealed class AuthService(EtcdAdapter etcd, Authenticator authenticator) : Etcdserverpb.Auth.AuthBase
{
    public override async Task<AuthEnableResponse> AuthEnable(Etcdserverpb.AuthEnableRequest request, ServerCallContext context)
    {
        // Answered at once, as etcd does, when the current state already refuses it (etcdctl adds the root role on the second error).
        var auth = await ReadAsync(context);
        if (!auth.Enabled)
        {
            if (!auth.Users.TryGetValue(AuthState.Root, out var root))
            {
                throw EtcdErrors.New(StatusCode.FailedPrecondition, "etcdserver: root user does not exist");
            }

            if (!root.Roles.Contains(AuthState.Root))
            {
                throw EtcdErrors.RootRoleMissing();
            }
        }

        await ChangeAsync(new Store.Commands.AuthEnableRequest(RandomNumberGenerator.GetBytes(32)), context);
        return new AuthEnableResponse { Header = etcd.Header() };
    }

    public override async Task<AuthDisableResponse> AuthDisable(Etcdserverpb.AuthDisableRequest request, ServerCallContext context)
    {
        await ChangeAsync(new Store.Commands.AuthDisableRequest(), context);
        return new AuthDisableResponse { Header = etcd.Header() };
    }

    public override async Task<AuthStatusResponse> AuthStatus(AuthStatusRequest request, ServerCallContext context)
    {
        var auth = await ReadAsync(context);
        etcd.CheckAdmin(context);
        return new AuthStatusResponse { Header = etcd.Header(), Enabled = auth.Enabled, AuthRevision = (ulong)auth.Revision };
    }

    public override async Task<AuthenticateResponse> Authenticate(AuthenticateRequest request, ServerCallContext context)
    {
        // Linearizable, as etcd's: a user just added through another member can authenticate here.
        var auth = await ReadAsync(context);
        if (!auth.Enabled)
        {
            throw EtcdErrors.AuthNotEnabled();
        }

        var user = await authenticator.VerifyPasswordAsync(auth, request.Name, request.Password, context.CancellationToken) ?? throw EtcdErrors.AuthFailed();
        return new AuthenticateResponse { Header = etcd.Header(), Token = authenticator.IssueToken(auth, user) };
    }

    public override async Task<AuthUserAddResponse> UserAdd(AuthUserAddRequest request, ServerCallContext context)
    {
        await ChangeAsync(new Store.Commands.UserAddRequest(request.Name, Password(request.Password, request.HashedPassword, request.Options?.NoPassword == true)), context);
        return new AuthUserAddResponse { Header = etcd.Header() };
    }

    public override async Task<AuthUserGetResponse> UserGet(AuthUserGetRequest request, ServerCallContext context)
    {
        var auth = await ReadAsync(context);
        if (EtcdAdapter.CallerOf(context).User != request.Name)
        {
            etcd.CheckAdmin(context);
        }

        var user = auth.Users.GetValueOrDefault(request.Name) ?? throw EtcdErrors.UserNotFound();
        var response = new AuthUserGetResponse { Header = etcd.Header() };
        response.Roles.AddRange(user.Roles);
        return response;
    }

    public override async Task<AuthUserListResponse> UserList(AuthUserListRequest request, ServerCallContext context)
    {
        var auth = await ReadAsync(context);
        etcd.CheckAdmin(context);
        var response = new AuthUserListResponse { Header = etcd.Header() };
        response.Users.AddRange(auth.Users.Keys);
        return response;
    }

    public override async Task<AuthUserDeleteResponse> UserDelete(AuthUserDeleteRequest request, ServerCallContext context)
    {
        await ChangeAsync(new Store.Commands.UserDeleteRequest(request.Name), context);
        return new AuthUserDeleteResponse { Header = etcd.Header() };
    }

    public override async Task<AuthUserChangePasswordResponse> UserChangePassword(AuthUserChangePasswordRequest request, ServerCallContext context)
    {
        await ChangeAsync(new Store.Commands.UserChangePasswordRequest(request.Name, Password(request.Password, request.HashedPassword, noPassword: false)), context);
        return new AuthUserChangePasswordResponse { Header = etcd.Header() };
    }

    public override async Task<AuthUserGrantRoleResponse> UserGrantRole(AuthUserGrantRoleRequest request, ServerCallContext context)
    {
        await ChangeAsync(new Store.Commands.UserGrantRoleRequest(request.User, request.Role), context);
        return new AuthUserGrantRoleResponse { Header = etcd.Header() };
    }

    public override async Task<AuthUserRevokeRoleResponse> UserRevokeRole(AuthUserRevokeRoleRequest request, ServerCallContext context)
    {
        await ChangeAsync(new Store.Commands.UserRevokeRoleRequest(request.Name, request.Role), context);
        return new AuthUserRevokeRoleResponse { Header = etcd.Header() };
    }

    public override async Task<AuthRoleAddResponse> RoleAdd(AuthRoleAddRequest request, ServerCallContext context)
    {
        await ChangeAsync(new Store.Commands.RoleAddRequest(request.Name), context);
        return new AuthRoleAddResponse { Header = etcd.Header() };
    }

    public override async Task<AuthRoleGetResponse> RoleGet(AuthRoleGetRequest request, ServerCallContext context)
    {
        var auth = await ReadAsync(context);
        var caller = EtcdAdapter.CallerOf(context).User;
        if (caller is null || !auth.Users.TryGetValue(caller, out var user) || !user.Roles.Contains(request.Role))
        {
            etcd.CheckAdmin(context);
        }

        var role = auth.Roles.GetValueOrDefault(request.Role) ?? throw EtcdErrors.RoleNotFound();
        var response = new AuthRoleGetResponse { Header = etcd.Header() };
        response.Perm.AddRange(role.Permissions.OrderBy(p => p.Key, ByteOrder.Instance).Select(p => new Authpb.Permission
        {
            PermType = (Authpb.Permission.Types.Type)p.Type,
            Key = Google.Protobuf.ByteString.CopyFrom(p.Key),
            RangeEnd = Google.Protobuf.ByteString.CopyFrom(p.RangeEnd),
        }));
        return response;
    }

    public override async Task<AuthRoleListResponse> RoleList(AuthRoleListRequest request, ServerCallContext context)
    {
        var auth = await ReadAsync(context);
        etcd.CheckAdmin(context);
        var response = new AuthRoleListResponse { Header = etcd.Header() };
        response.Roles.AddRange(auth.Roles.Keys);
        return response;
    }

    public override async Task<AuthRoleDeleteResponse> RoleDelete(AuthRoleDeleteRequest request, ServerCallContext context)
    {
        await ChangeAsync(new Store.Commands.RoleDeleteRequest(request.Role), context);
        return new AuthRoleDeleteResponse { Header = etcd.Header() };
    }

    public override async Task<AuthRoleGrantPermissionResponse> RoleGrantPermission(AuthRoleGrantPermissionRequest request, ServerCallContext context)
    {
        var perm = request.Perm ?? throw EtcdErrors.Invalid("etcdserver: permission not given");
        if ((int)perm.PermType is < 0 or > (int)PermissionType.ReadWrite)
        {
            throw EtcdErrors.Invalid("etcdserver: invalid permission type");
        }

        var grant = new PermissionGrant((PermissionType)perm.PermType, perm.Key.ToByteArray(), perm.RangeEnd.ToByteArray());
        await ChangeAsync(new RoleGrantPermissionRequest(request.Name, grant), context);
        return new AuthRoleGrantPermissionResponse { Header = etcd.Header() };
    }

    public override async Task<AuthRoleRevokePermissionResponse> RoleRevokePermission(AuthRoleRevokePermissionRequest request, ServerCallContext context)
    {
        await ChangeAsync(new RoleRevokePermissionRequest(request.Role, request.Key.ToByteArray(), request.RangeEnd.ToByteArray()), context);
        return new AuthRoleRevokePermissionResponse { Header = etcd.Header() };
    }

    /// <summary>A change through the log. A permission range etcd would refuse is "invalid auth management", as etcd answers.</summary>
    private async Task ChangeAsync(Request change, ServerCallContext context)
    {
        if (RequestRules.Check(change) is { } broken)
        {
            throw change is RoleGrantPermissionRequest or RoleRevokePermissionRequest ? EtcdErrors.InvalidAuthManagement() : EtcdErrors.Invalid($"raftkv: {broken}");
        }

        var outcome = await etcd.WriteAsync(change, context);
        _ = (AuthResult)outcome.Result!;
    }

    private async Task<AuthState> ReadAsync(ServerCallContext context)
    {
        await etcd.ReadAsync(serializable: false, context);
        return etcd.Auth;
    }

    /// <summary>The password hashed for the log. etcd's own servers send a bcrypt hash between themselves; RaftKv cannot use one.</summary>
    private PasswordHash? Password(string password, string hashed, bool noPassword)
    {
        if (noPassword)
        {
            return null;
        }

        return password.Length == 0 && hashed.Length > 0
            ? throw EtcdErrors.Invalid("raftkv: send the password itself; a bcrypt hash cannot be used")
            : authenticator.HashPassword(password);
    }

    private sealed class ByteOrder : IComparer<byte[]>
    {
        public static ByteOrder Instance { get; } = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}
