using System.Net;
using System.Text;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace RaftKv.LoadGen;

/// <summary>
/// The requests of etcd's v3 gRPC API (the same for etcd and for RaftKv's gRPC port), message for
/// message those that etcd's JSON gateway decodes <see cref="EtcdProtocol"/>'s bodies into, which the
/// self-test checks: Range of one key, Put, a prefix Range of at most 100 keys, and a Txn comparing the
/// value (create_revision 0 for an absent key), putting on success and reading the key on failure.
/// All but a transaction are built once, on first use, and shared by every worker and target: a
/// message is only read while it is sent. Racing workers build equal ones.
/// </summary>
internal sealed class GrpcRequests
{
    private readonly ByteString?[] _keys;
    private readonly RangeRequest?[] _reads;
    private readonly PutRequest?[] _puts;
    private readonly RangeRequest[] _ranges;
    private readonly ByteString _value;
    private readonly bool _serializable;

    public GrpcRequests(int keys, byte[] value, bool serializable)
    {
        _keys = new ByteString?[keys];
        _reads = new RangeRequest?[keys];
        _puts = new PutRequest?[keys];
        _value = ByteString.CopyFrom(value);
        _serializable = serializable;
        _ranges = [.. Enumerable.Range(0, Protocols.RangeGroups(keys)).Select(g =>
        {
            var prefix = Encoding.UTF8.GetBytes(Protocols.RangePrefix(g));
            var end = prefix.ToArray();
            end[^1]++; // etcd's prefix end, as in EtcdProtocol
            return new RangeRequest
            {
                Key = UnsafeByteOperations.UnsafeWrap(prefix),
                RangeEnd = UnsafeByteOperations.UnsafeWrap(end),
                Limit = Protocols.RangeSize,
                Serializable = serializable,
            };
        })];
    }

    public RangeRequest Read(int key) => _reads[key] ??= new RangeRequest { Key = Key(key), Serializable = _serializable };

    public PutRequest Write(int key) => _puts[key] ??= new PutRequest { Key = Key(key), Value = _value };

    public RangeRequest Range(int group) => _ranges[group];

    /// <summary>If <paramref name="key"/> holds <paramref name="expected"/> (null: if it does not exist), put <paramref name="next"/>; otherwise read it.</summary>
    public TxnRequest Txn(int key, byte[]? expected, byte[] next)
    {
        var name = Key(key);

        // Wrapped, not copied: a worker never changes an array it has sent. Absent is create_revision 0, as in EtcdProtocol.
        var compare = expected is null
            ? new Compare { Key = name, Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Equal, CreateRevision = 0 }
            : new Compare { Key = name, Target = Compare.Types.CompareTarget.Value, Result = Compare.Types.CompareResult.Equal, Value = UnsafeByteOperations.UnsafeWrap(expected) };
        return new TxnRequest
        {
            Compare = { compare },
            Success = { new RequestOp { RequestPut = new PutRequest { Key = name, Value = UnsafeByteOperations.UnsafeWrap(next) } } },
            Failure = { new RequestOp { RequestRange = new RangeRequest { Key = name } } },
        };
    }

    /// <summary>As <see cref="EtcdProtocol.Classify"/>: a read that finds no key is not found, a range of fewer than 100 keys short.</summary>
    public static Outcome Classify(OpKind op, RangeResponse response) => op == OpKind.Read
        ? response.Kvs.Count == 0 ? Outcome.NotFound : Outcome.Ok
        : response.Kvs.Count == Protocols.RangeSize ? Outcome.Ok : Outcome.Short;

    /// <summary>Whether the compare held and, if not, what the failure branch read (as <see cref="EtcdProtocol.TryReadFailedTxnValue"/>).</summary>
    public static Answer Classify(TxnResponse response)
    {
        if (response.Succeeded)
        {
            return new Answer(Outcome.Ok);
        }

        if (response.Responses.Count == 0 || response.Responses[0].ResponseCase != ResponseOp.ResponseOneofCase.ResponseRange)
        {
            return new Answer(Outcome.CompareFailed);
        }

        var kvs = response.Responses[0].ResponseRange.Kvs;
        return Answer.CompareFailed(kvs.Count == 0 ? null : kvs[0].Value.ToByteArray());
    }

    private ByteString Key(int key) => _keys[key] ??= ByteString.CopyFromUtf8(Protocols.KeyName(key));
}

/// <summary>
/// The gRPC channels, <c>connections</c> per target, each with a handler and so an HTTP/2 connection of
/// its own: over a single connection, 64 workers' requests would queue behind one connection's reading
/// and writing on both ends. Worker <c>i</c> uses connection <c>i % connections</c> of every target, the
/// same split for both systems.
/// </summary>
internal sealed class GrpcChannels : IDisposable
{
    private readonly GrpcChannel[] _channels;
    private readonly KV.KVClient[][] _clients; // [target][connection]

    public GrpcChannels(IReadOnlyList<string> targets, int connections)
    {
        GrpcChannel[][] channels = [.. targets.Select(t => Enumerable.Range(0, connections).Select(_ => Open(t)).ToArray())];
        _channels = [.. channels.SelectMany(c => c)];
        _clients = [.. channels.Select(c => c.Select(channel => new KV.KVClient(channel)).ToArray())];
    }

    /// <summary>Worker <paramref name="worker"/>'s client of each target.</summary>
    public KV.KVClient[] For(int worker) => [.. _clients.Select(c => c[worker % c.Length])];

    public void Dispose()
    {
        foreach (var channel in _channels)
        {
            channel.Dispose();
        }
    }

    /// <summary>The target that is the leader: etcd's test, its member id in the answer of Maintenance.Status is the leader's.</summary>
    public static async Task<string> FindLeaderAsync(IReadOnlyList<string> targets, TimeSpan timeout)
    {
        foreach (var target in targets)
        {
            using var channel = Open(target);
            try
            {
                var status = await new Maintenance.MaintenanceClient(channel).StatusAsync(new StatusRequest(), deadline: DateTime.UtcNow + timeout);
                if (status.Header.MemberId == status.Leader)
                {
                    return target;
                }
            }
            catch (RpcException e)
            {
                await Console.Error.WriteLineAsync($"leader lookup on {target} failed: {e.StatusCode} {e.Status.Detail}");
            }
        }

        throw new InvalidOperationException("no target is the leader");
    }

    private static GrpcChannel Open(string target) => GrpcChannel.ForAddress(target, new GrpcChannelOptions
    {
        HttpHandler = new SocketsHttpHandler
        {
            // Grpc.Net.Client's default: a further connection only when a server's stream limit is reached
            // (Kestrel's is 100 per connection, etcd's unlimited), which these connection counts never reach.
            EnableMultipleHttp2Connections = true,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
        },
        DisposeHttpClient = true,
    });
}

/// <summary>One worker's gRPC calls, to its client of each target, with a deadline as HttpClient's timeout.</summary>
internal sealed class GrpcTransport(GrpcRequests requests, KV.KVClient[] clients, TimeSpan timeout) : IKvTransport
{
    public async Task<Answer> SendAsync(OpKind op, int target, int key, byte[]? expected, byte[]? next)
    {
        var client = clients[target];
        var deadline = DateTime.UtcNow + timeout;
        try
        {
            switch (op)
            {
                case OpKind.Read:
                    return new Answer(GrpcRequests.Classify(op, await client.RangeAsync(requests.Read(key), deadline: deadline)));
                case OpKind.Write:
                    await client.PutAsync(requests.Write(key), deadline: deadline);
                    return new Answer(Outcome.Ok);
                case OpKind.Range:
                    return new Answer(GrpcRequests.Classify(op, await client.RangeAsync(requests.Range(key), deadline: deadline)));
                default:
                    return GrpcRequests.Classify(await client.TxnAsync(requests.Txn(key, expected, next!), deadline: deadline));
            }
        }
        catch (RpcException e)
        {
            // Grpc.Net.Client reports transport failures as statuses too; the deadline is the timeout, named as HttpTransport names it.
            return Answer.Transport(e.StatusCode == StatusCode.DeadlineExceeded ? "Timeout" : $"RpcException/{e.StatusCode}");
        }
    }
}
