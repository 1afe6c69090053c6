using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using RaftKv.Node.Raft;

namespace RaftKv.Node.Tests.Unit;

public sealed class SnapshotTransferHandlerTests
{
    [Fact]
    public async Task A_snapshot_outlives_the_callers_token_and_its_answer_reads_with_that_token_cancelled()
    {
        var follower = new SlowFollower(TimeSpan.FromMilliseconds(500));
        using var client = Client(follower, TimeSpan.FromSeconds(30));
        using var rpcTimeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));

        // As DotNext does: the headers with the short token, then the body with the same, cancelled one.
        using var response = await client.SendAsync(Message("InstallSnapshot"), HttpCompletionOption.ResponseHeadersRead, rpcTimeout.Token);
        Assert.True(rpcTimeout.IsCancellationRequested);
        Assert.Equal("Success", await response.Content.ReadAsStringAsync(rpcTimeout.Token));
        Assert.False(follower.SawCancellation);
    }

    [Fact]
    public async Task Other_raft_messages_keep_the_callers_token()
    {
        var follower = new SlowFollower(TimeSpan.FromSeconds(30));
        using var client = Client(follower, TimeSpan.FromSeconds(30));
        using var rpcTimeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.SendAsync(Message("AppendEntries"), HttpCompletionOption.ResponseHeadersRead, rpcTimeout.Token));
        Assert.True(follower.SawCancellation);
    }

    [Fact]
    public async Task A_snapshot_past_its_own_timeout_fails_as_an_exchange_not_as_a_cancellation()
    {
        var follower = new SlowFollower(TimeSpan.FromSeconds(30));
        using var client = Client(follower, TimeSpan.FromMilliseconds(100));
        var failure = await Assert.ThrowsAsync<HttpRequestException>(() => client.SendAsync(Message("InstallSnapshot"), HttpCompletionOption.ResponseHeadersRead, CancellationToken.None));
        Assert.Contains("not installed within", failure.Message, StringComparison.Ordinal);
        Assert.True(follower.SawCancellation);
    }

    private static HttpClient Client(HttpMessageHandler follower, TimeSpan timeout)
        => new(new SnapshotTransferHandler(timeout, NullLogger<SnapshotTransferHandler>.Instance, CancellationToken.None) { InnerHandler = follower }) { Timeout = Timeout.InfiniteTimeSpan };

    private static HttpRequestMessage Message(string type)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "http://follower/cluster-consensus/raft") { Content = new ByteArrayContent(new byte[1024]) };
        request.Headers.Add("X-Raft-Message-Type", type);
        return request;
    }

    /// <summary>Answers after a delay, as a follower that loads a large snapshot before it replies.</summary>
    private sealed class SlowFollower(TimeSpan delay) : HttpMessageHandler
    {
        public bool SawCancellation { get; private set; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            try
            {
                await Task.Delay(delay, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                SawCancellation = true;
                throw;
            }

            // A stream, not a buffer: like a real answer, it reads only with a live token unless buffered.
            return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StreamContent(new MemoryStream("Success"u8.ToArray())) };
        }
    }
}
