using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using RaftKv.Node.Api;
using RaftKv.Node.Configuration;
using RaftKv.Node.Leases;
using RaftKv.Store.Commands;

namespace RaftKv.Node.Cluster;

/// <summary>
/// Calls the intra-cluster endpoints (<see cref="InternalApi"/>) of another member, on its peer URL,
/// so that cutting a node's Raft traffic cuts its forwarding too.
/// </summary>
/// <remarks>Never retries by itself: only the caller knows whether a retry is safe.</remarks>
public sealed class PeerClient(HttpClient http)
{
    public const string HttpClientName = "raftkv-peers";
    public const string DeadlineHeader = "X-RaftKv-Deadline-Ms";

    /// <summary>Asks the leader to propose a batch of commands, each by its own deadline.</summary>
    /// <returns>
    /// One answer per command. A failure to connect is <see cref="ProposalStatus.NotLeader"/> for all
    /// (nothing was sent), and a 4xx refusal not applied for all; any other failure is unknown for all.
    /// </returns>
    public async Task<ProposalResult[]> ProposeAsync(ClusterMember leader, IReadOnlyList<WriteCommand> commands, IReadOnlyList<Deadline> deadlines)
    {
        var content = new ByteArrayContent(CommandCodec.Encode([.. commands])) { Headers = { ContentType = new MediaTypeHeaderValue("application/octet-stream") } };
        var deadline = Deadline.Latest(deadlines);
        ProposalResult shared;
        try
        {
            using var request = NewRequest(new Uri(leader.PeerUrl, InternalApi.ProposePath), content, deadlines);
            using var timeout = new CancellationTokenSource(deadline.Remaining);
            using var response = await http.SendAsync(request, timeout.Token);
            if (response.StatusCode == HttpStatusCode.OK
                && ProposalResult.Decode(await response.Content.ReadAsByteArrayAsync(timeout.Token)) is { } answer
                && answer.Length == commands.Count)
            {
                return answer;
            }

            // A refusal of the request itself comes before anything is proposed.
            shared = (int)response.StatusCode is >= 400 and < 500
                ? ProposalResult.NotApplied($"The leader {leader.Id} refused the forwarded writes with HTTP {(int)response.StatusCode}.")
                : ProposalResult.Unknown($"The leader {leader.Id} answered the forwarded writes with HTTP {(int)response.StatusCode}.");
        }
        catch (HttpRequestException e) when (e.HttpRequestError == HttpRequestError.ConnectionError)
        {
            shared = ProposalResult.NotLeader();
        }
        catch (Exception e) when (IsLostExchange(e) || e is InvalidDataException)
        {
            shared = ProposalResult.Unknown($"The writes were forwarded to the leader {leader.Id}, whose answer was lost: {e.Message}");
        }

        return [.. commands.Select(_ => shared)];
    }

    /// <summary>Asks the leader for a read index it confirmed with a majority (or its lease, if allowed); null if it could not.</summary>
    public async Task<long?> ReadIndexAsync(ClusterMember leader, bool allowLease, Deadline deadline, CancellationToken token)
    {
        try
        {
            var path = allowLease ? InternalApi.ReadIndexPath + "?lease=true" : InternalApi.ReadIndexPath;
            var (status, answer) = await SendAsync(HttpMethod.Post, new Uri(leader.PeerUrl, path), PeerJsonContext.Default.ReadIndexResponse, deadline, token);
            return status == HttpStatusCode.OK ? answer?.Index : null;
        }
        catch (Exception e) when (IsLostExchange(e))
        {
            token.ThrowIfCancellationRequested();
            return null;
        }
    }

    /// <summary>Asks the leader about a lease (<see cref="InternalApi.LeasesPath"/> + <paramref name="path"/>); null if the exchange was lost.</summary>
    public async Task<(HttpStatusCode Status, T? Answer)?> LeaseAsync<T>(ClusterMember leader, HttpMethod method, string path, JsonTypeInfo<T> answerType, Deadline deadline, CancellationToken token)
    {
        try
        {
            return await SendAsync(method, new Uri(leader.PeerUrl, $"{InternalApi.LeasesPath}/{path}".TrimEnd('/')), answerType, deadline, token);
        }
        catch (Exception e) when (IsLostExchange(e))
        {
            token.ThrowIfCancellationRequested();
            return null;
        }
    }

    /// <summary>A member's own status, from its <see cref="InternalApi.StatusPath"/>; or why there is none.</summary>
    public async Task<(NodeStatus? Status, string? Error)> StatusAsync(ClusterMember member, TimeSpan timeout, CancellationToken token)
    {
        try
        {
            var (status, answer) = await SendAsync(HttpMethod.Get, new Uri(member.PeerUrl, InternalApi.StatusPath), PeerJsonContext.Default.NodeStatus, Deadline.After(timeout), token);
            return answer is null ? (null, $"HTTP {(int)status}") : (answer, null);
        }
        catch (Exception e) when (IsLostExchange(e))
        {
            token.ThrowIfCancellationRequested();
            return (null, e is OperationCanceledException ? $"no answer within {timeout.TotalMilliseconds:0} ms" : e.Message);
        }
    }

    /// <summary>The request or its answer was lost on the way: a timeout, a broken connection, a truncated body.</summary>
    private static bool IsLostExchange(Exception e)
        => e is HttpRequestException or OperationCanceledException or JsonException or IOException or SocketException;

    /// <summary>A request to a peer that carries the milliseconds left to each deadline, comma-separated.</summary>
    private static HttpRequestMessage NewRequest(Uri url, HttpContent? content, IReadOnlyList<Deadline> deadlines)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = content };
        request.Headers.TryAddWithoutValidation(DeadlineHeader, string.Join(',', deadlines.Select(d => ((long)d.Remaining.TotalMilliseconds).ToString(CultureInfo.InvariantCulture))));
        return request;
    }

    private async Task<(HttpStatusCode Status, T? Answer)> SendAsync<T>(HttpMethod method, Uri url, JsonTypeInfo<T> answerType, Deadline deadline, CancellationToken token)
    {
        using var request = NewRequest(url, null, [deadline]);
        request.Method = method;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
        timeout.CancelAfter(deadline.Remaining);
        using var response = await http.SendAsync(request, timeout.Token);
        return response.StatusCode == HttpStatusCode.OK
            ? (response.StatusCode, await response.Content.ReadFromJsonAsync(answerType, timeout.Token))
            : (response.StatusCode, default);
    }
}

/// <param name="Index">The commit index the leader confirmed, or null if it is not a ready leader.</param>
public sealed record ReadIndexResponse(long? Index);

[JsonSerializable(typeof(ReadIndexResponse))]
[JsonSerializable(typeof(LeaseInfo))]
[JsonSerializable(typeof(LeaseInfo[]))]
[JsonSerializable(typeof(NodeStatus))]
internal sealed partial class PeerJsonContext : JsonSerializerContext;
