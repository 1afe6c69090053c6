using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using RaftKv.Client;
using RaftKv.Robustness.Harness;
using RaftKv.Robustness.History;

namespace RaftKv.Robustness.Tests.Harness;

/// <summary>
/// <c>--retry-unknown</c> over etcd's gRPC API, against scripted nodes: an unknown write is resent, the same message under
/// the same <c>idempotency-key</c> metadata, until a response settles it; an error of a retry, even not-applied, does not.
/// </summary>
public sealed class GrpcRegisterClientRetryTests
{
    private static readonly Func<HttpResponseMessage> Unknown = Status(StatusCode.Unavailable, "etcdserver: request timed out", outcome: "unknown");

    private static readonly Func<HttpResponseMessage> NotApplied = Status(StatusCode.Unavailable, "etcdserver: no leader", outcome: "not-applied");

    [Fact]
    public async Task An_unknown_put_is_resent_under_its_key_until_a_response_and_completes_once_with_its_revision()
    {
        var nodes = new ScriptedNodes([Unknown, NotApplied, Reply(new PutResponse { Header = new ResponseHeader { Revision = 7 } })]);
        using var run = new Run(nodes);

        var completion = await run.Client.WriteAsync(2, "register/0/1", "4", node: 3);

        Assert.Equal((HistoryEventType.Ok, 7L), (completion.Type, completion.Revision));
        var sent = nodes.Sent;
        Assert.Equal(3, sent.Count);
        Assert.Equal(3, sent[0].Node);
        Assert.All(sent, request => Assert.Equal(("/etcdserverpb.KV/Put", "register/0/1", "4"), (request.Uri.AbsolutePath, Put(request).Key.ToStringUtf8(), Put(request).Value.ToStringUtf8())));
        var key = sent[0].Header("idempotency-key");
        Assert.False(string.IsNullOrEmpty(key));
        Assert.All(sent, request => Assert.Equal(key, request.Header("idempotency-key")));

        var history = run.History();
        Assert.Equal([HistoryEventType.Invoke, HistoryEventType.Ok], history.Select(e => e.Type));
        Assert.True(history[1].Time >= nodes.LastAnswerTime, "The completion must come after the response that settled it.");
        Assert.Equal(new RetryCounts(Unknown: 1, Resolved: 1, Retries: 2), run.Retry.Counts);
    }

    [Fact]
    public async Task A_cas_whose_retry_answers_not_succeeded_is_fail()
    {
        var nodes = new ScriptedNodes([Unknown, Reply(new TxnResponse { Header = new ResponseHeader { Revision = 5 }, Succeeded = false })]);
        using var run = new Run(nodes);

        var completion = await run.Client.CasAsync(0, "register/0/0", "1", "2", node: 0);

        Assert.Equal(HistoryEventType.Fail, completion.Type);
        Assert.Equal(2, nodes.Sent.Count);
        Assert.Equal(nodes.Sent[0].Body, nodes.Sent[1].Body);
        Assert.Single(nodes.Sent.Select(request => request.Header("idempotency-key")).Distinct());
        Assert.Equal(new RetryCounts(Unknown: 1, Resolved: 1, Retries: 1), run.Retry.Counts);
    }

    [Fact]
    public async Task Retries_refused_unproposed_leave_the_write_unknown_once_the_bound_runs_out()
    {
        // A window long enough that a loaded machine still fits several retries of a few milliseconds in it.
        var window = TimeSpan.FromSeconds(2);
        var nodes = new ScriptedNodes([Unknown], thenAlways: NotApplied);
        using var run = new Run(nodes, new RetryBound(window, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(5)));

        var started = Stopwatch.StartNew();
        var completion = await run.Client.WriteAsync(0, "register/0/2", "1", node: 1);

        Assert.Equal(HistoryEventType.Info, completion.Type);
        Assert.True(started.Elapsed >= window, $"Gave up after {started.Elapsed}, inside the {window} window.");
        Assert.True(nodes.Sent.Count >= 3, $"Expected retries for the whole window, got {nodes.Sent.Count} requests.");
        Assert.Equal(new RetryCounts(Unknown: 1, Resolved: 0, Retries: nodes.Sent.Count - 1), run.Retry.Counts);
    }

    [Fact]
    public async Task A_key_refused_as_reused_ends_the_run()
    {
        var nodes = new ScriptedNodes([Unknown, Status(StatusCode.FailedPrecondition, "raftkv: this idempotency-key was already used for a different request; nothing was changed", outcome: null)]);
        using var run = new Run(nodes);

        var thrown = await Assert.ThrowsAsync<IdempotencyKeyReusedException>(() => run.Client.WriteAsync(0, "register/0/0", "1", node: 1));
        Assert.Equal(nodes.Sent[0].Header("idempotency-key"), thrown.Key);
    }

    [Fact]
    public async Task A_definite_first_answer_is_not_retried()
    {
        var nodes = new ScriptedNodes([NotApplied]);
        using var run = new Run(nodes);

        Assert.Equal(HistoryEventType.Fail, (await run.Client.CasAsync(0, "register/0/0", "1", "2", node: 4)).Type);
        Assert.Single(nodes.Sent);
        Assert.Equal(default, run.Retry.Counts);
    }

    private static PutRequest Put(SentRequest request) => PutRequest.Parser.ParseFrom(request.Body.AsSpan(5));

    /// <summary>A trailers-only answer: the status, and RaftKv's outcome trailer, in the headers.</summary>
    private static Func<HttpResponseMessage> Status(StatusCode code, string message, string? outcome) => () =>
    {
        var response = Grpc(new ByteArrayContent([]));
        response.Headers.Add("grpc-status", ((int)code).ToString(CultureInfo.InvariantCulture));
        response.Headers.Add("grpc-message", message);
        if (outcome is not null)
        {
            response.Headers.Add("raftkv-outcome", outcome);
        }

        return response;
    };

    /// <summary>One length-prefixed message, then status OK in the trailers.</summary>
    private static Func<HttpResponseMessage> Reply(IMessage message) => () =>
    {
        var bytes = message.ToByteArray();
        var framed = new byte[5 + bytes.Length];
        BinaryPrimitives.WriteInt32BigEndian(framed.AsSpan(1), bytes.Length);
        bytes.CopyTo(framed, 5);
        var response = Grpc(new ByteArrayContent(framed));
        response.TrailingHeaders.Add("grpc-status", "0");
        return response;
    };

    private static HttpResponseMessage Grpc(HttpContent content)
    {
        content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        return new HttpResponseMessage(HttpStatusCode.OK) { Version = HttpVersion.Version20, Content = content };
    }

    /// <summary>A gRPC register client with retries over <paramref name="nodes"/>, writing its history to memory.</summary>
    private sealed class Run : IDisposable
    {
        private readonly StringWriter text = new();
        private readonly HistoryWriter history;

        public Run(ScriptedNodes nodes, RetryBound? bound = null)
        {
            history = new HistoryWriter(text);
            Retry = new UnknownWriteRetry(seed: 1, bound ?? ScriptedNodes.QuickRetries);
            Client = new GrpcRegisterClient(ScriptedNodes.Urls, history, ScriptedNodes.Ids, Consistency.Linearizable, TimeSpan.FromSeconds(10), Retry, nodes);
        }

        public UnknownWriteRetry Retry { get; }

        public GrpcRegisterClient Client { get; }

        public IReadOnlyList<HistoryEvent> History() => HistoryReader.Read(new StringReader(text.ToString()));

        public void Dispose()
        {
            Client.Dispose();
            history.Dispose();
            text.Dispose();
        }
    }
}
