using System.Diagnostics;
using System.Text;
using RaftKv.Client;
using RaftKv.Robustness.Harness;
using RaftKv.Robustness.History;

namespace RaftKv.Robustness.Tests.Harness;

/// <summary>
/// <c>--retry-unknown</c> over HTTP, against scripted nodes: an unknown write is resent, the same request under the same
/// <c>Idempotency-Key</c>, until an answer about the write itself settles it, and stays one operation in the history.
/// </summary>
public sealed class RecordingClientRetryTests
{
    [Fact]
    public async Task An_unknown_put_is_resent_under_its_key_until_applied_and_completes_once_when_the_answer_arrives()
    {
        var nodes = new ScriptedNodes([ScriptedNodes.Unknown, ScriptedNodes.NotApplied, ScriptedNodes.Json(200, """{"revision": 7}""")]);
        using var run = new Run(nodes, ScriptedNodes.QuickRetries);

        var completion = await run.Client.WriteAsync(3, "register/0/1", "4", node: 2);

        Assert.Equal((HistoryEventType.Ok, 7L), (completion.Type, completion.Revision));
        var sent = nodes.Sent;
        Assert.Equal(3, sent.Count);
        Assert.Equal(2, sent[0].Node);
        Assert.All(sent, request => Assert.Equal((HttpMethod.Put, "/v1/kv/register%2F0%2F1", "4"), (request.Method, request.Uri.AbsolutePath, Encoding.UTF8.GetString(request.Body))));
        var key = sent[0].Header("Idempotency-Key");
        Assert.False(string.IsNullOrEmpty(key));
        Assert.All(sent, request => Assert.Equal(key, request.Header("Idempotency-Key")));

        var history = run.History();
        Assert.Equal([HistoryEventType.Invoke, HistoryEventType.Ok], history.Select(e => e.Type));
        Assert.All(history, e => Assert.Equal(3, e.Process));
        Assert.True(history[1].Time >= nodes.LastAnswerTime, "The completion must come after the answer that settled it.");
        Assert.Equal(new RetryCounts(Unknown: 1, Resolved: 1, Retries: 2), run.Retry.Counts);
    }

    [Fact]
    public async Task A_cas_whose_retry_finds_the_condition_false_is_fail()
    {
        var nodes = new ScriptedNodes([ScriptedNodes.Unknown, ScriptedNodes.Json(412, """{"status": 412, "detail": "The condition did not hold.", "modRevision": 5, "revision": 9}""")]);
        using var run = new Run(nodes, ScriptedNodes.QuickRetries);

        var completion = await run.Client.CasAsync(1, "register/0/0", "2", "3", node: 0);

        Assert.Equal(HistoryEventType.Fail, completion.Type);
        Assert.All(nodes.Sent, request => Assert.Contains("prevValue=2", request.Uri.Query, StringComparison.Ordinal));
        Assert.Single(nodes.Sent.Select(request => request.Header("Idempotency-Key")).Distinct());
        Assert.Equal(new RetryCounts(Unknown: 1, Resolved: 1, Retries: 1), run.Retry.Counts);
    }

    /// <summary>A 503 says only that the retry was not proposed; the first attempt may still be in a log.</summary>
    [Fact]
    public async Task Retries_refused_unproposed_leave_the_write_unknown_once_the_bound_runs_out()
    {
        // A window long enough that a loaded machine still fits several retries of a few milliseconds in it.
        var window = TimeSpan.FromSeconds(2);
        var nodes = new ScriptedNodes([ScriptedNodes.Unknown], thenAlways: ScriptedNodes.NotApplied);
        using var run = new Run(nodes, new RetryBound(window, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(5)));

        var started = Stopwatch.StartNew();
        var completion = await run.Client.WriteAsync(0, "register/0/2", "1", node: 4);

        Assert.Equal(HistoryEventType.Info, completion.Type);
        Assert.Null(completion.Revision);
        Assert.True(started.Elapsed >= window, $"Gave up after {started.Elapsed}, inside the {window} window.");
        Assert.True(nodes.Sent.Count >= 3, $"Expected retries for the whole window, got {nodes.Sent.Count} requests.");
        Assert.Single(nodes.Sent.Select(request => request.Header("Idempotency-Key")).Distinct());
        Assert.Equal([HistoryEventType.Invoke, HistoryEventType.Info], run.History().Select(e => e.Type));
        Assert.Equal(new RetryCounts(Unknown: 1, Resolved: 0, Retries: nodes.Sent.Count - 1), run.Retry.Counts);
    }

    [Fact]
    public async Task A_key_refused_as_reused_ends_the_run()
    {
        var nodes = new ScriptedNodes([ScriptedNodes.Unknown, ScriptedNodes.Json(422, """{"status": 422, "detail": "This Idempotency-Key was already used for a different request; nothing was changed."}""")]);
        using var run = new Run(nodes, ScriptedNodes.QuickRetries);

        var thrown = await Assert.ThrowsAsync<IdempotencyKeyReusedException>(() => run.Client.WriteAsync(0, "register/0/0", "1", node: 1));
        Assert.Equal(nodes.Sent[0].Header("Idempotency-Key"), thrown.Key);
    }

    [Fact]
    public async Task A_key_refused_as_reused_on_the_first_attempt_ends_the_run_too()
    {
        var nodes = new ScriptedNodes([ScriptedNodes.Json(422, """{"status": 422, "detail": "reused"}""")]);
        using var run = new Run(nodes, ScriptedNodes.QuickRetries);

        await Assert.ThrowsAsync<IdempotencyKeyReusedException>(() => run.Client.CasAsync(0, "register/0/0", "1", "2", node: 1));
    }

    [Fact]
    public async Task A_definite_first_answer_is_not_retried()
    {
        var nodes = new ScriptedNodes([ScriptedNodes.NotApplied]);
        using var run = new Run(nodes, ScriptedNodes.QuickRetries);

        Assert.Equal(HistoryEventType.Fail, (await run.Client.WriteAsync(0, "register/0/0", "1", node: 1)).Type);
        Assert.Single(nodes.Sent);
        Assert.Equal(default, run.Retry.Counts);
    }

    [Fact]
    public async Task Every_write_has_a_key_of_its_own()
    {
        var applied = ScriptedNodes.Json(200, """{"revision": 3}""");
        var nodes = new ScriptedNodes([applied, applied, applied]);
        using var run = new Run(nodes, ScriptedNodes.QuickRetries);

        await run.Client.WriteAsync(0, "register/0/0", "1", node: 0);
        await run.Client.WriteAsync(0, "register/0/0", "1", node: 0);
        await run.Client.CasAsync(0, "register/0/0", "1", "2", node: 0);

        Assert.Equal(3, nodes.Sent.Select(request => request.Header("Idempotency-Key")).Distinct().Count());
        Assert.All(nodes.Sent, request => Assert.NotNull(request.Header("Idempotency-Key")));
    }

    /// <summary>The transfer's read is not the write: only the transaction, unchanged, is resent.</summary>
    [Fact]
    public async Task An_unknown_transfer_resends_its_transaction_and_completes_with_the_replayed_revision()
    {
        var nodes = new ScriptedNodes(
        [
            ScriptedNodes.Json(200, Accounts(revision: 6, modRevisions: [2, 3, 4, 5, 6])),
            ScriptedNodes.Unknown,
            ScriptedNodes.Json(200, """{"succeeded": true, "revision": 9, "results": [{"put": {"revision": 9}}, {"put": {"revision": 9}}], "replayed": true}"""),
        ]);
        using var run = new Run(nodes, ScriptedNodes.QuickRetries);

        var completion = await run.Client.TransferAsync(5, "bank/", new Transfer(1, 3, 2), node: 0);

        Assert.Equal((HistoryEventType.Ok, 9L), (completion.Type, completion.Revision));
        var sent = nodes.Sent;
        Assert.Equal([HttpMethod.Get, HttpMethod.Post, HttpMethod.Post], sent.Select(request => request.Method));
        Assert.Null(sent[0].Header("Idempotency-Key"));
        Assert.Equal(sent[1].Body, sent[2].Body);
        Assert.Equal(sent[1].Header("Idempotency-Key"), sent[2].Header("Idempotency-Key"));
        Assert.NotNull(sent[1].Header("Idempotency-Key"));
        Assert.Equal([HistoryEventType.Invoke, HistoryEventType.Ok], run.History().Select(e => e.Type));
        Assert.Equal(new RetryCounts(Unknown: 1, Resolved: 1, Retries: 1), run.Retry.Counts);
    }

    /// <summary>A transaction applied with its compare false answers 200 and changed nothing: a settled fail.</summary>
    [Fact]
    public async Task An_unknown_transfer_whose_replay_says_the_compare_failed_is_fail()
    {
        var nodes = new ScriptedNodes(
        [
            ScriptedNodes.Json(200, Accounts(revision: 6, modRevisions: [2, 3, 4, 5, 6])),
            ScriptedNodes.Unknown,
            ScriptedNodes.NotApplied,
            ScriptedNodes.Json(200, """{"succeeded": false, "revision": 8, "results": [], "replayed": true}"""),
        ]);
        using var run = new Run(nodes, ScriptedNodes.QuickRetries);

        var completion = await run.Client.TransferAsync(5, "bank/", new Transfer(0, 4, 1), node: 3);

        Assert.Equal(HistoryEventType.Fail, completion.Type);
        Assert.Null(completion.Revision);
        Assert.Equal(new RetryCounts(Unknown: 1, Resolved: 1, Retries: 2), run.Retry.Counts);
    }

    [Fact]
    public async Task Without_the_option_an_unknown_write_is_sent_once_without_a_key_and_is_info()
    {
        var nodes = new ScriptedNodes([ScriptedNodes.Unknown]);
        using var client = new RaftKvClient(RecordingClient.ClientOptions(ScriptedNodes.Urls, TimeSpan.FromSeconds(10)), nodes);
        using var text = new StringWriter();
        using var history = new HistoryWriter(text);
        var recorder = new RecordingClient(client, history, ScriptedNodes.Ids, Consistency.Linearizable);

        Assert.Equal(HistoryEventType.Info, (await recorder.WriteAsync(0, "register/0/0", "1", node: 0)).Type);
        Assert.Null(Assert.Single(nodes.Sent).Header("Idempotency-Key"));
    }

    private static string Accounts(long revision, long[] modRevisions)
        => $$"""{"revision": {{revision}}, "count": {{modRevisions.Length}}, "more": false, "next": null, "kvs": [{{string.Join(", ", modRevisions.Select((mod, account) =>
            $$"""{"key": "bank/{{account}}", "value": "20", "createRevision": 2, "modRevision": {{mod}}, "version": 1, "lease": 0}"""))}}]}""";

    /// <summary>A recording client with retries over <paramref name="nodes"/>, writing its history to memory.</summary>
    private sealed class Run : IDisposable
    {
        private readonly RaftKvClient client;
        private readonly StringWriter text = new();
        private readonly HistoryWriter history;

        public Run(ScriptedNodes nodes, RetryBound bound)
        {
            client = new RaftKvClient(RecordingClient.ClientOptions(ScriptedNodes.Urls, TimeSpan.FromSeconds(10)), nodes);
            history = new HistoryWriter(text);
            Retry = new UnknownWriteRetry(seed: 1, bound);
            Client = new RecordingClient(client, history, ScriptedNodes.Ids, Consistency.Linearizable, Retry);
        }

        public UnknownWriteRetry Retry { get; }

        public RecordingClient Client { get; }

        public IReadOnlyList<HistoryEvent> History() => HistoryReader.Read(new StringReader(text.ToString()));

        public void Dispose()
        {
            history.Dispose();
            text.Dispose();
            client.Dispose();
        }
    }
}
