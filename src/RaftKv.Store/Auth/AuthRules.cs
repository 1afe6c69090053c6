using System.Collections.Immutable;
using RaftKv.Store.Commands;
using RaftKv.Store.Keyspace;
using RaftKv.Store.Results;

namespace RaftKv.Store.Auth;

/// <summary>
/// etcd's auth decisions, made where a request applies so that every node makes the same one: which
/// requests a user's roles permit, and the changes to users and roles with their errors.
/// </summary>
public static class AuthRules
{
    /// <summary>Whether <paramref name="user"/> may make <paramref name="request"/> now: <see cref="CommandError.None"/>, or why not.</summary>
    /// <remarks>
    /// As etcd's: a write needs write permission, and read permission too when it returns previous values;
    /// a transaction needs read permission on every compare and permission for every operation of both
    /// branches; a put with a lease and a lease revoke need write permission on every key the lease holds
    /// (a user must not attach keys to a lease it could not revoke). Compaction and changes to users and
    /// roles are for <see cref="AuthState.Root"/> alone; a lease grant is for any user.
    /// </remarks>
    public static CommandError Check(AuthState auth, string user, Request request, KeyspaceView view)
    {
        if (!auth.Users.ContainsKey(user))
        {
            return CommandError.PermissionDenied;
        }

        return auth.IsAdmin(user) || IsPermitted(auth, user, request, view) ? CommandError.None : CommandError.PermissionDenied;
    }

    private static bool IsPermitted(AuthState auth, string user, Request request, KeyspaceView view)
    {
        bool May(KeyRange range, PermissionType type) => auth.IsPermitted(user, range, type);

        bool MayWriteLeaseKeys(long lease)
            => lease == 0 || !view.Leases.TryGet(lease, out var held) || held.Keys.All(key => May(KeyRange.ForKey(key), PermissionType.Write));

        return request switch
        {
            PutRequest put => May(KeyRange.ForKey(put.Key), PermissionType.Write)
                              && (!put.PrevKv || May(KeyRange.ForKey(put.Key), PermissionType.Read))
                              && MayWriteLeaseKeys(put.Lease),
            DeleteRangeRequest delete => May(delete.Range, PermissionType.Write) && (!delete.PrevKv || May(delete.Range, PermissionType.Read)),
            RangeRequest range => May(range.Range, PermissionType.Read),
            TxnRequest txn => txn.Compares.All(c => May(c.Range, PermissionType.Read))
                              && txn.Success.All(op => IsPermitted(auth, user, op, view))
                              && txn.Failure.All(op => IsPermitted(auth, user, op, view)),
            LeaseGrantRequest => true,
            LeaseRevokeRequest revoke => MayWriteLeaseKeys(revoke.Id),
            _ => false,
        };
    }

    /// <summary>Whether a request changes users, roles or the auth switch.</summary>
    public static bool IsManagement(Request request) => request.Kind is >= RequestKind.AuthEnable and <= RequestKind.RoleRevokePermission;

    /// <summary>Applies a change to users and roles: the new state, or the reason it changes nothing.</summary>
    public static (AuthState State, CommandError Error) Apply(AuthState auth, Request request)
    {
        var revision = auth.Revision + 1;
        var users = auth.Users;
        var roles = auth.Roles;
        switch (request)
        {
            case AuthEnableRequest enable:
                if (auth.Enabled)
                {
                    return (auth, CommandError.None);
                }

                if (!users.TryGetValue(AuthState.Root, out var root))
                {
                    return (auth, CommandError.RootUserMissing);
                }

                return root.Roles.Contains(AuthState.Root)
                    ? (auth with { Enabled = true, Revision = revision, TokenKey = enable.TokenKey }, CommandError.None)
                    : (auth, CommandError.RootRoleMissing);

            case AuthDisableRequest:
                return auth.Enabled ? (auth with { Enabled = false, Revision = revision }, CommandError.None) : (auth, CommandError.None);

            case UserAddRequest add:
                if (add.Name.Length == 0)
                {
                    return (auth, CommandError.UserEmpty);
                }

                return users.ContainsKey(add.Name)
                    ? (auth, CommandError.UserExists)
                    : (auth with { Revision = revision, Users = users.Add(add.Name, new AuthUser(add.Name, add.Password, ImmutableSortedSet.Create<string>(StringComparer.Ordinal), revision)) }, CommandError.None);

            case UserDeleteRequest delete:
                if (auth.Enabled && delete.Name == AuthState.Root)
                {
                    return (auth, CommandError.InvalidAuthManagement);
                }

                return users.ContainsKey(delete.Name)
                    ? (auth with { Revision = revision, Users = users.Remove(delete.Name) }, CommandError.None)
                    : (auth, CommandError.UserNotFound);

            case UserChangePasswordRequest change:
                // A user made without a password keeps none, as in etcd.
                return users.TryGetValue(change.Name, out var changed)
                    ? (auth with { Revision = revision, Users = users.SetItem(change.Name, changed with { Password = changed.Password is null ? null : change.Password, Generation = revision }) }, CommandError.None)
                    : (auth, CommandError.UserNotFound);

            case UserGrantRoleRequest grant:
                if (!users.TryGetValue(grant.User, out var grantee))
                {
                    return (auth, CommandError.UserNotFound);
                }

                // The root role need not be created first, as in etcd.
                if (grant.Role != AuthState.Root && !roles.ContainsKey(grant.Role))
                {
                    return (auth, CommandError.RoleNotFound);
                }

                return grantee.Roles.Contains(grant.Role)
                    ? (auth, CommandError.None)
                    : (auth with { Revision = revision, Users = users.SetItem(grant.User, grantee with { Roles = grantee.Roles.Add(grant.Role) }) }, CommandError.None);

            case UserRevokeRoleRequest revoke:
                if (auth.Enabled && revoke.User == AuthState.Root && revoke.Role == AuthState.Root)
                {
                    return (auth, CommandError.InvalidAuthManagement);
                }

                if (!users.TryGetValue(revoke.User, out var holder))
                {
                    return (auth, CommandError.UserNotFound);
                }

                return holder.Roles.Contains(revoke.Role)
                    ? (auth with { Revision = revision, Users = users.SetItem(revoke.User, holder with { Roles = holder.Roles.Remove(revoke.Role) }) }, CommandError.None)
                    : (auth, CommandError.RoleNotGranted);

            case RoleAddRequest add:
                if (add.Name.Length == 0)
                {
                    return (auth, CommandError.RoleEmpty);
                }

                return roles.ContainsKey(add.Name)
                    ? (auth, CommandError.RoleExists)
                    : (auth with { Revision = revision, Roles = roles.Add(add.Name, new AuthRole(add.Name, [])) }, CommandError.None);

            case RoleDeleteRequest delete:
                if (auth.Enabled && delete.Name == AuthState.Root)
                {
                    return (auth, CommandError.InvalidAuthManagement);
                }

                if (!roles.ContainsKey(delete.Name))
                {
                    return (auth, CommandError.RoleNotFound);
                }

                // The role leaves every user that had it.
                foreach (var (name, member) in users.Where(u => u.Value.Roles.Contains(delete.Name)))
                {
                    users = users.SetItem(name, member with { Roles = member.Roles.Remove(delete.Name) });
                }

                return (auth with { Revision = revision, Users = users, Roles = roles.Remove(delete.Name) }, CommandError.None);

            case RoleGrantPermissionRequest grant:
                if (!roles.TryGetValue(grant.Role, out var granted))
                {
                    return (auth, CommandError.RoleNotFound);
                }

                var permission = grant.Permission;
                var same = granted.Permissions.FindIndex(p => p.SameRange(permission.Key, permission.RangeEnd));
                var permissions = same >= 0 ? granted.Permissions.SetItem(same, permission) : granted.Permissions.Add(permission);
                return (auth with { Revision = revision, Roles = roles.SetItem(grant.Role, granted with { Permissions = permissions }) }, CommandError.None);

            case RoleRevokePermissionRequest revoke:
                if (!roles.TryGetValue(revoke.Role, out var revoked))
                {
                    return (auth, CommandError.RoleNotFound);
                }

                var index = revoked.Permissions.FindIndex(p => p.SameRange(revoke.Key, revoke.RangeEnd));
                return index >= 0
                    ? (auth with { Revision = revision, Roles = roles.SetItem(revoke.Role, revoked with { Permissions = revoked.Permissions.RemoveAt(index) }) }, CommandError.None)
                    : (auth, CommandError.PermissionNotGranted);

            default:
                throw new ArgumentException($"{request.Kind} does not change users or roles.", nameof(request));
        }
    }
}
