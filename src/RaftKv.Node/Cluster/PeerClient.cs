using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Serialization;
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
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(leader.PeerUrl, InternalApi.ProposePath))
        {
            Content = new ByteArrayContent(encodedCommands) { Headers = { ContentType = new MediaTypeHeaderValue("application/octet-stream") } },
        };
        SetDeadline(request, deadline);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
        timeout.CancelAfter(deadline.Remaining);
        try
        {
            using var response = await http.SendAsync(request, timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                return ProposalResult.Unknown($"The leader {leader.Id} answered the forwarded write with HTTP {(int)response.StatusCode}.");
            }

            var answer = await response.Content.ReadFromJsonAsync(PeerJsonContext.Default.ProposalResult, timeout.Token);
            return answer;
        }
        catch (HttpRequestException e) when (e.HttpRequestError == HttpRequestError.ConnectionError)
        {
            return ProposalResult.NotLeader();
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or System.Text.Json.JsonException)
        {
            return ProposalResult.Unknown($"The write was forwarded to the leader {leader.Id}, whose answer was lost: {e.Message}");
        }
    }

    /// <summary>Asks the leader for a read index it confirmed with a majority; null if it could not.</summary>
    public async Task<long?> ReadIndexAsync(ClusterMember leader, Deadline deadline, CancellationToken token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(leader.PeerUrl, InternalApi.ReadIndexPath));
        SetDeadline(request, deadline);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
        timeout.CancelAfter(deadline.Remaining);
        try
        {
            using var response = await http.SendAsync(request, timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                return null;
            }

            var answer = await response.Content.ReadFromJsonAsync(PeerJsonContext.Default.ReadIndexResponse, timeout.Token);
            return answer?.Index;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or System.Text.Json.JsonException)
        {
            token.ThrowIfCancellationRequested();
            return null;
        }
    }

    private static void SetDeadline(HttpRequestMessage request, Deadline deadline)
        => request.Headers.Add(DeadlineHeader, ((long)deadline.Remaining.TotalMilliseconds).ToString(CultureInfo.InvariantCulture));
}

/// <param name="Index">The commit index the leader confirmed, or null if it is not a ready leader.</param>
public sealed record ReadIndexResponse(long? Index);

[JsonSerializable(typeof(ProposalResult))]
[JsonSerializable(typeof(ReadIndexResponse))]
internal sealed partial class PeerJsonContext : JsonSerializerContext;
