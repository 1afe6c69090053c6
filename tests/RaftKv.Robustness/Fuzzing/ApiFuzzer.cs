using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Grpc.Core;
using Grpc.Net.Client;
using RaftKv.Testing;

namespace RaftKv.Robustness.Fuzzing;

/// <summary>What a fuzzing run sent and found.</summary>
/// <param name="Sent">Requests by kind (http, watch, grpc).</param>
/// <param name="Answers">Answers by status (HTTP code, or gRPC status name).</param>
/// <param name="Findings">Each broken rule, with the request that broke it.</param>
public sealed record ApiFuzzReport(IReadOnlyDictionary<string, int> Sent, IReadOnlyDictionary<string, int> Answers, IReadOnlyList<string> Findings)
{
    public override string ToString()
        => $"sent: {string.Join(", ", Sent.OrderBy(p => p.Key).Select(p => $"{p.Key} {p.Value}"))}\n"
            + $"answers: {string.Join(", ", Answers.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} {p.Value}"))}\n"
            + $"findings: {Findings.Count}{string.Concat(Findings.Take(20).Select(f => "\n  " + f))}";
}

/// <summary>
/// Sends <see cref="ApiRequests"/> one at a time to random nodes of a running cluster, and checks every
/// answer against three rules: no node crashes or hangs; no 5xx but 503, 504 and 507, each with a
/// problem body that says the outcome (over gRPC: no Internal, Unknown or DataLoss); and a request
/// that was refused leaves the state as it was: the revision, the compacted revision, every key's
/// value and versions, and the leases, read linearizably from one node after every request. As the
/// only client, the fuzzer knows that nothing else changes the state; a lease it manages to grant it
/// revokes at once, so no expiry changes it later.
/// </summary>
public sealed class ApiFuzzer(TestCluster cluster, int seed, TextWriter? progress = null)
{
    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(20);
    private static readonly HashSet<StatusCode> GrpcCrashes = [StatusCode.Internal, StatusCode.Unknown, StatusCode.DataLoss];

    private readonly Random random = new(seed);
    private readonly Dictionary<string, int> sent = [];
    private readonly Dictionary<string, int> answers = [];
    private readonly List<string> findings = [];

    public async Task<ApiFuzzReport> RunAsync(TimeSpan duration)
    {
        var requests = new ApiRequests(random);
        using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, RequestHeaderEncodingSelector = (_, _) => Encoding.UTF8 }) { Timeout = AnswerTimeout };
        var channels = cluster.Ids.ToDictionary(id => id, id => GrpcChannel.ForAddress(cluster.GrpcUrl(id)));
        var reader = cluster.Ids[0];
        var state = await StateAsync(http, reader);
        var clock = Stopwatch.StartNew();
        var count = 0;
        try
        {
            while (clock.Elapsed < duration && findings.Count < 100)
            {
                var node = cluster.Ids[random.Next(cluster.Ids.Count)];
                var (described, outcome) = random.Next(5) == 0
                    ? await SendGrpcAsync(http, channels[node], cluster.Url(node), requests.NextGrpc())
                    : await SendHttpAsync(http, cluster.Url(node), requests.NextHttp());

                foreach (var id in cluster.Ids.Where(id => !cluster.RunningIds.Contains(id)))
                {
                    findings.Add($"{id} is no longer running after: {described}\n{cluster.LogTail(id, 30)}");
                }

                if (findings.Count > 0 && findings[^1].Contains("no longer running", StringComparison.Ordinal))
                {
                    break;
                }

                if (outcome == Outcome.Unknown)
                {
                    // It may still be applied: the state is read once the node has given up on it.
                    await Task.Delay(TimeSpan.FromSeconds(6));
                }

                var after = await StateAsync(http, reader);
                if (outcome == Outcome.Refused && after != state)
                {
                    findings.Add($"refused, but the state changed ({state} -> {after}): {described}");
                }

                state = after;
                if (++count % 500 == 0)
                {
                    progress?.WriteLine($"{count} requests, {findings.Count} findings, {clock.Elapsed.TotalSeconds:0} s");
                }
            }
        }
        finally
        {
            foreach (var channel in channels.Values)
            {
                channel.Dispose();
            }
        }

        return new ApiFuzzReport(sent, answers, findings);
    }

    /// <summary>What an answer says about the state: a refused request must have changed nothing.</summary>
    private enum Outcome
    {
        Accepted,
        Refused,
        Unknown,
    }

    /// <summary>Sends one request; returns it as text, and what its answer says about the state.</summary>
    private async Task<(string Described, Outcome Outcome)> SendHttpAsync(HttpClient http, Uri node, FuzzHttpRequest request)
    {
        Count(sent, request.IsWatch ? "watch" : "http");
        var described = request.ToString();
        using var message = new HttpRequestMessage(new HttpMethod(request.Method), new Uri(node.GetLeftPart(UriPartial.Authority) + request.PathAndQuery));
        foreach (var (name, value) in request.Headers)
        {
            message.Headers.TryAddWithoutValidation(name, value);
        }

        if (request.Body is not null)
        {
            message.Content = new ByteArrayContent(request.Body);
            if (request.ContentType is not null)
            {
                message.Content.Headers.TryAddWithoutValidation("Content-Type", request.ContentType);
            }
        }

        try
        {
            using var response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead);
            var status = (int)response.StatusCode;
            Count(answers, status.ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (request.IsWatch && status == 200)
            {
                // A stream: read a little of it, then hang up, as an impatient client does.
                using var stop = new CancellationTokenSource(TimeSpan.FromMilliseconds(random.Next(10, 300)));
                try
                {
                    await using var stream = await response.Content.ReadAsStreamAsync(stop.Token);
                    var buffer = new byte[4096];
                    while (await stream.ReadAsync(buffer, stop.Token) > 0)
                    {
                        // Events, until the hang-up.
                    }
                }
                catch (OperationCanceledException)
                {
                    // Hung up.
                }

                return (described, Outcome.Accepted);
            }

            var body = await response.Content.ReadAsByteArrayAsync();
            if (status >= 500)
            {
                CheckServerError(status, response.Content.Headers.ContentType, body, described);
            }

            if (status == 201 && request.PathAndQuery.StartsWith("/v1/leases", StringComparison.Ordinal) && JsonDocument.Parse(body).RootElement.TryGetProperty("id", out var id))
            {
                // A granted lease would expire later and change the state under another request.
                using var revoke = await http.DeleteAsync(new Uri(node, $"/v1/leases/{id.GetInt64()}"));
            }

            return (described, status == 504 ? Outcome.Unknown : status >= 400 ? Outcome.Refused : Outcome.Accepted);
        }
        catch (TaskCanceledException)
        {
            findings.Add($"no answer within {AnswerTimeout.TotalSeconds:0} s: {described}");
            return (described, Outcome.Unknown);
        }
        catch (HttpRequestException e)
        {
            // The server closed the connection without an answer (a body or key it would not read):
            // not checked, but the state is read again after it.
            Count(answers, "connection closed");
            return (described + $" ({e.Message})", Outcome.Accepted);
        }
    }

    private async Task<(string Described, Outcome Outcome)> SendGrpcAsync(HttpClient http, GrpcChannel channel, Uri node, FuzzGrpcRequest request)
    {
        Count(sent, "grpc");
        var described = request.ToString();
        var method = new Method<byte[], byte[]>(MethodType.Unary, request.Service, request.Method, Marshallers.Create(b => b, b => b), Marshallers.Create(b => b, b => b));
        try
        {
            var response = await channel.CreateCallInvoker().AsyncUnaryCall(method, null, new CallOptions(deadline: DateTime.UtcNow + AnswerTimeout), request.Message);
            Count(answers, "grpc OK");
            if (request.Method == "LeaseGrant")
            {
                // A granted lease would expire later and change the state under another request.
                using var revoke = await http.DeleteAsync(new Uri(node, $"/v1/leases/{Etcdserverpb.LeaseGrantResponse.Parser.ParseFrom(response).ID}"));
            }

            return (described, Outcome.Accepted);
        }
        catch (RpcException e)
        {
            Count(answers, $"grpc {e.StatusCode}");
            if (GrpcCrashes.Contains(e.StatusCode) && !IsUnparsable(e))
            {
                findings.Add($"gRPC {e.StatusCode} \"{e.Status.Detail}\": {described}");
            }

            if (e.StatusCode == StatusCode.DeadlineExceeded && e.Status.Detail.Contains("Deadline Exceeded", StringComparison.Ordinal))
            {
                findings.Add($"no answer within {AnswerTimeout.TotalSeconds:0} s: {described}");
            }

            // Refused unless the node said the outcome is unknown (a timeout, or Unavailable with "unknown").
            var unknown = e.StatusCode == StatusCode.DeadlineExceeded || e.Trailers.GetValue("raftkv-outcome") == "unknown";
            return (described, unknown ? Outcome.Unknown : Outcome.Refused);
        }
    }

    /// <summary>etcd's own answer to a message it cannot parse (grpc-go's), which is not a crash.</summary>
    private static bool IsUnparsable(RpcException e)
        => e.StatusCode == StatusCode.Internal && e.Status.Detail.StartsWith("grpc: error unmarshalling request: ", StringComparison.Ordinal);

    private void CheckServerError(int status, MediaTypeHeaderValue? contentType, byte[] body, string described)
    {
        if (status is not (503 or 504 or 507))
        {
            findings.Add($"{status}: {described} -> {Encoding.UTF8.GetString(body.AsSpan(0, Math.Min(body.Length, 300)))}");
            return;
        }

        try
        {
            if (contentType?.MediaType != "application/problem+json" || !JsonDocument.Parse(body).RootElement.TryGetProperty("outcome", out _))
            {
                findings.Add($"{status} without a problem body that says the outcome: {described}");
            }
        }
        catch (JsonException)
        {
            findings.Add($"{status} with a body that is not JSON: {described}");
        }
    }

    /// <summary>A digest of everything the API can change, read linearizably from one node.</summary>
    private static async Task<string> StateAsync(HttpClient http, TestCluster cluster, string node)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var range = await http.GetByteArrayAsync(new Uri(cluster.Url(node), "/v1/kv?prefix=&limit=10000&encoding=base64"));
                var leases = await http.GetByteArrayAsync(new Uri(cluster.Url(node), "/v1/leases"));
                var status = JsonDocument.Parse(await http.GetByteArrayAsync(new Uri(cluster.Url(node), "/v1/status"))).RootElement;
                using var kvs = JsonDocument.Parse(range);
                var digest = Convert.ToHexString(SHA256.HashData([.. Encoding.UTF8.GetBytes(kvs.RootElement.GetProperty("kvs").GetRawText()), .. IdsOf(leases)]))[..16];
                return $"revision {kvs.RootElement.GetProperty("revision").GetInt64()}, compacted {status.GetProperty("compactRevision").GetInt64()}, digest {digest}";
            }
            catch (HttpRequestException) when (attempt < 20)
            {
                // A 503 while an election settles; the state is read again.
                await Task.Delay(500);
            }
        }
    }

    private Task<string> StateAsync(HttpClient http, string node) => StateAsync(http, cluster, node);

    /// <summary>The lease ids, without their seconds left, which change by themselves.</summary>
    private static byte[] IdsOf(byte[] leases)
        => Encoding.UTF8.GetBytes(string.Join(',', JsonDocument.Parse(leases).RootElement.GetProperty("leases").EnumerateArray().Select(l => l.GetProperty("id").GetInt64()).Order()));

    private static void Count(Dictionary<string, int> counts, string key) => counts[key] = counts.GetValueOrDefault(key) + 1;
}
