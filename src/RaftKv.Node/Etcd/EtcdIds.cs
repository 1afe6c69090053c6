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
        => Hash("raftkv/cluster/" + string.Join('\n', definition.Members.Select(m => m.Id).Order(StringComparer.Ordinal)));

    private static ulong Hash(string text)
    {
        var id = BinaryPrimitives.ReadUInt64BigEndian(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
        return id == 0 ? 1 : id;
    }
}
