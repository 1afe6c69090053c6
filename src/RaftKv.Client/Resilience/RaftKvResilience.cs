using System.Net;
using Microsoft.Extensions.Http.Resilience;
using Polly;
using Polly.Timeout;

namespace RaftKv.Client.Resilience;

/// <summary>
/// The retries and per-attempt timeouts of every call (Polly, through Microsoft.Extensions.Http.Resilience).
/// Never a blind write retry: a write is sent again only when the first try certainly changed
/// nothing, or when it carries an idempotency key, which makes the cluster apply it once.
/// </summary>
internal static class RaftKvResilience
{
    /// <summary>The handlers a client without <see cref="IHttpClientFactory"/> sends through: retries, then the rotation to each attempt's node.</summary>
    public static HttpMessageHandler Handlers(RaftKvClientOptions options, HttpMessageHandler primary)
    {
        var pipeline = new ResiliencePipelineBuilder<HttpResponseMessage>();
        Configure(pipeline, options);
        return new ResilienceHandler(pipeline.Build()) { InnerHandler = new EndpointRotationHandler(primary) };
    }

    public static void Configure(ResiliencePipelineBuilder<HttpResponseMessage> pipeline, RaftKvClientOptions options)
    {
        if (options.MaxRetries > 0)
        {
            pipeline.AddRetry(new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = options.MaxRetries,
                Delay = options.RetryDelay,
                MaxDelay = TimeSpan.FromSeconds(2),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                ShouldHandle = arguments => ValueTask.FromResult(MayRetry(arguments.Outcome, RequestState.Of(arguments.Context.GetRequestMessage()))),
            });
        }

        // Inside the retries: each attempt has its own timeout; a stream has none, its caller watches it.
        pipeline.AddTimeout(new TimeoutStrategyOptions
        {
            TimeoutGenerator = arguments => ValueTask.FromResult(
                RequestState.Of(arguments.Context.GetRequestMessage())?.Kind == RequestKind.Stream ? Timeout.InfiniteTimeSpan : options.RequestTimeout),
        });
    }

    /// <summary>
    /// The node says the command was certainly not applied: no quorum, overloaded, draining, or a
    /// leader it could not forward to (503); or its disk is low (507).
    /// </summary>
    public static bool SaysNotApplied(HttpStatusCode status) => status is HttpStatusCode.ServiceUnavailable or HttpStatusCode.InsufficientStorage;

    /// <summary>Whether an attempt's outcome may be followed by another attempt, for this kind of request.</summary>
    private static bool MayRetry(Outcome<HttpResponseMessage> outcome, RequestState? request)
    {
        if (request is null || request.Kind == RequestKind.Stream)
        {
            return false;
        }

        var failure = Classify(outcome, request.FreshConnection);
        return failure switch
        {
            AttemptFailure.None => false,
            AttemptFailure.NotApplied => true,
            _ => request.Kind is RequestKind.Query or RequestKind.KeyedWrite,
        };
    }

    private static AttemptFailure Classify(Outcome<HttpResponseMessage> outcome, bool freshConnection)
    {
        if (outcome.Result is { } response)
        {
            return SaysNotApplied(response.StatusCode) ? AttemptFailure.NotApplied
                : response.StatusCode >= HttpStatusCode.InternalServerError ? AttemptFailure.Unknown
                : AttemptFailure.None;
        }

        return outcome.Exception switch
        {
            // On a pooled connection, the request may have gone out on a connection that then failed,
            // and been sent again on a new one that could not be opened: only a fresh connection proves nothing was sent.
            HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError } when freshConnection => AttemptFailure.NotApplied,
            HttpRequestException or TimeoutRejectedException or IOException => AttemptFailure.Unknown,

            // The caller's own cancellation, or a bug: nothing to retry.
            _ => AttemptFailure.None,
        };
    }

    private enum AttemptFailure
    {
        None,
        NotApplied,
        Unknown,
    }
}
