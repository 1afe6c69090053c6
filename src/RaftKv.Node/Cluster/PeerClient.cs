using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using RaftKv.Node.Configuration;

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

    /// <summary>Asks the leader to propose an encoded command batch.</summary>
    /// <returns>The leader's answer. A failure to connect is <see cref="ProposalStatus.NotLeader"/> (nothing was sent); any later failure is unknown.</returns>
    public async Task<ProposalResult> ProposeAsync(ClusterMember leader, byte[] encodedCommands, Deadline deadline, CancellationToken token)
    {
        var content = new ByteArrayContent(encodedCommands) { Headers = { ContentType = new MediaTypeHeaderValue("application/octet-stream") } };
        try
        {
            var (status, answer) = await PostAsync(new Uri(leader.PeerUrl, InternalApi.ProposePath), content, PeerJsonContext.Default.ProposalResult, deadline, token);
            return status == HttpStatusCode.OK
                ? answer
                : ProposalResult.Unknown($"The leader {leader.Id} answered the forwarded write with HTTP {(int)status}.");
        }
        catch (HttpRequestException e) when (e.HttpRequestError == HttpRequestError.ConnectionError)
        {
            return ProposalResult.NotLeader();
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or JsonException)
        {
            return ProposalResult.Unknown($"The write was forwarded to the leader {leader.Id}, whose answer was lost: {e.Message}");
        }
    }

    /// <summary>Asks the leader for a read index it confirmed with a majority; null if it could not.</summary>
    public async Task<long?> ReadIndexAsync(ClusterMember leader, Deadline deadline, CancellationToken token)
    {
        try
        {
            var (status, answer) = await PostAsync(new Uri(leader.PeerUrl, InternalApi.ReadIndexPath), null, PeerJsonContext.Default.ReadIndexResponse, deadline, token);
            return status == HttpStatusCode.OK ? answer?.Index : null;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or JsonException)
        {
            token.ThrowIfCancellationRequested();
            return null;
        }
    }

    private async Task<(HttpStatusCode Status, T? Answer)> PostAsync<T>(Uri url, HttpContent? content, JsonTypeInfo<T> answerType, Deadline deadline, CancellationToken token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = content };
        request.Headers.Add(DeadlineHeader, ((long)deadline.Remaining.TotalMilliseconds).ToString(CultureInfo.InvariantCulture));
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

[JsonSerializable(typeof(ProposalResult))]
[JsonSerializable(typeof(ReadIndexResponse))]
internal sealed partial class PeerJsonContext : JsonSerializerContext;
