using System.Globalization;
using RaftKv.Node.Auth;
using RaftKv.Node.Backup;
using RaftKv.Node.Cluster;
using RaftKv.Node.Raft;

namespace RaftKv.Node.Api;

/// <summary>
/// <c>GET /v1/snapshot</c>: a backup of the whole state (<see cref="BackupFile"/>), to restore into a new
/// cluster. By default it holds every write acknowledged before the request (a read index first);
/// <c>?consistency=local</c> takes this node's state as it is, which also works without a quorum.
/// </summary>
public static class SnapshotApi
{
    private const int ChunkBytes = 64 * 1024;

    public static IEndpointRouteBuilder MapSnapshotApi(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/v1/snapshot", SaveAsync).Reads("A backup of the whole state", "application/octet-stream");
        return routes;
    }

    private static async Task SaveAsync(HttpContext context, Caller caller, LinearizableReads reads, KvStateMachine stateMachine)
    {
        // A backup holds every key: root only, as etcd's snapshot.
        if (!caller.IsAdmin(stateMachine.Store.Auth))
        {
            await Problems.PermissionDenied().ExecuteAsync(context);
            return;
        }

        if (await Reads.WaitAsync(context, reads) is { } problem)
        {
            await problem.ExecuteAsync(context);
            return;
        }

        var token = context.RequestAborted;
        await using var backup = await BackupFile.CreateAsync(stateMachine.Store.Capture(), token);
        var response = context.Response;
        response.ContentType = "application/octet-stream";
        response.ContentLength = backup.Length;
        response.Headers["X-RaftKv-Revision"] = backup.Revision.ToString(CultureInfo.InvariantCulture);
        response.Headers.ContentDisposition = $"attachment; filename=\"raftkv-{backup.Revision}.snapshot\"";
        await backup.CopyContentAsync(ChunkBytes, (chunk, cancel) => response.Body.WriteAsync(chunk, cancel), token);
        await response.Body.WriteAsync(backup.Checksum, token);
    }
}
