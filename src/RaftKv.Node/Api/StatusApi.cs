using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;
using RaftKv.Node.Cluster;
using RaftKv.Node.Configuration;
using RaftKv.Node.Etcd;
using RaftKv.Node.Raft;
using RaftKv.Node.Watch;

namespace RaftKv.Node.Api;

/// <summary><c>GET /v1/status</c>: this node's view of the cluster, for operators and tests.</summary>
public static class StatusApi
{
    public static IEndpointRouteBuilder MapStatusApi(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/v1/status", (HttpContext context) => TypedResults.Ok(Describe(context.RequestServices))).WithSummary("This node's view of itself and the cluster");
        routes.MapGet("/v1/cluster/status", DescribeClusterAsync).Produces<ClusterStatus>().WithSummary("Every member's own status");
        return routes;
    }

    /// <summary>This node's status, as <c>GET /v1/status</c> and the peers' <see cref="InternalApi.StatusPath"/> serve it.</summary>
    public static NodeStatus Describe(IServiceProvider services)
    {
        var view = services.GetRequiredService<ClusterView>();
        var identity = services.GetRequiredService<ClusterIdentity>();
        var stateMachine = services.GetRequiredService<KvStateMachine>();
        var formats = services.GetRequiredService<MemberAdvertisements>();
        var watches = services.GetRequiredService<WatchHub>();
        var disk = services.GetRequiredService<DiskSpace>();
        var advertised = formats.ByMember;
        var raft = view.Raft;
        var leader = view.Leader;
        var log = view.Log;
        var store = stateMachine.Store.View;
        var reachability = raft.Members
            .Select(m => (Member: m.EndPoint is UriEndPoint endpoint ? view.Directory.FindByPeerUrl(endpoint.Uri) : null, m.Status))
            .Where(p => p.Member is not null)
            .ToDictionary(p => p.Member!.Id, p => p.Status.ToString().ToLowerInvariant());
        return new NodeStatus(
            view.Self.Id,
            EtcdIds.Format(identity.Id),
            view.Self.Url,
            view.Self.PeerUrl,
            view.Role,
            raft.AuditTrail.Term,
            leader is null ? null : new MemberRef(leader.Id, leader.Url),
            log.LastCommittedEntryIndex,
            log.LastAppliedIndex,
            log.LastEntryIndex,
            stateMachine.Snapshot?.Index ?? 0,
            stateMachine.SnapshotsInstalled,
            store.Revision,
            store.CompactRevision,
            store.LiveKeys,
            store.Leases.Count,
            watches.Watchers,
            log.SyncedAppends,
            disk.FreeBytes,
            disk.WriteRefusal is not null,
            formats.SettingsDisagreement,
            formats.ClusterFormat,
            [.. view.Directory.Members.Select(m => new MemberStatus(
                m.Id,
                m.Url,
                m.PeerUrl,
                m.Id == view.Self.Id ? "self" : reachability.GetValueOrDefault(m.Id, "unknown"),
                advertised.GetValueOrDefault(m.Id),
                reachability.ContainsKey(m.Id)))],
            [.. raft.Members.Select(m => m.EndPoint).OfType<UriEndPoint>().Select(e => e.Uri)]);
    }

    /// <summary>
    /// Every member's own status, asked of it over the peer channel (so it works with peer TLS and
    /// with authentication on, as <c>/v1/status</c> does): what the web console's cluster view shows.
    /// </summary>
    private static async Task<IResult> DescribeClusterAsync(HttpContext context, ClusterView view, PeerClient peers, IOptions<RaftKvOptions> options)
    {
        // An election timeout: long enough for a loaded member, short enough that a dead one does not hold up the page.
        var timeout = TimeSpan.FromMilliseconds(options.Value.ElectionTimeoutMs);
        var reports = await Task.WhenAll(view.Directory.Members.Select(async member =>
        {
            if (member.Id == view.Self.Id)
            {
                return new MemberReport(member.Id, member.Url, Describe(context.RequestServices), null);
            }

            var (status, error) = await peers.StatusAsync(member, timeout, context.RequestAborted);
            return new MemberReport(member.Id, member.Url, status, error);
        }));
        return TypedResults.Ok(new ClusterStatus(view.Self.Id, reports));
    }
}

/// <param name="Node">The member that answered.</param>
/// <param name="Members">Every member in its directory, in the directory's order.</param>
public sealed record ClusterStatus(string Node, IReadOnlyList<MemberReport> Members);

/// <param name="Status">The member's own <c>/v1/status</c>; null if it did not answer in time.</param>
/// <param name="Error">Why there is no status, or null.</param>
public sealed record MemberReport(string Id, Uri Url, NodeStatus? Status, string? Error);

public sealed record MemberRef(string Id, Uri Url);

/// <param name="Status">As DotNext sees the member from here (available, unavailable, unknown), or self.</param>
/// <param name="CommandFormat">The command format the member advertised when last asked; null if never reached.</param>
/// <param name="Voting">Whether it votes, in this node's copy of the configuration: a member just added votes once it has caught up.</param>
public sealed record MemberStatus(string Id, Uri Url, Uri PeerUrl, string Status, int? CommandFormat, bool Voting);

/// <param name="ClusterId">The cluster's id in hex, as etcd prints it: new for a cluster restored from a backup.</param>
/// <param name="SnapshotIndex">The last log index the snapshot the log is trimmed to covers (taken here or installed from the leader); 0 if none.</param>
/// <param name="SnapshotsInstalled">Snapshots the leader sent this node since it started.</param>
/// <param name="Leases">Leases that exist in this node's state (expired ones until the leader's revoke is applied).</param>
/// <param name="Watchers">Watches this node is serving.</param>
/// <param name="SyncedAppends">Replicated batches this node flushed to disk before acknowledging them.</param>
/// <param name="DiskFreeBytes">Free bytes on the data volume.</param>
/// <param name="DiskLow">Below <c>RaftKv:MinFreeDiskBytes</c>: the node takes no writes and does not campaign.</param>
/// <param name="SettingsDisagreement">A shared setting some member holds at another value, or null.</param>
/// <param name="Voters">The peer URLs of the members that vote, in this node's copy of DotNext's configuration (the last it applied).</param>
/// <param name="ClusterCommandFormat">The lowest command format any member reads: what this node proposes when it leads.</param>
public sealed record NodeStatus(
    string Id,
    string ClusterId,
    Uri Url,
    Uri PeerUrl,
    string Role,
    long Term,
    MemberRef? Leader,
    long CommitIndex,
    long AppliedIndex,
    long LastLogIndex,
    long SnapshotIndex,
    long SnapshotsInstalled,
    long Revision,
    long CompactRevision,
    long Keys,
    int Leases,
    int Watchers,
    long SyncedAppends,
    long DiskFreeBytes,
    bool DiskLow,
    string? SettingsDisagreement,
    int ClusterCommandFormat,
    IReadOnlyList<MemberStatus> Members,
    IReadOnlyList<Uri> Voters);
