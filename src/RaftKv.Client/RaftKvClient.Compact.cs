using RaftKv.Client.Resilience;

namespace RaftKv.Client;

public sealed partial class RaftKvClient
{
    /// <summary>
    /// Compacts the store's history up to <paramref name="revision"/> (<c>POST /v1/compact</c>): reads at earlier
    /// revisions answer <see cref="RangeOutcome.Compacted"/> afterwards. A revision in the future (400) or at or
    /// below the current compact revision (409) is <see cref="WriteOutcome.NotApplied"/>, with the detail.
    /// </summary>
    public async Task<CompactResult> CompactAsync(long revision, int? node = null, CancellationToken token = default)
    {
        var body = KvJson.Write(json =>
        {
            json.WriteStartObject();
            json.WriteNumber("revision", revision);
            json.WriteEndObject();
        });
        using var request = NewRequest(HttpMethod.Post, node, "/v1/compact", new QueryBuilder(), RequestKind.Write, JsonContent(body));
        var answer = await SendWriteAsync(request, null, reply => KvJson.Int64(reply, "compactRevision"), token, acceptsKey: false);
        return answer.Outcome == WriteOutcome.Applied
            ? new CompactResult(WriteOutcome.Applied, answer.Body, answer.Status, null)
            : new CompactResult(answer.Outcome, answer.Problem.CompactRevision, answer.Status, answer.Problem.Detail);
    }
}
