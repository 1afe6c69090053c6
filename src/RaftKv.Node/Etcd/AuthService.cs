using Etcdserverpb;
using Grpc.Core;

namespace RaftKv.Node.Etcd;

/// <summary>
/// etcd's <c>Auth</c> service, answering as etcd does with authentication disabled and no users or
/// roles: RaftKv has none yet. Creating a user or a role, which etcd would store, is refused as not
/// implemented rather than pretended.
/// </summary>
public sealed class AuthService(EtcdAdapter etcd) : Etcdserverpb.Auth.AuthBase
{
    private const string NotImplemented = "raftkv: users and roles are not implemented yet";

    public override Task<AuthStatusResponse> AuthStatus(AuthStatusRequest request, ServerCallContext context)
        => Task.FromResult(new AuthStatusResponse { Header = etcd.Header(), Enabled = false, AuthRevision = 1 });

    public override Task<AuthenticateResponse> Authenticate(AuthenticateRequest request, ServerCallContext context)
        => throw Failed("etcdserver: authentication is not enabled");

    /// <summary>etcd refuses to enable authentication before a root user exists, and none can.</summary>
    public override Task<AuthEnableResponse> AuthEnable(AuthEnableRequest request, ServerCallContext context)
        => throw Failed("etcdserver: root user does not exist");

    public override Task<AuthDisableResponse> AuthDisable(AuthDisableRequest request, ServerCallContext context)
        => Task.FromResult(new AuthDisableResponse { Header = etcd.Header() });

    public override Task<AuthUserListResponse> UserList(AuthUserListRequest request, ServerCallContext context)
        => Task.FromResult(new AuthUserListResponse { Header = etcd.Header() });

    public override Task<AuthRoleListResponse> RoleList(AuthRoleListRequest request, ServerCallContext context)
        => Task.FromResult(new AuthRoleListResponse { Header = etcd.Header() });

    public override Task<AuthUserAddResponse> UserAdd(AuthUserAddRequest request, ServerCallContext context) => throw EtcdErrors.Unimplemented(NotImplemented);

    public override Task<AuthRoleAddResponse> RoleAdd(AuthRoleAddRequest request, ServerCallContext context) => throw EtcdErrors.Unimplemented(NotImplemented);

    public override Task<AuthUserGetResponse> UserGet(AuthUserGetRequest request, ServerCallContext context) => throw UserNotFound();

    public override Task<AuthUserDeleteResponse> UserDelete(AuthUserDeleteRequest request, ServerCallContext context) => throw UserNotFound();

    public override Task<AuthUserChangePasswordResponse> UserChangePassword(AuthUserChangePasswordRequest request, ServerCallContext context) => throw UserNotFound();

    public override Task<AuthUserGrantRoleResponse> UserGrantRole(AuthUserGrantRoleRequest request, ServerCallContext context) => throw UserNotFound();

    public override Task<AuthUserRevokeRoleResponse> UserRevokeRole(AuthUserRevokeRoleRequest request, ServerCallContext context) => throw UserNotFound();

    public override Task<AuthRoleGetResponse> RoleGet(AuthRoleGetRequest request, ServerCallContext context) => throw RoleNotFound();

    public override Task<AuthRoleDeleteResponse> RoleDelete(AuthRoleDeleteRequest request, ServerCallContext context) => throw RoleNotFound();

    public override Task<AuthRoleGrantPermissionResponse> RoleGrantPermission(AuthRoleGrantPermissionRequest request, ServerCallContext context) => throw RoleNotFound();

    public override Task<AuthRoleRevokePermissionResponse> RoleRevokePermission(AuthRoleRevokePermissionRequest request, ServerCallContext context) => throw RoleNotFound();

    private static RpcException UserNotFound() => Failed("etcdserver: user name not found");

    private static RpcException RoleNotFound() => Failed("etcdserver: role name not found");

    private static RpcException Failed(string message) => new(new Status(StatusCode.FailedPrecondition, message));
}
