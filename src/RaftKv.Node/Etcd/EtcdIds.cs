using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using RaftKv.Node.Configuration;

namespace RaftKv.Node.Etcd;

/// <summary>
/// etcd names members and clusters by uint64. RaftKv's member ids are strings, so each maps to a
/// stable number: the same on every node and across restarts, in response headers, member lists
/// and <c>Status.leader</c> alike.
/// </summary>
public static class EtcdIds
{
    public static ulong Member(string memberId) => Hash("raftkv/member/" + memberId);

    /// <summary>From every member's id, so that two clusters of other members differ.</summary>
    public static ulong Cluster(ClusterDefinition definition)
        => Hash("raftkv/cluster/" + MemberList(definition));

    /// <summary>
    /// The id of a cluster restored from a backup: from its members, the backup's checksum and a token
    /// the operator may choose, so that every member restored from the same file gets the same id, and it
    /// differs from the backed-up cluster's.
    /// </summary>
    public static ulong Restored(ClusterDefinition definition, ReadOnlySpan<byte> backupChecksum, string token)
        => Hash($"raftkv/restored/{token}/{Convert.ToHexStringLower(backupChecksum)}/{MemberList(definition)}");

    /// <summary>As etcd prints ids: lower-case hex.</summary>
    public static string Format(ulong id) => id.ToString("x", System.Globalization.CultureInfo.InvariantCulture);

    private static string MemberList(ClusterDefinition definition)
        => string.Join('\n', definition.Members.Select(m => m.Id).Order(StringComparer.Ordinal));

    private static ulong Hash(string text)
    {
        var id = BinaryPrimitives.ReadUInt64BigEndian(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
        return id == 0 ? 1 : id;
    }
}
