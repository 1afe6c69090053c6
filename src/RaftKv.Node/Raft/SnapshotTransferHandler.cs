namespace RaftKv.Node.Raft;

/// <summary>
/// Gives a snapshot the leader sends a follower a timeout of its own, in the pipeline of DotNext's
/// Raft HTTP client. DotNext 6.12 cancels every Raft message after its rpcTimeout (half the upper
/// election timeout: 1 s by default), counted from the start of the request to the follower's
/// answer, which comes only once the follower has received, saved and loaded the whole snapshot. A
/// state too large for that never reached a lagging follower: each try was cancelled and sent again
/// from its first byte, and the follower stayed behind for good. Votes and appends keep the short
/// timeout, which elections need (a candidate waits for every vote).
/// </summary>
public sealed partial class SnapshotTransferHandler(TimeSpan timeout, ILogger<SnapshotTransferHandler> logger, CancellationToken stopping) : DelegatingHandler
{
    // DotNext's wire protocol (Http/HttpMessage.cs, Http/InstallSnapshotMessage.cs).
    private const string MessageTypeHeader = "X-Raft-Message-Type";
    private const string InstallSnapshotMessage = "InstallSnapshot";

    private static bool IsSnapshot(HttpRequestMessage request)
        => request.Headers.TryGetValues(MessageTypeHeader, out var types) && types.Contains(InstallSnapshotMessage, StringComparer.Ordinal);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (!IsSnapshot(request))
        {
            return await base.SendAsync(request, cancellationToken);
        }

        // DotNext's token is not passed on: only this timeout or the node's shutdown ends the transfer.
        using var transfer = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        transfer.CancelAfter(timeout);
        var started = TimeProvider.System.GetTimestamp();
        LogSnapshotSending(logger, request.RequestUri, request.Content?.Headers.ContentLength);
        try
        {
            var response = await base.SendAsync(request, transfer.Token);

            // DotNext reads the answer with its own token, cancelled by now if the transfer outlasted
            // it: a buffered answer is read at once, whatever the token.
            await response.Content.LoadIntoBufferAsync(transfer.Token);
            var elapsed = TimeProvider.System.GetElapsedTime(started);
            LogSnapshotSent(logger, request.RequestUri, (int)response.StatusCode, elapsed);
            return response;
        }
        catch (OperationCanceledException e) when (!stopping.IsCancellationRequested)
        {
            // As a failed exchange, which DotNext counts as the member being unavailable, and sends the snapshot again later.
            throw new HttpRequestException($"The snapshot sent to {request.RequestUri} was not installed within {timeout}.", e);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Sending a snapshot of {Bytes} bytes to {Follower}")]
    private static partial void LogSnapshotSending(ILogger logger, Uri? follower, long? bytes);

    [LoggerMessage(Level = LogLevel.Information, Message = "Snapshot sent to {Follower}: HTTP {Status} after {Elapsed}")]
    private static partial void LogSnapshotSent(ILogger logger, Uri? follower, int status, TimeSpan elapsed);
}
