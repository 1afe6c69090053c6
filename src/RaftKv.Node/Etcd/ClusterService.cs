using System.IO.Hashing;
using System.Text;
using Etcdserverpb;
using Grpc.Core;
using RaftKv.Node.Cluster;
using RaftKv.Store.Membership;
using RaftKv.Store.Results;

namespace RaftKv.Node.Etcd;

/// <summary>
/// etcd's <c>Cluster</c> service over the replicated directory of members. The client URLs are the members'
/// gRPC addresses, where etcd's clients reach them (<c>etcdctl endpoint status --cluster</c> dials them),
/// given as host:port: etcdctl sends an endpoint's scheme in the HTTP/2 <c>:authority</c> of some calls,
/// which etcd's Go server overlooks and Kestrel refuses as an invalid host.
/// </summary>
/// <remarks>
/// <c>MemberAdd</c> names a peer URL alone, as etcd's does: the member is unstarted, with a placeholder
/// id, until it starts, votes, and publishes its own id and client URLs (<see cref="MemberPublisher"/>).
/// </remarks>
public sealed class ClusterService(EtcdAdapter etcd, MembershipChanges changes) : Etcdserverpb.Cluster.ClusterBase
{
    public override Task<MemberListResponse> MemberList(MemberListRequest request, ServerCallContext context)
    {
        // As etcd's: the Cluster service's headers carry no revision.
        var response = new MemberListResponse { Header = etcd.Header(revision: 0) };
        response.Members.AddRange(Members());
        return Task.FromResult(response);
    }

    public override async Task<MemberAddResponse> MemberAdd(MemberAddRequest request, ServerCallContext context)
    {
        if (request.IsLearner)
        {
            throw EtcdErrors.Unimplemented("raftkv: learners are not supported: DotNext 6.12 has no non-voting members");
        }

        if (request.PeerURLs is not [var given] || !Uri.TryCreate(given, UriKind.Absolute, out var peerUrl))
        {
            throw EtcdErrors.MemberBadUrls();
        }

        var peer = MemberDirectory.Text(peerUrl);
        var record = new MemberRecord(MemberDirectory.UnstartedPrefix + XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(peer)).ToString("x16"), "", peer, "");
        if (Store.Commands.RequestRules.CheckMember(record) is not null)
        {
            throw EtcdErrors.MemberBadUrls();
        }

        etcd.CheckLeader(context);
        var result = await etcd.ProposeAsync(changes.Add(record), etcd.NewRequestId(context), context);
        ThrowIfRejected(result);
        var response = new MemberAddResponse { Header = etcd.Header(revision: 0), Member = ToMessage(MemberDirectory.FromRecord(record)) };
        response.Members.AddRange(Members());
        return response;
    }

    public override async Task<MemberRemoveResponse> MemberRemove(MemberRemoveRequest request, ServerCallContext context)
    {
        if (etcd.View.Directory.Members.FirstOrDefault(m => EtcdIds.Member(m.Id) == request.ID) is not { } member)
        {
            throw EtcdErrors.MemberNotFound();
        }

        etcd.CheckLeader(context);
        var result = await etcd.ProposeAsync(changes.Remove(member.Id), etcd.NewRequestId(context), context);
        ThrowIfRejected(result);
        var response = new MemberRemoveResponse { Header = etcd.Header(revision: 0) };
        response.Members.AddRange(Members());
        return response;
    }

    public override Task<MemberUpdateResponse> MemberUpdate(MemberUpdateRequest request, ServerCallContext context)
        => throw EtcdErrors.Unimplemented("raftkv: a member's peer URL cannot be changed: remove the member and add it again");

    public override Task<MemberPromoteResponse> MemberPromote(MemberPromoteRequest request, ServerCallContext context)
        => throw EtcdErrors.Unimplemented("raftkv: learners are not supported: DotNext 6.12 has no non-voting members");

    private static void ThrowIfRejected(CommandResult result)
    {
        if (result.Status != CommandStatus.Applied)
        {
            throw EtcdErrors.Rejected(result);
        }
    }

    private IEnumerable<Member> Members() => etcd.View.Directory.Members.OrderBy(m => EtcdIds.Member(m.Id)).Select(ToMessage);

    private static Member ToMessage(Configuration.ClusterMember member)
    {
        // An unstarted member has no name, which is how etcdctl tells it apart.
        var message = new Member { ID = EtcdIds.Member(member.Id), Name = member.IsStarted ? member.Id : "", IsLearner = false };
        message.PeerURLs.Add(MemberDirectory.Text(member.PeerUrl));
        if (member.IsStarted && member.GrpcUrl is { } grpcUrl)
        {
            message.ClientURLs.Add(grpcUrl.Authority);
        }

        return message;
    }
}
