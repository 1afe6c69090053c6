using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace RaftKv.Client.Tests;

/// <summary>The client's retries, endpoint rotation and deadlines, against real clusters and scripted transports.</summary>
public sealed class ResilienceTests
{
    [Fact]
    public async Task A_write_whose_answer_is_lost_as_the_leader_dies_is_retried_with_its_key_and_applied_once()
    {
        await using var cluster = await TestCluster.StartAsync(3);
        var leader = await cluster.WaitForLeaderAsync();

        // The first try is committed and answered (by the leader, or by a follower that forwarded it); the answer is lost as the leader is killed.
        using var transport = new LosingTransport(_ => true, afterApplied: () => cluster.Kill(leader));
        using var client = new RaftKvClient(
            new RaftKvClientOptions { Endpoints = [.. cluster.Ids.Select(cluster.Url)], MaxRetries = 30, RetryDelay = TimeSpan.FromMilliseconds(200), CallTimeout = TimeSpan.FromSeconds(90) },
            transport);

        // Only if absent: applied twice, the second would fail its precondition.
        var result = await client.PutAsync("once", "v"u8.ToArray(), new WriteOptions { IfAbsent = true });

        Assert.Equal(WriteOutcome.Applied, result.Outcome);
        Assert.NotNull(result.IdempotencyKey);
        var tries = transport.Sent.Where(s => s.Path == "/v1/kv/once").ToList();
        Assert.True(tries.Count >= 2, $"{tries.Count} tries");
        Assert.All(tries, t => Assert.Equal(result.IdempotencyKey, t.IdempotencyKey));
        Assert.NotEqual(cluster.Url(leader).Port, tries[^1].Port);

        var survivor = cluster.Ids.First(id => id != leader);
        using var reader = new RaftKvClient([cluster.Url(survivor)]);
        var read = await reader.GetAsync("once");
        Assert.Equal(ReadOutcome.Found, read.Outcome);
        Assert.Equal(1, read.Version);
        Assert.Equal(result.Revision, read.ModRevision);
    }

    [Fact]
    public async Task Without_a_key_a_write_whose_answer_is_lost_is_sent_once_and_its_outcome_is_unknown()
    {
        await using var cluster = await TestCluster.StartAsync(3);
        await cluster.WaitForLeaderAsync();
        using var transport = new LosingTransport(_ => true, afterApplied: () => { });
        using var client = new RaftKvClient(new RaftKvClientOptions { Endpoints = [.. cluster.Ids.Select(cluster.Url)], GenerateIdempotencyKeys = false }, transport);

        var result = await client.PutAsync("blind", "v"u8.ToArray());

        Assert.Equal(WriteOutcome.Unknown, result.Outcome);
        Assert.Null(result.IdempotencyKey);
        var sent = Assert.Single(transport.Sent, s => s.Path == "/v1/kv/blind");
        Assert.Null(sent.IdempotencyKey);
    }

    [Fact]
    public async Task Reads_rotate_past_a_dead_node_and_without_retries_the_dead_node_fails_them()
    {
        await using var cluster = await TestCluster.StartAsync(3);
        var leader = await cluster.WaitForLeaderAsync();
        var dead = cluster.Ids.First(id => id != leader);
        using (var writer = new RaftKvClient([cluster.Url(leader)]))
        {
            Assert.Equal(WriteOutcome.Applied, (await writer.PutAsync("rotating", "r"u8.ToArray())).Outcome);
        }

        cluster.Kill(dead);

        // Through DI, as an application would: the factory's client carries the same retries.
        var services = new ServiceCollection();
        services.AddRaftKvClient(options => options.Endpoints = [.. cluster.Ids.Select(cluster.Url)]);
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<RaftKvClient>();
        for (var i = 0; i < 6; i++)
        {
            var read = await client.GetAsync("rotating");
            Assert.True(read.Outcome == ReadOutcome.Found, $"read {i}: {read.Outcome} {read.Detail}");
        }

        using var single = new RaftKvClient(new RaftKvClientOptions { Endpoints = [.. cluster.Ids.Select(cluster.Url)], MaxRetries = 0 });
        var outcomes = new List<ReadOutcome>();
        for (var i = 0; i < 3; i++)
        {
            outcomes.Add((await single.GetAsync("rotating")).Outcome);
        }

        Assert.Equal(1, outcomes.Count(o => o == ReadOutcome.Failed));
    }

    [Fact]
    public async Task A_call_timeout_ends_every_attempt_a_read_fails_and_a_write_is_unknown()
    {
        using var silent = new SilentTransport();
        using var client = new RaftKvClient(new RaftKvClientOptions { Endpoints = [new Uri("http://node0.test:7001"), new Uri("http://node1.test:7001")] }, silent);
        var quick = client.WithCallTimeout(TimeSpan.FromMilliseconds(300));

        Assert.Equal(ReadOutcome.Failed, (await quick.GetAsync("k")).Outcome);
        var write = await quick.PutAsync("k", "v"u8.ToArray());
        Assert.Equal(WriteOutcome.Unknown, write.Outcome);
        Assert.NotNull(write.IdempotencyKey);
        Assert.True(silent.Cancelled >= 2, $"{silent.Cancelled} attempts cancelled");
    }

    [Fact]
    public async Task A_503_write_goes_to_the_next_node_and_a_4xx_is_not_retried()
    {
        var answers = new ConcurrentQueue<HttpStatusCode>([HttpStatusCode.ServiceUnavailable, HttpStatusCode.OK]);
        using var scripted = new ScriptedTransport(answers);
        using var client = new RaftKvClient(
            new RaftKvClientOptions { Endpoints = [new Uri("http://node0.test:7001"), new Uri("http://node1.test:7001")], GenerateIdempotencyKeys = false, RetryDelay = TimeSpan.Zero },
            scripted);

        Assert.Equal(WriteOutcome.Applied, (await client.PutAsync("k", "v"u8.ToArray(), node: null)).Outcome);
        Assert.Equal(2, scripted.Hosts.Count);
        Assert.NotEqual(scripted.Hosts[0], scripted.Hosts[1]);

        answers.Enqueue(HttpStatusCode.BadRequest);
        Assert.Equal(WriteOutcome.NotApplied, (await client.PutAsync("k", "v"u8.ToArray())).Outcome);
        Assert.Equal(3, scripted.Hosts.Count);
    }

    [Fact]
    public void Options_without_endpoints_are_refused_by_the_constructor_and_by_the_container()
    {
        Assert.Throws<System.ComponentModel.DataAnnotations.ValidationException>(() => new RaftKvClient(new RaftKvClientOptions()));
        var services = new ServiceCollection();
        services.AddRaftKvClient(options => options.RequestTimeout = TimeSpan.FromSeconds(1));
        using var provider = services.BuildServiceProvider();
        Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<RaftKvClient>());
    }

    /// <summary>
    /// Sends requests on; for the first matching PUT it forwards, waits for the answer (the write is
    /// applied), runs <c>afterApplied</c>, and throws as if the connection broke before the answer arrived.
    /// </summary>
    private sealed class LosingTransport(Func<HttpRequestMessage, bool> lose, Action afterApplied) : DelegatingHandler(new SocketsHttpHandler())
    {
        private int lost;

        public ConcurrentQueue<SentRequest> Sent { get; } = new();

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Sent.Enqueue(new SentRequest(request.RequestUri!.AbsolutePath, request.RequestUri.Port, request.Headers.TryGetValues("Idempotency-Key", out var keys) ? keys.Single() : null));
            var response = await base.SendAsync(request, cancellationToken);
            if (request.Method == HttpMethod.Put && lose(request) && Interlocked.Exchange(ref lost, 1) == 0)
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                response.Dispose();
                afterApplied();
                throw new HttpRequestException(HttpRequestError.ResponseEnded, "The connection closed before the answer (the test lost it).");
            }

            return response;
        }
    }

    private sealed record SentRequest(string Path, int Port, string? IdempotencyKey);

    /// <summary>A node that never answers.</summary>
    private sealed class SilentTransport : HttpMessageHandler
    {
        private int cancelled;

        public int Cancelled => cancelled;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
                throw new InvalidOperationException("unreachable");
            }
            finally
            {
                Interlocked.Increment(ref cancelled);
            }
        }
    }

    /// <summary>Answers each request with the next status of a script, with the body of an applied put.</summary>
    private sealed class ScriptedTransport(ConcurrentQueue<HttpStatusCode> answers) : HttpMessageHandler
    {
        public List<string> Hosts { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            lock (Hosts)
            {
                Hosts.Add(request.RequestUri!.Host);
            }

            var status = answers.TryDequeue(out var next) ? next : HttpStatusCode.InternalServerError;
            var body = status == HttpStatusCode.OK ? """{"revision": 7}""" : """{"title": "scripted", "detail": "scripted"}""";
            return Task.FromResult(new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8, status == HttpStatusCode.OK ? "application/json" : "application/problem+json") });
        }
    }
}
