using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RaftKv.Client.Resilience;

namespace RaftKv.Client;

/// <summary>Registers <see cref="RaftKvClient"/> with <see cref="IHttpClientFactory"/>.</summary>
public static class RaftKvServiceCollectionExtensions
{
    /// <summary>The name of the <see cref="HttpClient"/> the client sends through; configure it further with <c>AddHttpClient(HttpClientName)</c>.</summary>
    public const string HttpClientName = "RaftKv";

    /// <summary>
    /// Adds <see cref="RaftKvClient"/> as a typed client (transient; inject it) over a named
    /// <see cref="HttpClient"/> whose pipeline holds the client's retries and per-attempt timeouts
    /// (a Microsoft.Extensions.Http.Resilience handler) and sends each attempt to its node. The
    /// options are validated when the host starts.
    /// </summary>
    /// <example><code>services.AddRaftKvClient(options => options.Endpoints = [new Uri("http://127.0.0.1:7001")]);</code></example>
    public static IHttpClientBuilder AddRaftKvClient(this IServiceCollection services, Action<RaftKvClientOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<RaftKvClientOptions>().Configure(configure).ValidateDataAnnotations().ValidateOnStart();
        var client = services.AddHttpClient(HttpClientName);
        client.AddResilienceHandler("raftkv", (pipeline, context) =>
            RaftKvResilience.Configure(pipeline, context.ServiceProvider.GetRequiredService<IOptions<RaftKvClientOptions>>().Value));
        client.AddHttpMessageHandler(() => new EndpointRotationHandler());
        client.AddTypedClient((http, services) => new RaftKvClient(http, services.GetRequiredService<IOptions<RaftKvClientOptions>>().Value, ownsHttp: true));
        return client;
    }
}
