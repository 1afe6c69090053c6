using System.Net;
using System.Text.Json;
using RaftKv.Client.Resilience;

namespace RaftKv.Client;

public sealed partial class RaftKvClient
{
    /// <summary>One node's view of itself and the cluster (<c>GET /v1/status</c>), from the node asked, without a consensus round.</summary>
    public async Task<StatusResult> StatusAsync(int? node = null, CancellationToken token = default)
    {
        using var request = NewRequest(HttpMethod.Get, node, "/v1/status", new QueryBuilder(), RequestKind.Query);
        var (outcome, body, status, detail) = await SendQueryAsync(request, token);
        using (body)
        {
            if (outcome != LeaseOutcome.Ok)
            {
                return new StatusResult(null, status, detail);
            }

            var root = body!.RootElement;
            var leader = root.TryGetProperty("leader", out var l) && l.ValueKind == JsonValueKind.Object ? KvJson.String(l, "id") : null;
            return new StatusResult(
                new NodeStatus(
                    KvJson.String(root, "id"), KvJson.String(root, "clusterId"), KvJson.String(root, "role"), KvJson.Int64(root, "term"), leader,
                    KvJson.Int64(root, "commitIndex"), KvJson.Int64(root, "appliedIndex"), KvJson.Int64(root, "lastLogIndex"), KvJson.Int64(root, "revision"),
                    KvJson.Int64(root, "compactRevision"), KvJson.Int64(root, "keys"), KvJson.Int64(root, "leases"), KvJson.Int64(root, "watchers"), KvJson.Boolean(root, "diskLow")),
                status,
                null);
        }
    }

    /// <summary>The directory of members (<c>GET /v1/members</c>).</summary>
    public async Task<MembersResult> MembersAsync(int? node = null, CancellationToken token = default)
    {
        using var request = NewRequest(HttpMethod.Get, node, "/v1/members", new QueryBuilder(), RequestKind.Query);
        var (outcome, body, status, detail) = await SendQueryAsync(request, token);
        using (body)
        {
            if (outcome != LeaseOutcome.Ok)
            {
                return new MembersResult(null, null, status, detail);
            }

            var root = body!.RootElement;
            var leader = root.TryGetProperty("leader", out var l) && l.ValueKind == JsonValueKind.String ? l.GetString() : null;
            return new MembersResult([.. root.GetProperty("members").EnumerateArray().Select(ParseMember)], leader, status, null);
        }
    }

    /// <summary>
    /// Adds a member (<c>POST /v1/members</c>): applied once the directory holds it; <see cref="MemberChangeResult.ReachedVoters"/>
    /// says whether it already votes (201) or is still being brought in (202).
    /// </summary>
    /// <param name="member">Its id and URLs; <see cref="Member.Url"/> and <see cref="Member.GrpcUrl"/> may be null.</param>
    /// <param name="idempotencyKey">Makes a retry of an unknown outcome safe, as for any write.</param>
    /// <param name="node">The node to ask (default: the next one in turn).</param>
    /// <param name="token">Cancels the request.</param>
    public async Task<MemberChangeResult> AddMemberAsync(Member member, string? idempotencyKey = null, int? node = null, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(member);
        var body = KvJson.Write(json =>
        {
            json.WriteStartObject();
            json.WriteString("id", member.Id);
            if (member.Url is { } url)
            {
                json.WriteString("url", url.ToString());
            }

            json.WriteString("peerUrl", member.PeerUrl.ToString());
            if (member.GrpcUrl is { } grpcUrl)
            {
                json.WriteString("grpcUrl", grpcUrl.ToString());
            }

            json.WriteEndObject();
        });
        using var request = NewRequest(HttpMethod.Post, node, "/v1/members", new QueryBuilder(), RequestKind.Write, JsonContent(body));
        var answer = await SendWriteAsync(request, idempotencyKey, ParseMember, token);
        return answer.Outcome == WriteOutcome.Applied
            ? new MemberChangeResult(WriteOutcome.Applied, answer.Body, ReachedVoters: answer.Status == (int)HttpStatusCode.Created, answer.Status, null)
            : new MemberChangeResult(answer.Outcome, null, false, answer.Status, answer.Problem.Detail);
    }

    /// <summary>Removes a member (<c>DELETE /v1/members/{id}</c>); <see cref="MemberChangeResult.ReachedVoters"/> is false while it still votes (202).</summary>
    public async Task<MemberChangeResult> RemoveMemberAsync(string id, string? idempotencyKey = null, int? node = null, CancellationToken token = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        using var request = NewRequest(HttpMethod.Delete, node, "/v1/members/" + Uri.EscapeDataString(id), new QueryBuilder(), RequestKind.Write);
        var answer = await SendWriteAsync(request, idempotencyKey, reply => KvJson.Boolean(reply, "voting"), token);
        return answer.Outcome == WriteOutcome.Applied
            ? new MemberChangeResult(WriteOutcome.Applied, null, ReachedVoters: !answer.Body, answer.Status, null)
            : new MemberChangeResult(answer.Outcome, null, false, answer.Status, answer.Problem.Detail);
    }

    /// <summary>
    /// Saves a backup of every key (<c>GET /v1/snapshot</c>, root only with auth on) into <paramref name="destination"/>,
    /// as <c>etcdctl snapshot save</c>; <c>RaftKv.Node restore</c> seeds a new cluster from it.
    /// </summary>
    public async Task<SnapshotResult> SaveSnapshotAsync(Stream destination, int? node = null, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        using var timeout = CallTimeout(token);
        try
        {
            using var request = NewRequest(HttpMethod.Get, node, "/v1/snapshot", new QueryBuilder(), RequestKind.Stream);
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var status = (int)response.StatusCode;
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return new SnapshotResult(false, 0, 0, status, (await ReadProblemAsync(response, timeout.Token)).Detail);
            }

            // A large backup takes as long as it takes: the timeout covered the wait for its first byte.
            timeout.CancelAfter(Timeout.InfiniteTimeSpan);
            await using var content = await response.Content.ReadAsStreamAsync(timeout.Token);
            var start = destination.CanSeek ? destination.Position : 0;
            await content.CopyToAsync(destination, timeout.Token);
            var bytes = destination.CanSeek ? destination.Position - start : response.Content.Headers.ContentLength ?? 0;
            if (response.Content.Headers.ContentLength is { } expected && bytes != expected)
            {
                return new SnapshotResult(false, 0, bytes, status, $"The backup ended after {bytes} of {expected} bytes.");
            }

            return new SnapshotResult(true, Header(response, "X-RaftKv-Revision"), bytes, status, null);
        }
        catch (Exception e) when (IsLostExchange(e) && !token.IsCancellationRequested)
        {
            return new SnapshotResult(false, 0, 0, null, e.Message);
        }
    }

    private static Member ParseMember(JsonElement member)
    {
        static Uri? OptionalUri(JsonElement element, string name)
            => element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text ? new Uri(text) : null;

        return new Member(
            KvJson.String(member, "id"), OptionalUri(member, "url"), OptionalUri(member, "peerUrl") ?? throw new JsonException("\"peerUrl\" is missing."),
            OptionalUri(member, "grpcUrl"), KvJson.Boolean(member, "started"), KvJson.Boolean(member, "voting"));
    }
}

/// <summary>One node's view (<c>GET /v1/status</c>).</summary>
/// <param name="Id">The node's member id.</param>
/// <param name="ClusterId">The cluster id, in etcd's hex form.</param>
/// <param name="Role">leader, follower, candidate or unknown.</param>
/// <param name="Term">The node's Raft term.</param>
/// <param name="LeaderId">The leader it knows of, if any.</param>
/// <param name="CommitIndex">The log index it knows to be committed.</param>
/// <param name="AppliedIndex">The log index it has applied.</param>
/// <param name="LastLogIndex">The last index in its log.</param>
/// <param name="Revision">The store revision it has applied.</param>
/// <param name="CompactRevision">Its compact revision.</param>
/// <param name="Keys">Live keys.</param>
/// <param name="Leases">Granted leases.</param>
/// <param name="Watchers">Watches it serves.</param>
/// <param name="DiskLow">Its data volume is low on space, so it takes no writes.</param>
public sealed record NodeStatus(
    string Id, string ClusterId, string Role, long Term, string? LeaderId, long CommitIndex, long AppliedIndex, long LastLogIndex,
    long Revision, long CompactRevision, long Keys, long Leases, long Watchers, bool DiskLow);

/// <param name="Status">The node's status, or null if it could not be read.</param>
/// <param name="StatusCode">The HTTP status, or null if no response arrived.</param>
/// <param name="Detail">Why it could not be read.</param>
public readonly record struct StatusResult(NodeStatus? Status, int? StatusCode, string? Detail);

/// <summary>A member of the cluster's directory.</summary>
/// <param name="Id">Its id.</param>
/// <param name="Url">Its client URL; null until an unstarted member publishes it.</param>
/// <param name="PeerUrl">Its peer URL.</param>
/// <param name="GrpcUrl">Its gRPC URL, if it serves etcd's API.</param>
/// <param name="Started">It has run and published its URLs.</param>
/// <param name="Voting">It votes in the cluster's configuration.</param>
public sealed record Member(string Id, Uri? Url, Uri PeerUrl, Uri? GrpcUrl, bool Started, bool Voting);

/// <param name="Members">The members, or null if they could not be read.</param>
/// <param name="LeaderId">The leader the node asked knows of, if any.</param>
/// <param name="StatusCode">The HTTP status, or null if no response arrived.</param>
/// <param name="Detail">Why they could not be read.</param>
public readonly record struct MembersResult(IReadOnlyList<Member>? Members, string? LeaderId, int? StatusCode, string? Detail);

/// <param name="Outcome">Applied, not applied (bad input, a conflict, an unknown member: see the detail) or unknown.</param>
/// <param name="Member">For an addition, the member as the directory now holds it, when applied.</param>
/// <param name="ReachedVoters">Whether the change already reached the voters: an added member votes, a removed one no longer does.</param>
/// <param name="StatusCode">The HTTP status, or null if no response arrived.</param>
/// <param name="Detail">Why it was not applied.</param>
public readonly record struct MemberChangeResult(WriteOutcome Outcome, Member? Member, bool ReachedVoters, int? StatusCode, string? Detail);

/// <param name="Saved">The whole backup was written.</param>
/// <param name="Revision">The store revision it holds.</param>
/// <param name="Bytes">Its size.</param>
/// <param name="StatusCode">The HTTP status, or null if no response arrived.</param>
/// <param name="Detail">Why it was not saved.</param>
public readonly record struct SnapshotResult(bool Saved, long Revision, long Bytes, int? StatusCode, string? Detail);
