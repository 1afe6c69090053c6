using Etcdserverpb;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using RaftKv.Node.Api;
using RaftKv.Node.Auth;
using RaftKv.Node.Cluster;
using RaftKv.Node.Configuration;
using RaftKv.Node.Raft;
using RaftKv.Store.Auth;
using RaftKv.Store.Commands;
using RaftKv.Store.Keyspace;
using RaftKv.Store.Results;

namespace RaftKv.Node.Etcd;

/// <summary>
/// What every etcd service shares: the response header, and the node's one read path and one write
/// path (the same <see cref="LinearizableReads"/> and <see cref="WriteCoordinator"/> as the HTTP API),
/// with their failures turned into etcd's errors.
/// </summary>
public sealed class EtcdAdapter(ClusterView view, ClusterIdentity identity, KvStateMachine stateMachine, LinearizableReads reads, WriteCoordinator writes, IOptions<RaftKvOptions> options)
{
    /// <summary>The metadata with which a client asks to be refused, rather than served, while there is no leader.</summary>
    public const string RequireLeaderKey = "hasleader";

    /// <summary>The metadata that names a write for deduplication, as <c>Idempotency-Key</c> does over HTTP; RaftKv's addition.</summary>
    public const string IdempotencyKey = "idempotency-key";

    public ulong MemberId { get; } = EtcdIds.Member(view.Self.Id);

    public ClusterView View => view;

    public KeyspaceView Keyspace => stateMachine.Store.View;

    public int MaxValueBytes => options.Value.MaxValueBytes;

    public ResponseHeader Header(long revision) => new()
    {
        ClusterId = identity.Id,
        MemberId = MemberId,
        RaftTerm = (ulong)Math.Max(0, view.Raft.AuditTrail.Term),
        Revision = revision,
    };

    /// <summary>The header with the current store revision.</summary>
    public ResponseHeader Header() => Header(Keyspace.Revision);

    public static bool RequiresLeader(ServerCallContext context) => context.RequestHeaders.GetValue(RequireLeaderKey) == "true";

    /// <summary>Fails fast, as etcd does, when the client asked for a leader and none is known.</summary>
    public void CheckLeader(ServerCallContext context)
    {
        if (RequiresLeader(context) && view.Leader is null)
        {
            throw EtcdErrors.NoLeader();
        }
    }

    /// <summary>Who makes the call, as <see cref="EtcdAuthInterceptor"/> found.</summary>
    public static Caller CallerOf(ServerCallContext context)
        => context.GetHttpContext().Items[typeof(Caller)] as Caller ?? throw new InvalidOperationException($"No caller for {context.Method}: it is not behind authentication.");

    /// <summary>This node's applied users and roles.</summary>
    public AuthState Auth => stateMachine.Store.Auth;

    /// <exception cref="RpcException">The caller may not read every key of <paramref name="range"/>.</exception>
    public void CheckRead(ServerCallContext context, KeyRange range)
    {
        if (!CallerOf(context).MayRead(Auth, range))
        {
            throw EtcdErrors.PermissionDenied();
        }
    }

    /// <exception cref="RpcException">Authentication is enabled and the caller is not <c>root</c>.</exception>
    public void CheckAdmin(ServerCallContext context)
    {
        if (!CallerOf(context).IsAdmin(Auth))
        {
            throw EtcdErrors.PermissionDenied();
        }
    }

    /// <summary>The keyspace to read: after a read index unless <paramref name="serializable"/>, then as this node has it.</summary>
    public async Task<KeyspaceView> ReadAsync(bool serializable, ServerCallContext context)
    {
        CheckLeader(context);
        if (!serializable)
        {
            try
            {
                await reads.WaitUntilCurrentAsync(allowLease: false, context.CancellationToken);
            }
            catch (ReadUnavailableException e)
            {
                throw e.Overloaded ? EtcdErrors.TooManyRequests() : NotAnswered();
            }
        }

        return Keyspace;
    }

    /// <summary>etcd's answer when the leader could not answer in time: no leader, or one that did not reply.</summary>
    public RpcException NotAnswered() => view.Leader is null ? EtcdErrors.NoLeader() : EtcdErrors.TimedOut();

    /// <summary>Proposes a write through the write coordinator, forwarded to the leader from a follower; the applied outcome.</summary>
    /// <exception cref="RpcException">Refused by the rules or on apply, or not completed.</exception>
    public async Task<CommandResult> WriteAsync(Request request, ServerCallContext context)
    {
        if (RequestRules.Check(request) is { } broken)
        {
            throw EtcdErrors.ForRule(broken);
        }

        CheckLeader(context);
        return await ProposeAsync(request, NewRequestId(context), context);
    }

    /// <summary>Proposes a write made by the node on a client's behalf (a lock's, an election's), under <paramref name="requestId"/>, for the call's user.</summary>
    public async Task<CommandResult> ProposeAsync(Request request, string requestId, ServerCallContext context)
        => Completed(await writes.WriteAsync(new WriteCommand(requestId, CallerOf(context).Authorize(request))));

    /// <summary>A request id no client gave: the node's own writes are never retried under the client's.</summary>
    public static string FreshRequestId()
        => WriteRequest.TryGetRequestId(StringValues.Empty, out var requestId, out _) ? requestId : throw new InvalidOperationException("A fresh request id is always valid.");

    /// <summary>The write's request id: from <see cref="IdempotencyKey"/> when the client gave one, so that its retries apply once.</summary>
    public string NewRequestId(ServerCallContext context)
        => WriteRequest.TryGetRequestId(context.RequestHeaders.GetValue(IdempotencyKey) is { } key ? new StringValues(key) : StringValues.Empty, out var requestId, out var error)
            ? requestId
            : throw EtcdErrors.Invalid(error!);

    /// <summary>The applied outcome of a write, or the etcd error for why there is none.</summary>
    public static CommandResult Completed(ProposalResult result)
    {
        if (result.Status != ProposalStatus.Completed)
        {
            throw EtcdErrors.NotCompleted(result);
        }

        return result.Outcome! switch
        {
            { Status: CommandStatus.Applied } outcome => outcome,
            { Status: CommandStatus.RequestIdReused } => throw new RpcException(new Status(StatusCode.FailedPrecondition, "raftkv: this idempotency-key was already used for a different request; nothing was changed")),
            var rejected => throw EtcdErrors.Rejected(rejected),
        };
    }
}
