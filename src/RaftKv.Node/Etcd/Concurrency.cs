using System.Globalization;
using System.Text;
using Grpc.Core;
using RaftKv.Node.Leases;
using RaftKv.Node.Watch;
using RaftKv.Store.Commands;
using RaftKv.Store.Keyspace;
using RaftKv.Store.Results;
using RaftKv.Store.Watch;

namespace RaftKv.Node.Etcd;

/// <summary>
/// The building blocks of etcd's server-side locks and elections (<c>client/v3/concurrency</c>,
/// which etcd's Lock and Election services run against the server itself): a session lease, keys
/// named by it, transactions, and waiting for the keys ahead to go. Built here on the node's own
/// write path, read path and watch hub.
/// </summary>
public sealed class Concurrency(EtcdAdapter etcd, LeaseKeeper leases, WatchHub hub)
{
    /// <summary>etcd's default session TTL: the lease a lock or a campaign without one gets, which nobody renews.</summary>
    private const long SessionTtl = 60;

    public EtcdAdapter Etcd => etcd;

    /// <param name="Prefix"><c>name/</c>: every contender's key is under it.</param>
    /// <param name="Lease">The lease the key is attached to.</param>
    /// <param name="Key">The caller's own key.</param>
    public sealed record Session(byte[] Prefix, long Lease, byte[] Key);

    /// <summary>
    /// A caller's place under <c>name/</c>: its lease, or, for 0, a new one of <see cref="SessionTtl"/>
    /// seconds, as etcd's server makes; and its key, <c>name/</c> + the lease in lowercase hex.
    /// </summary>
    public async Task<Session> OpenSessionAsync(Google.Protobuf.ByteString name, long lease, ServerCallContext context)
    {
        etcd.CheckLeader(context);
        var prefix = Prefix(name.Span);
        if (lease == 0)
        {
            var outcome = EtcdAdapter.Completed(await leases.GrantAsync(EtcdAdapter.CallerOf(context), 0, SessionTtl, EtcdAdapter.FreshRequestId()));
            lease = ((LeaseGrantResult)outcome.Result!).Id;
        }

        return new Session(prefix, lease, [.. prefix, .. Encoding.ASCII.GetBytes(lease.ToString("x", CultureInfo.InvariantCulture))]);
    }

    public static byte[] Prefix(ReadOnlySpan<byte> name) => [.. name, (byte)'/'];

    /// <summary>The oldest key of the prefix: who holds the lock, or leads.</summary>
    public static RangeRequest FirstCreated(byte[] prefix) => new(KeyRange.Prefix(prefix), Limit: 1, SortOrder: SortOrder.Ascend, SortTarget: SortTarget.Create);

    /// <summary>A transaction on behalf of a client; its failures are the client's errors.</summary>
    public async Task<CommandResult> TxnAsync(IReadOnlyList<Compare> compares, IReadOnlyList<Request> success, IReadOnlyList<Request> failure, ServerCallContext context)
        => await etcd.ProposeAsync(new TxnRequest(compares, success, failure), EtcdAdapter.FreshRequestId(), context);

    public static Compare Created(byte[] key, long revision) => new(KeyRange.ForKey(key), CompareTarget.CreateRevision, CompareResult.Equal, revision);

    /// <summary>A linearizable read, with the revision it was read at.</summary>
    public async Task<(RangeResult Result, long Revision)> ReadAsync(RangeRequest request, ServerCallContext context)
    {
        var keyspace = await etcd.ReadAsync(serializable: false, context);
        etcd.CheckRead(context, request.Range);
        return (keyspace.Range(request), keyspace.Revision);
    }

    /// <summary>
    /// Waits until no key of the prefix created at or below <paramref name="maxCreateRevision"/> is
    /// left (etcd's <c>waitDeletes</c>): the newest of them is watched until it is deleted, then the next.
    /// </summary>
    public async Task WaitDeletesAsync(byte[] prefix, long maxCreateRevision, ServerCallContext context)
    {
        var ahead = new RangeRequest(KeyRange.Prefix(prefix), Limit: 1, SortOrder: SortOrder.Descend, SortTarget: SortTarget.Create, MaxCreateRevision: maxCreateRevision);
        while (true)
        {
            var (result, revision) = await ReadAsync(ahead, context);
            if (result.Kvs is not [var last, ..])
            {
                return;
            }

            await foreach (var change in WatchAsync(KeyRange.ForKey(last.Key), revision, context.CancellationToken))
            {
                if (change.Type == KeyEventType.Delete)
                {
                    break;
                }
            }
        }
    }

    /// <summary>Every event on the range from <paramref name="startRevision"/> on, in order.</summary>
    public async IAsyncEnumerable<KeyEvent> WatchAsync(KeyRange range, long startRevision, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken token)
    {
        await using var enumerator = hub.WatchAsync(range, Math.Max(1, startRevision), prevKv: false, markCaughtUp: false, token).GetAsyncEnumerator(token);
        while (true)
        {
            try
            {
                if (!await enumerator.MoveNextAsync())
                {
                    yield break;
                }
            }
            catch (WatchCompactedException)
            {
                throw EtcdErrors.Compacted();
            }

            foreach (var change in enumerator.Current.Events ?? [])
            {
                yield return change;
            }
        }
    }

    /// <summary>Runs a lock or election call, reporting what failed inside it with code Unknown and etcd's message, as etcd's server does.</summary>
    public static async Task<T> AsEtcdAsync<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (RpcException e) when (e.StatusCode is not (StatusCode.Cancelled or StatusCode.Unknown))
        {
            throw new RpcException(new Status(StatusCode.Unknown, e.Status.Detail), e.Trailers);
        }
    }

    public static Task AsEtcdAsync(Func<Task> call) => AsEtcdAsync(async () =>
    {
        await call();
        return true;
    });
}
