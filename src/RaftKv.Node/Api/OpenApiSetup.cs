using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace RaftKv.Node.Api;

/// <summary>
/// The public HTTP API's OpenAPI document at <c>/openapi/v1.json</c> (Microsoft.AspNetCore.OpenApi),
/// from the routes' own metadata: the statuses below, and those each route adds. The intra-cluster
/// endpoints are excluded from it; Scalar's interactive page is at <c>/scalar</c> when asked for.
/// </summary>
public static class OpenApiSetup
{
    public const string DocumentPath = "/openapi/v1.json";
    public const string ReferencePath = "/scalar";

    /// <summary>Problems any read can answer: bad input, no credentials, no permission, no quorum in time.</summary>
    private static readonly int[] ReadProblems = [StatusCodes.Status400BadRequest, StatusCodes.Status401Unauthorized, StatusCodes.Status403Forbidden, StatusCodes.Status503ServiceUnavailable];

    /// <summary>
    /// Problems any write can answer (README, "Errors"): bad input, credentials, a reused idempotency key,
    /// and the three that say whether it was applied: 503 and 507 not, 504 unknown.
    /// </summary>
    private static readonly int[] WriteProblems =
    [
        StatusCodes.Status400BadRequest, StatusCodes.Status401Unauthorized, StatusCodes.Status403Forbidden, StatusCodes.Status422UnprocessableEntity,
        StatusCodes.Status503ServiceUnavailable, StatusCodes.Status504GatewayTimeout, StatusCodes.Status507InsufficientStorage,
    ];

    public static void AddRaftKvOpenApi(this IServiceCollection services)
        => services.AddOpenApi(options => options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info = new OpenApiInfo
            {
                Title = "RaftKv HTTP API",
                Version = "v1",
                Description = "A replicated key-value store with etcd's data model. Every node serves every request; writes are committed on a majority, reads are linearizable by default.",
            };
            return Task.CompletedTask;
        }));

    public static void MapRaftKvOpenApi(this WebApplication app, bool apiReference)
    {
        app.MapOpenApi(DocumentPath);
        if (apiReference)
        {
            // Scalar's page and script come from its package: nothing is fetched from the internet.
            app.MapScalarApiReference(ReferencePath);
        }
    }

    /// <summary>A read answering <typeparamref name="T"/> as JSON, with the problems of any read and <paramref name="problems"/>.</summary>
    public static RouteHandlerBuilder Reads<T>(this RouteHandlerBuilder route, string summary, params int[] problems)
        => route.Produces<T>().Problems([.. ReadProblems, .. problems]).WithSummary(summary);

    /// <summary>A read answering another content type (a value, a stream).</summary>
    public static RouteHandlerBuilder Reads(this RouteHandlerBuilder route, string summary, string contentType, params int[] problems)
        => route.Produces(StatusCodes.Status200OK, contentType: contentType).Problems([.. ReadProblems, .. problems]).WithSummary(summary);

    /// <summary>A write answering <typeparamref name="T"/> with <paramref name="success"/>, with the problems of any write and <paramref name="problems"/>.</summary>
    public static RouteHandlerBuilder Writes<T>(this RouteHandlerBuilder route, string summary, int success = StatusCodes.Status200OK, params int[] problems)
        => route.Produces<T>(success).Problems([.. WriteProblems, .. problems]).WithSummary(summary);

    /// <summary>A write whose answer is a JSON shape with no record of its own (ranges, transactions).</summary>
    public static RouteHandlerBuilder WritesJson(this RouteHandlerBuilder route, string summary, params int[] problems)
        => route.Produces(StatusCodes.Status200OK, contentType: "application/json").Problems([.. WriteProblems, .. problems]).WithSummary(summary);

    /// <summary>An idempotent call that changes no key (a lease keep-alive), answering <typeparamref name="T"/>.</summary>
    public static RouteHandlerBuilder Answers<T>(this RouteHandlerBuilder route, string summary, params int[] statuses)
        => route.Produces<T>().Problems(statuses).WithSummary(summary);

    private static RouteHandlerBuilder Problems(this RouteHandlerBuilder route, IEnumerable<int> statuses)
    {
        foreach (var status in statuses.Distinct())
        {
            route.ProducesProblem(status);
        }

        return route;
    }
}
