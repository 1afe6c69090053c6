using RaftKv.Store.Auth;

namespace RaftKv.Store.Commands;

/// <summary>
/// A request made for <paramref name="User"/>, checked against the users and roles when applied, so that
/// a permission revoked before the request applies is not used; with authentication disabled it applies
/// as <paramref name="Inner"/> alone. A null user is the cluster itself (the leader's lease expiry, automatic
/// compaction), which may do anything: only the node's own code makes one, never a client's credentials.
/// </summary>
/// <remarks>While authentication is enabled, a request that is not wrapped in one is refused.</remarks>
public sealed record AuthorizedRequest(string? User, Request Inner) : Request
{
    public override RequestKind Kind => RequestKind.Authorized;
}

/// <summary>Turns authentication on. The key for tokens is chosen before proposal, so that applying is deterministic.</summary>
public sealed record AuthEnableRequest(byte[] TokenKey) : Request
{
    public override RequestKind Kind => RequestKind.AuthEnable;
}

public sealed record AuthDisableRequest : Request
{
    public override RequestKind Kind => RequestKind.AuthDisable;
}

/// <param name="Password">Hashed before proposal; null for a user without a password.</param>
public sealed record UserAddRequest(string Name, PasswordHash? Password) : Request
{
    public override RequestKind Kind => RequestKind.UserAdd;
}

public sealed record UserDeleteRequest(string Name) : Request
{
    public override RequestKind Kind => RequestKind.UserDelete;
}

public sealed record UserChangePasswordRequest(string Name, PasswordHash? Password) : Request
{
    public override RequestKind Kind => RequestKind.UserChangePassword;
}

public sealed record UserGrantRoleRequest(string User, string Role) : Request
{
    public override RequestKind Kind => RequestKind.UserGrantRole;
}

public sealed record UserRevokeRoleRequest(string User, string Role) : Request
{
    public override RequestKind Kind => RequestKind.UserRevokeRole;
}

public sealed record RoleAddRequest(string Name) : Request
{
    public override RequestKind Kind => RequestKind.RoleAdd;
}

public sealed record RoleDeleteRequest(string Name) : Request
{
    public override RequestKind Kind => RequestKind.RoleDelete;
}

public sealed record RoleGrantPermissionRequest(string Role, PermissionGrant Permission) : Request
{
    public override RequestKind Kind => RequestKind.RoleGrantPermission;
}

/// <summary>Revokes the permission on exactly this key or range, whatever its type.</summary>
public sealed record RoleRevokePermissionRequest(string Role, byte[] Key, byte[] RangeEnd) : Request
{
    public override RequestKind Kind => RequestKind.RoleRevokePermission;
}
