using System.Collections.Immutable;
using RaftKv.Store.Keyspace;

namespace RaftKv.Store.Auth;

/// <summary>etcd's permission types (<c>authpb.Permission.Type</c>), with its numbers.</summary>
public enum PermissionType : byte
{
    Read = 0,
    Write = 1,
    ReadWrite = 2,
}

/// <summary>A permission on one key (<paramref name="RangeEnd"/> empty), a range, or every key from <paramref name="Key"/> (<paramref name="RangeEnd"/> <c>[0]</c>), as etcd encodes them.</summary>
public sealed record PermissionGrant(PermissionType Type, byte[] Key, byte[] RangeEnd)
{
    public KeyRange Range => new(Key, RangeEnd);

    public bool Allows(PermissionType needed) => Type == PermissionType.ReadWrite || Type == needed;

    public bool SameRange(byte[] key, byte[] rangeEnd) => Key.AsSpan().SequenceEqual(key) && RangeEnd.AsSpan().SequenceEqual(rangeEnd);
}

/// <summary>A password as the state keeps it: PBKDF2-SHA256 of the password and the salt, never the password.</summary>
public sealed record PasswordHash(byte[] Salt, int Iterations, byte[] Hash);

/// <param name="Password">Null for a user without a password (etcd's <c>no_password</c>): it cannot authenticate with one.</param>
/// <param name="Roles">The granted roles, in name order.</param>
/// <param name="Generation">The auth revision at which its password was last set: a token names it, so a new password ends the old tokens.</param>
public sealed record AuthUser(string Name, PasswordHash? Password, ImmutableSortedSet<string> Roles, long Generation);

/// <param name="Permissions">In the order granted; a grant on a range already present replaces its type.</param>
public sealed record AuthRole(string Name, ImmutableList<PermissionGrant> Permissions);

/// <summary>
/// The users and roles, as etcd's auth store: replicated through the log and kept in snapshots. A
/// user with the <see cref="Root"/> role may do anything; others what their roles' permissions cover.
/// </summary>
/// <param name="Enabled">Whether requests are checked at all.</param>
/// <param name="Revision">Bumped by every change: etcd's auth revision.</param>
/// <param name="TokenKey">The key every node signs and checks tokens with; new at each enable, so disabling ends every token.</param>
public sealed record AuthState(bool Enabled, long Revision, byte[] TokenKey, ImmutableSortedDictionary<string, AuthUser> Users, ImmutableSortedDictionary<string, AuthRole> Roles)
{
    /// <summary>The name of the administrator user and role, as etcd's.</summary>
    public const string Root = "root";

    public static AuthState Empty { get; } = new(false, 0, [], ImmutableSortedDictionary.Create<string, AuthUser>(StringComparer.Ordinal), ImmutableSortedDictionary.Create<string, AuthRole>(StringComparer.Ordinal));

    /// <summary>Nothing was ever set: no snapshot needs to carry it.</summary>
    public bool IsEmpty => Revision == 0 && !Enabled && Users.IsEmpty && Roles.IsEmpty;

    public bool IsAdmin(string user) => Users.TryGetValue(user, out var found) && found.Roles.Contains(Root);

    /// <summary>Whether <paramref name="user"/> may do <paramref name="needed"/> on every key of <paramref name="range"/>: one interval of its merged permissions must hold all of it, as etcd decides.</summary>
    public bool IsPermitted(string user, KeyRange range, PermissionType needed)
    {
        if (IsAdmin(user))
        {
            return true;
        }

        if (!Users.TryGetValue(user, out var found))
        {
            return false;
        }

        var intervals = new List<(byte[] Start, byte[]? End)>();
        foreach (var roleName in found.Roles)
        {
            if (Roles.TryGetValue(roleName, out var role))
            {
                intervals.AddRange(role.Permissions.Where(p => p.Allows(needed)).Select(p => Interval(p.Range)));
            }
        }

        var (start, end) = Interval(range);
        foreach (var (mergedStart, mergedEnd) in Merge(intervals))
        {
            if (Compare(mergedStart, start) <= 0 && (mergedEnd is null || (end is not null && Compare(end, mergedEnd) <= 0)))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>[start, end) with a null end for no end: a single key k is [k, k + 0x00).</summary>
    private static (byte[] Start, byte[]? End) Interval(KeyRange range)
        => range.IsSingleKey ? (range.Key, [.. range.Key, 0]) : (range.Key, range.End);

    private static IEnumerable<(byte[] Start, byte[]? End)> Merge(List<(byte[] Start, byte[]? End)> intervals)
    {
        intervals.Sort((a, b) => Compare(a.Start, b.Start));
        (byte[] Start, byte[]? End)? current = null;
        foreach (var next in intervals)
        {
            if (current is { } open && (open.End is null || Compare(next.Start, open.End) <= 0))
            {
                current = (open.Start, open.End is null || next.End is null ? null : Compare(next.End, open.End) > 0 ? next.End : open.End);
            }
            else
            {
                if (current is { } done)
                {
                    yield return done;
                }

                current = next;
            }
        }

        if (current is { } last)
        {
            yield return last;
        }
    }

    private static int Compare(byte[] a, byte[] b) => a.AsSpan().SequenceCompareTo(b);
}
