using RaftKv.Node.Configuration;
using RaftKv.Node.Raft;
using RaftKv.Store.Membership;

namespace RaftKv.Node.Cluster;

/// <summary>
/// The members and their URLs as this node knows them: the replicated directory once the cluster's
/// membership was first changed, the cluster file before that (a cluster of static membership, or one
/// started before membership changes existed).
/// </summary>
public sealed class MemberDirectory(ClusterDefinition definition, KvStateMachine stateMachine)
{
    /// <summary>The prefix of the id a member added by its peer URL alone has until it publishes its own.</summary>
    public const string UnstartedPrefix = "unstarted-";

    private (MembershipState State, IReadOnlyList<ClusterMember> Members) converted = (MembershipState.Empty, definition.Members);

    public MembershipState State => stateMachine.Store.Membership;

    /// <summary>Every member, in id order once the directory is in force.</summary>
    public IReadOnlyList<ClusterMember> Members
    {
        get
        {
            var state = stateMachine.Store.Membership;
            if (!state.IsInitialized)
            {
                return definition.Members;
            }

            var last = converted;
            if (ReferenceEquals(last.State, state))
            {
                return last.Members;
            }

            var members = state.Members.Values.Select(FromRecord).ToList();
            converted = (state, members);
            return members;
        }
    }

    /// <summary>The members the cluster file lists: the first membership change writes them into the directory.</summary>
    public IReadOnlyList<MemberRecord> Baseline => [.. definition.Members.Select(ToRecord)];

    public ClusterMember? Find(string id) => Members.FirstOrDefault(m => m.Id == id);

    /// <summary>The member whose peer URL is <paramref name="peerUrl"/>, if any.</summary>
    public ClusterMember? FindByPeerUrl(Uri peerUrl) => Members.FirstOrDefault(m => ClusterDefinition.SameEndpoint(m.PeerUrl, peerUrl));

    /// <summary>True once the directory says this member was removed, and not added again.</summary>
    public bool WasRemoved(string id) => State.Removed.ContainsKey(id) && !State.Members.ContainsKey(id);

    public static MemberRecord ToRecord(ClusterMember member)
        => new(member.Id, member.IsStarted ? Text(member.Url) : "", Text(member.PeerUrl), member.GrpcUrl is { } grpc ? Text(grpc) : "");

    public static ClusterMember FromRecord(MemberRecord record)
    {
        var peerUrl = new Uri(record.PeerUrl);
        return record.Url.Length == 0
            ? new ClusterMember(record.Id, peerUrl, peerUrl) { IsStarted = false }
            : new ClusterMember(record.Id, new Uri(record.Url), peerUrl, record.GrpcUrl.Length == 0 ? null : new Uri(record.GrpcUrl));
    }

    /// <summary>A URL as the directory keeps it: scheme, host and port, without the trailing slash.</summary>
    public static string Text(Uri url) => url.GetLeftPart(UriPartial.Authority);
}
