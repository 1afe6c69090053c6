using System.Diagnostics;
using System.Diagnostics.Metrics;
using Grpc.Core;
using Microsoft.AspNetCore.Http.Features;
using OpenTelemetry.Metrics;
using RaftKv.Node.Cluster;

namespace RaftKv.Node.Metrics;

/// <summary>Metrics in Prometheus' text format at <c>/metrics</c>, through OpenTelemetry: RaftKv's meter, DotNext's, and the runtime's.</summary>
public static class MetricsSetup
{
    public const string Path = "/metrics";

    /// <summary>DotNext's meters: elections and heartbeats, replication round trips, and the log's flushes and applies.</summary>
    public static readonly string[] DotNextMeters = ["DotNext.Net.Cluster.Consensus.Raft.Server", "DotNext.Net.Cluster.Consensus.Raft.Client", "DotNext.IO.WriteAheadLog"];

    /// <summary>.NET's own meters: the runtime (GC, thread pool, CPU) and Kestrel's connections.</summary>
    private static readonly string[] PlatformMeters = ["System.Runtime", "Microsoft.AspNetCore.Server.Kestrel"];

    public static void AddRaftKvMetrics(this IServiceCollection services)
    {
        services.AddSingleton<NodeMetrics>();
        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter([NodeMetrics.MeterName, .. DotNextMeters, .. PlatformMeters])

            // DotNext's histograms record milliseconds with the SDK's default buckets, whose first is 5 ms:
            // a flush or an apply takes far less.
            .AddView(instrument => instrument.Meter.Name.StartsWith("DotNext.", StringComparison.Ordinal) && instrument.Unit == "ms" && IsHistogram(instrument)
                ? new ExplicitBucketHistogramConfiguration { Boundaries = [.. NodeMetrics.MillisecondsBuckets] }
                : null)
            // No cached answer (the exporter keeps one for 300 ms by default): a scrape right after a change shows it.
            .AddPrometheusExporter(exporter => exporter.ScrapeResponseCacheDurationMilliseconds = 0));
    }

    /// <summary>Times every request, whichever front end answers it. Registered first, so that refusals by the later middleware count too.</summary>
    /// <param name="peerOnlyPort">The port that serves only cluster traffic, if the client port does not share it.</param>
    public static IApplicationBuilder UseRequestMetrics(this IApplicationBuilder app, int? peerOnlyPort)
    {
        var metrics = app.ApplicationServices.GetRequiredService<NodeMetrics>();
        return app.Use(async (context, next) =>
        {
            var started = Stopwatch.GetTimestamp();
            var api = ApiOf(context, peerOnlyPort);
            try
            {
                await next(context);
            }
            catch
            {
                // The server answers 500 for an exception that escapes the pipeline.
                metrics.Request(api, context.Request.Method, RouteOf(context), api == "grpc" ? nameof(StatusCode.Internal) : "500", Stopwatch.GetElapsedTime(started));
                throw;
            }

            var status = api == "grpc" ? GrpcStatusOf(context) : context.Response.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture);
            metrics.Request(api, context.Request.Method, RouteOf(context), status, Stopwatch.GetElapsedTime(started));
        });
    }

    /// <summary>Serves <c>/metrics</c>; on <paramref name="metricsPort"/>, if any, nothing but it and the health checks.</summary>
    public static void MapRaftKvMetrics(this WebApplication app, int? metricsPort)
    {
        if (metricsPort is { } port)
        {
            app.Use((context, next) =>
            {
                var path = context.Request.Path;
                if (context.Connection.LocalPort == port && !path.StartsWithSegments(Path, StringComparison.Ordinal) && !path.StartsWithSegments("/health", StringComparison.Ordinal))
                {
                    context.Response.StatusCode = StatusCodes.Status404NotFound;
                    return Task.CompletedTask;
                }

                return next(context);
            });
        }

        app.MapPrometheusScrapingEndpoint(Path);
    }

    private static string ApiOf(HttpContext context, int? peerOnlyPort)
        => context.Connection.LocalPort == peerOnlyPort || context.Request.Path.StartsWithSegments(InternalApi.Prefix, StringComparison.Ordinal) ? "peer"
        : context.Request.ContentType?.StartsWith("application/grpc", StringComparison.Ordinal) == true ? "grpc"
        : "http";

    /// <summary>The route's template, never the path itself: keys must not become label values (unbounded, and possibly private).</summary>
    private static string RouteOf(HttpContext context)
        => context.GetEndpoint() is RouteEndpoint endpoint ? endpoint.RoutePattern.RawText ?? "unmatched" : "unmatched";

    /// <summary>gRPC's status, from the trailers, or from the headers of an answer that is only trailers.</summary>
    private static string GrpcStatusOf(HttpContext context)
    {
        var value = context.Response.Headers["grpc-status"].ToString();
        if (value.Length == 0)
        {
            value = context.Features.Get<IHttpResponseTrailersFeature>()?.Trailers["grpc-status"].ToString() ?? "";
        }

        return int.TryParse(value, out var code) && Enum.IsDefined((StatusCode)code) ? ((StatusCode)code).ToString()
            : context.RequestAborted.IsCancellationRequested ? nameof(StatusCode.Cancelled)
            : nameof(StatusCode.Unknown);
    }

    private static bool IsHistogram(Instrument instrument)
        => instrument.GetType() is { IsGenericType: true } type && type.GetGenericTypeDefinition() == typeof(Histogram<>);
}
