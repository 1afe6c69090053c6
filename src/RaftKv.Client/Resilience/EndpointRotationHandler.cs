namespace RaftKv.Client.Resilience;

/// <summary>Below the retries: sends each attempt of a request to the node its <see cref="RequestState"/> names.</summary>
internal sealed class EndpointRotationHandler : DelegatingHandler
{
    public EndpointRotationHandler()
    {
    }

    public EndpointRotationHandler(HttpMessageHandler inner)
        : base(inner)
    {
    }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (RequestState.Of(request) is { } state)
        {
            request.RequestUri = state.NextAttempt();
        }

        return base.SendAsync(request, cancellationToken);
    }
}
