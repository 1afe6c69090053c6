using Etcdserverpb;
using System.Net.Sockets;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using RaftKv.Robustness.History;
using Consistency = RaftKv.Client.Consistency;

namespace RaftKv.Robustness.Harness;

/// <summary>
/// The register operations over etcd's v3 gRPC API (<c>--api grpc</c>), one channel per node, one attempt per
/// operation with a deadline. etcd answers Unavailable both for a write that was never proposed and for one whose
/// fate is unknown; RaftKv tells them apart with the trailer <see cref="OutcomeTrailer"/>, so only an error with
/// <c>not-applied</c> (or a refused connection) is fail, and every other error of a write is info. Under <c>--retry-unknown</c>, a
/// write carries the metadata <see cref="IdempotencyKeyHeader"/> and is resent under it while its outcome is unknown.
/// </summary>
public sealed class GrpcRegisterClient : IRegisterClient, IDisposable
{
    /// <summary>The trailer RaftKv adds to a write that did not complete (<c>src/RaftKv.Node/Etcd/EtcdErrors.cs</c>): <c>not-applied</c> or <c>unknown</c>.</summary>
    private const string OutcomeTrailer = "raftkv-outcome";

    /// <summary>The metadata that names a write for deduplication, as <c>Idempotency-Key</c> does over HTTP (<c>src/RaftKv.Node/Etcd/EtcdAdapter.cs</c>).</summary>
    private const string IdempotencyKeyHeader = "idempotency-key";

    private readonly GrpcChannel[] channels;
    private readonly KV.KVClient[] clients;
    private readonly HistoryWriter history;
    private readonly IReadOnlyList<string> nodeIds;
    private readonly Consistency readConsistency;
    private readonly TimeSpan timeout;
    private readonly UnknownWriteRetry? retryUnknown;

    /// <param name="grpcUrls">Each node's gRPC address, in the order of <paramref name="nodeIds"/>.</param>
    /// <param name="history">Where every operation is recorded.</param>
    /// <param name="nodeIds">The node ids the history names.</param>
    /// <param name="readConsistency">Linearizable or local (a serializable Range); etcd's API has no lease read.</param>
    /// <param name="timeout">Each call's deadline, the HTTP client's request timeout.</param>
    /// <param name="retryUnknown">Under <c>--retry-unknown</c>, what keys and resends writes of unknown outcome; null: one attempt, no key.</param>
    /// <param name="handler">The HTTP handler of every channel (default: Grpc.Net.Client's own); a test's stands in for the nodes.</param>
    public GrpcRegisterClient(
        IReadOnlyList<Uri> grpcUrls, HistoryWriter history, IReadOnlyList<string> nodeIds, Consistency readConsistency, TimeSpan timeout,
        UnknownWriteRetry? retryUnknown = null, HttpMessageHandler? handler = null)
    {
        channels = [.. grpcUrls.Select(url => GrpcChannel.ForAddress(url, new GrpcChannelOptions { HttpHandler = handler }))];
        clients = [.. channels.Select(channel => new KV.KVClient(channel))];
        this.history = history;
        this.nodeIds = nodeIds;
        this.readConsistency = readConsistency;
        this.timeout = timeout;
        this.retryUnknown = retryUnknown;
    }

    public int NodeCount => nodeIds.Count;

    /// <summary>A Range of the key. Any error is fail: a read changes nothing.</summary>
    public async Task<HistoryEvent> ReadAsync(int process, string key, int node, Consistency? consistency = null)
    {
        var request = new RangeRequest { Key = ByteString.CopyFromUtf8(key), Serializable = Serializable(consistency ?? readConsistency) };
        var invoke = Record(HistoryEvent.InvokeRead(process, key, HistoryClock.Now(), nodeIds[node]));
        try
        {
            var response = await clients[node].RangeAsync(request, deadline: Deadline());
            var value = response.Kvs.Count == 0 ? null : response.Kvs[0].Value.ToStringUtf8();
            return Record(invoke.Complete(HistoryEventType.Ok, HistoryClock.Now(), value));
        }
        catch (RpcException)
        {
            return Record(invoke.Complete(HistoryEventType.Fail, HistoryClock.Now()));
        }
    }

    public async Task<HistoryEvent> WriteAsync(int process, string key, string value, int node)
    {
        var request = new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) };
        var invoke = Record(HistoryEvent.InvokeWrite(process, key, value, HistoryClock.Now(), nodeIds[node]));
        var (response, error) = await SendWriteAsync(node, (kv, headers) => kv.PutAsync(request, headers, Deadline()));
        return Record(response is not null
            ? invoke.Complete(HistoryEventType.Ok, HistoryClock.Now()) with { Revision = response.Header.Revision }
            : invoke.Complete(Failed(error!), HistoryClock.Now()));
    }

    /// <summary>A Txn: if the key's value is <paramref name="expected"/>, put <paramref name="value"/>. A missing key's value compares unequal.</summary>
    public async Task<HistoryEvent> CasAsync(int process, string key, string expected, string value, int node)
    {
        var name = ByteString.CopyFromUtf8(key);
        var request = new TxnRequest
        {
            Compare = { new Compare { Key = name, Target = Compare.Types.CompareTarget.Value, Result = Compare.Types.CompareResult.Equal, Value = ByteString.CopyFromUtf8(expected) } },
            Success = { new RequestOp { RequestPut = new PutRequest { Key = name, Value = ByteString.CopyFromUtf8(value) } } },
        };
        var invoke = Record(HistoryEvent.InvokeCas(process, key, expected, value, HistoryClock.Now(), nodeIds[node]));
        var (response, error) = await SendWriteAsync(node, (kv, headers) => kv.TxnAsync(request, headers, Deadline()));
        return Record(response is not null
            ? invoke.Complete(response.Succeeded ? HistoryEventType.Ok : HistoryEventType.Fail, HistoryClock.Now())
            : invoke.Complete(Failed(error!), HistoryClock.Now()));
    }

    public void Dispose()
    {
        foreach (var channel in channels)
        {
            channel.Dispose();
        }
    }

    /// <summary>
    /// Sends a write once; or, under <c>--retry-unknown</c>, under a key of its own, resent while its outcome is unknown.
    /// Only a response settles a retried write (a Txn whose compare did not hold answers too, with <c>succeeded</c> false):
    /// a retry's error, even Unavailable with <c>not-applied</c>, says nothing of the first attempt, which may still be in
    /// a log. The result is the settling response, or else the first attempt's error.
    /// </summary>
    /// <exception cref="IdempotencyKeyReusedException">A node said the key was used for a different request.</exception>
    private async Task<(TResponse? Response, RpcException? Error)> SendWriteAsync<TResponse>(int node, Func<KV.KVClient, Metadata?, AsyncUnaryCall<TResponse>> call)
        where TResponse : class
    {
        async Task<(TResponse? Response, RpcException? Error)> AttemptAsync(int at, string? key)
        {
            try
            {
                return (await call(clients[at], key is null ? null : new Metadata { { IdempotencyKeyHeader, key } }), null);
            }
            catch (RpcException e) when (key is not null && e.StatusCode == StatusCode.FailedPrecondition)
            {
                // The register's writes attach no lease, the other cause of FailedPrecondition.
                throw new IdempotencyKeyReusedException(key, e.Status.Detail);
            }
            catch (RpcException e)
            {
                return (null, e);
            }
        }

        if (retryUnknown is null)
        {
            return await AttemptAsync(node, null);
        }

        var key = retryUnknown.NewKey();
        var first = await AttemptAsync(node, key);
        if (first.Error is null || Failed(first.Error) == HistoryEventType.Fail)
        {
            return first;
        }

        var (settled, answer) = await retryUnknown.ResolveAsync(NodeCount, at => AttemptAsync(at, key), retry => retry.Error is null);
        return settled ? answer : first;
    }

    /// <exception cref="ArgumentOutOfRangeException">A lease read, which etcd's API cannot ask for.</exception>
    private static bool Serializable(Consistency consistency) => consistency switch
    {
        Consistency.Linearizable => false,
        Consistency.Local => true,
        _ => throw new ArgumentOutOfRangeException(nameof(consistency), consistency, "etcd's gRPC API has no lease read."),
    };

    /// <summary>
    /// Fail when the server said the write was not applied, or when the node refused the connection, so that the request
    /// never left this client. A deadline, a lost connection, or an Unavailable without the trailer may follow a request
    /// that reached the leader: info.
    /// </summary>
    /// <remarks>The trailer counts on any status: a write shed for load is ResourceExhausted ("too many requests").</remarks>
    private static HistoryEventType Failed(RpcException e)
        => e.Trailers.GetValue(OutcomeTrailer) == "not-applied" || (e.StatusCode == StatusCode.Unavailable && Refused(e.Status.DebugException))
            ? HistoryEventType.Fail
            : HistoryEventType.Info;

    private static bool Refused(Exception? e) => e switch
    {
        null => false,
        SocketException { SocketErrorCode: SocketError.ConnectionRefused } => true,
        _ => Refused(e.InnerException),
    };

    private DateTime Deadline() => DateTime.UtcNow + timeout;

    private HistoryEvent Record(HistoryEvent historyEvent)
    {
        history.Append(historyEvent);
        return historyEvent;
    }
}
