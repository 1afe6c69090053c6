using Etcdserverpb;
using Grpc.Core;

namespace RaftKv.Node.Etcd;

/// <summary>
/// etcd's <c>Cluster</c> service. The client URLs are the members' gRPC URLs, where etcd's clients
/// can reach them (<c>etcdctl endpoint status --cluster</c> dials them).
/// </summary>
public sealed class ClusterService(EtcdAdapter etcd) : Etcdserverpb.Cluster.ClusterBase
{
    private const string StaticMembership = "raftkv: membership is static (the cluster file) until dynamic membership is implemented";

    public override Task<MemberListResponse> MemberList(MemberListRequest request, ServerCallContext context)
    {
        var response = new MemberListResponse { Header = etcd.Header() };
        foreach (var member in etcd.View.Definition.Members.OrderBy(m => EtcdIds.Member(m.Id)))
        {
            var message = new Member { ID = EtcdIds.Member(member.Id), Name = member.Id, IsLearner = false };
            message.PeerURLs.Add(member.PeerUrl.GetLeftPart(UriPartial.Authority));
            if (member.GrpcUrl is { } grpcUrl)
            {
                message.ClientURLs.Add(grpcUrl.GetLeftPart(UriPartial.Authority));
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
