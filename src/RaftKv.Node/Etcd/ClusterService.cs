using Etcdserverpb;
using Grpc.Core;

namespace RaftKv.Node.Etcd;

/// <summary>
/// etcd's <c>Cluster</c> service. The client URLs are the members' gRPC addresses, where etcd's
/// clients reach them (<c>etcdctl endpoint status --cluster</c> dials them), given as host:port:
/// etcdctl sends an endpoint's scheme in the HTTP/2 <c>:authority</c> of some calls, which etcd's Go
/// server overlooks and Kestrel refuses as an invalid host.
/// </summary>
public sealed class ClusterService(EtcdAdapter etcd) : Etcdserverpb.Cluster.ClusterBase
{
    private const string StaticMembership = "raftkv: membership is static (the cluster file) until dynamic membership is implemented";

    public override Task<MemberListResponse> MemberList(MemberListRequest request, ServerCallContext context)
    {
        // As etcd's: the Cluster service's headers carry no revision.
        var response = new MemberListResponse { Header = etcd.Header(revision: 0) };
        foreach (var member in etcd.View.Definition.Members.OrderBy(m => EtcdIds.Member(m.Id)))
        {
            var message = new Member { ID = EtcdIds.Member(member.Id), Name = member.Id, IsLearner = false };
            message.PeerURLs.Add(member.PeerUrl.GetLeftPart(UriPartial.Authority));
            if (member.GrpcUrl is { } grpcUrl)
            {
                message.ClientURLs.Add(grpcUrl.Authority);
            }

            response.Members.Add(message);
        }

        return Task.FromResult(response);
    }

    public override Task<MemberAddResponse> MemberAdd(MemberAddRequest request, ServerCallContext context) => throw EtcdErrors.Unimplemented(StaticMembership);

    public override Task<MemberRemoveResponse> MemberRemove(MemberRemoveRequest request, ServerCallContext context) => throw EtcdErrors.Unimplemented(StaticMembership);

    public override Task<MemberUpdateResponse> MemberUpdate(MemberUpdateRequest request, ServerCallContext context) => throw EtcdErrors.Unimplemented(StaticMembership);

    public override Task<MemberPromoteResponse> MemberPromote(MemberPromoteRequest request, ServerCallContext context) => throw EtcdErrors.Unimplemented(StaticMembership);
}
