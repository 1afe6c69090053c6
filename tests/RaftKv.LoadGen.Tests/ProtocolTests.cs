using System.Text;
using Etcdserverpb;
using Google.Protobuf;
using RaftKv.LoadGen;

namespace RaftKv.LoadGen.Tests;

/// <summary>
/// The operation mix, the request bodies and the reading of answers, against answers recorded from RaftKv
/// and etcd 3.4.23; and that the gRPC requests are the messages etcd's gateway decodes the HTTP bodies into.
/// </summary>
public sealed class ProtocolTests
{
    private const string RaftKvItem = """{"key":"bench/000100","value":"abc","createRevision":2,"modRevision":2,"version":1,"lease":0}""";
    private const string EtcdItem = """{"key":"YmVuY2gvMDAwMTAw","create_revision":"2","mod_revision":"2","version":"1","value":"YWJj"}""";
    private const string EtcdHeader = """{"header":{"cluster_id":"15026016918487770221","member_id":"16694209735470997472","revision":"5","raft_term":"2"}""";

    private static readonly byte[] EtcdHeld = Encoding.UTF8.GetBytes(EtcdHeader + ""","succeeded":true,"responses":[{"response_put":{"header":{"revision":"5"}}}]}""");
    private static readonly byte[] EtcdFailed = Encoding.UTF8.GetBytes(EtcdHeader + ""","responses":[{"response_range":{"header":{"revision":"5"},"kvs":[{"key":"YmVuY2gvMDAwMTAw","create_revision":"2","mod_revision":"5","version":"2","value":"YWJk"}],"count":"1"}}]}""");
    private static readonly byte[] EtcdEmpty = Encoding.UTF8.GetBytes(EtcdHeader + ""","responses":[{"response_range":{"header":{"revision":"3"},"kvs":[{"key":"YmVuY2gvMDAwOTk4","create_revision":"3","mod_revision":"3","version":"1"}],"count":"1"}}]}""");
    private static readonly byte[] EtcdAbsent = Encoding.UTF8.GetBytes(EtcdHeader + ""","responses":[{"response_range":{"header":{"revision":"2"}}}]}""");
    private static readonly byte[] EtcdNoKey = Encoding.UTF8.GetBytes(EtcdHeader + "}");

    private readonly RaftKvProtocol _raftkv = new(["http://127.0.0.1:1"], 1000, "abc"u8.ToArray(), localReads: false);
    private readonly EtcdProtocol _etcd = new(["http://127.0.0.1:1"], 1000, "abc"u8.ToArray(), serializable: false);

    [Fact]
    public void A_mix_picks_each_kind_in_its_share_and_a_read_write_mix_as_it_always_has()
    {
        var random = new Random(1);
        var u = Enumerable.Range(0, 100_000).Select(_ => random.NextDouble()).ToArray();
        var mix = OperationMix.Parse("read=0.9,write=0.1");
        Assert.All(u, x => Assert.Equal(x < 0.9 ? OpKind.Read : OpKind.Write, mix.Pick(x)));
        Assert.All(u, x => Assert.Equal(OpKind.Write, OperationMix.Parse("write=1").Pick(x)));
        var quarter = OperationMix.Parse("read=1,write=1,range=1,txn=1");
        Assert.All(Enum.GetValues<OpKind>(), op => Assert.InRange(u.Count(x => quarter.Pick(x) == op) / (double)u.Length, 0.24, 0.26));
    }

    [Fact]
    public void The_requests_are_the_bodies_both_servers_accepted()
    {
        Assert.Equal("/v1/kv?prefix=bench%2F0001&limit=100&consistency=linearizable", _raftkv.CreateRange(0, 1).RequestUri!.PathAndQuery);
        Assert.Equal(
            """{"compare":[{"key":"bench/000100","target":"value","result":"==","value":"abc"}],"success":[{"put":{"key":"bench/000100","value":"abd"}}],"failure":[{"get":{"key":"bench/000100"}}]}""",
            Body(_raftkv.CreateTxn(0, 100, "abc"u8.ToArray(), "abd"u8.ToArray())));
        Assert.Equal(
            """{"compare":[{"key":"bench/000999","target":"createRevision","result":"==","value":0}],"success":[{"put":{"key":"bench/000999","valueBase64":"/wEC"}}],"failure":[{"get":{"key":"bench/000999"}}]}""",
            Body(_raftkv.CreateTxn(0, 999, null, [0xFF, 1, 2])));
        Assert.Equal("""{"key":"YmVuY2gvMDAwOQ==","range_end":"YmVuY2gvMDAwOg==","limit":100}""", Body(_etcd.CreateRange(0, 9)));
        Assert.Equal(
            """{"compare":[{"key":"YmVuY2gvMDAwOTk5","target":"CREATE","result":"EQUAL","create_revision":"0"}],"success":[{"request_put":{"key":"YmVuY2gvMDAwOTk5","value":"eHl6"}}],"failure":[{"request_range":{"key":"YmVuY2gvMDAwOTk5"}}]}""",
            Body(_etcd.CreateTxn(0, 999, null, "xyz"u8.ToArray())));
    }

    [Fact]
    public void Ranges_with_fewer_than_100_keys_are_short_and_failed_statuses_fail()
    {
        Assert.Equal(Outcome.Short, _raftkv.Classify(OpKind.Range, 200, RaftKvRange(3)));
        Assert.Equal(Outcome.Ok, _raftkv.Classify(OpKind.Range, 200, RaftKvRange(100)));
        Assert.Equal(Outcome.Short, _etcd.Classify(OpKind.Range, 200, EtcdRange(3)));
        Assert.Equal(Outcome.Ok, _etcd.Classify(OpKind.Range, 200, EtcdRange(100)));
        Assert.Equal(Outcome.Failed, _raftkv.Classify(OpKind.Range, 503, RaftKvRange(100)));
        Assert.Equal(Outcome.NotFound, _etcd.Classify(OpKind.Read, 200, EtcdNoKey));
    }

    [Fact]
    public void RaftKv_transaction_answers_say_whether_the_compare_held_and_what_the_key_holds()
    {
        var held = """{"succeeded":true,"revision":5,"results":[{"put":{"revision":5}}]}"""u8.ToArray();
        var failed = """{"succeeded":false,"revision":5,"results":[{"get":{"revision":5,"kv":{"key":"bench/000100","value":"abd","createRevision":2,"modRevision":5,"version":2,"lease":0}}}]}"""u8.ToArray();
        var control = """{"succeeded":false,"revision":6,"results":[{"get":{"revision":6,"kv":{"key":"bench/000999","value":"\u0000\u0001\u0002","createRevision":6,"modRevision":6,"version":1,"lease":0}}}]}"""u8.ToArray();
        var absent = """{"succeeded":false,"revision":6,"results":[{"get":{"revision":6,"kv":null}}]}"""u8.ToArray();
        Assert.Equal(Outcome.Ok, _raftkv.Classify(OpKind.Txn, 200, held));
        Assert.Equal(Outcome.CompareFailed, _raftkv.Classify(OpKind.Txn, 200, failed));
        Assert.True(_raftkv.TryReadFailedTxnValue(failed, out var abd));
        Assert.Equal("abd"u8.ToArray(), abd);
        Assert.True(_raftkv.TryReadFailedTxnValue(control, out var bytes));
        Assert.Equal(new byte[] { 0, 1, 2 }, bytes);
        Assert.True(_raftkv.TryReadFailedTxnValue(absent, out var none));
        Assert.Null(none);
        Assert.False(_raftkv.TryReadFailedTxnValue(failed.AsSpan(0, 40), out _));
    }

    [Fact]
    public void Etcd_transaction_answers_say_whether_the_compare_held_and_what_the_key_holds()
    {
        Assert.Equal(Outcome.Ok, _etcd.Classify(OpKind.Txn, 200, EtcdHeld));
        Assert.Equal(Outcome.CompareFailed, _etcd.Classify(OpKind.Txn, 200, EtcdFailed));
        Assert.True(_etcd.TryReadFailedTxnValue(EtcdFailed, out var abd));
        Assert.Equal("abd"u8.ToArray(), abd);
        Assert.True(_etcd.TryReadFailedTxnValue(EtcdEmpty, out var empty));
        Assert.Equal([], empty!);
        Assert.True(_etcd.TryReadFailedTxnValue(EtcdAbsent, out var none));
        Assert.Null(none);
    }

    [Fact]
    public void The_grpc_requests_are_the_messages_etcds_gateway_decodes_the_http_bodies_into()
    {
        var grpc = new GrpcRequests(1000, "abc"u8.ToArray(), serializable: false);
        var grpcLocal = new GrpcRequests(1000, "abc"u8.ToArray(), serializable: true);
        var etcdLocal = new EtcdProtocol(["http://127.0.0.1:1"], 1000, "abc"u8.ToArray(), serializable: true);
        Assert.Equal(grpc.Read(7), Parse<RangeRequest>(_etcd.CreateRead(0, 7)));
        Assert.Equal(grpcLocal.Read(7), Parse<RangeRequest>(etcdLocal.CreateRead(0, 7)));
        Assert.NotEqual(grpc.Read(7), grpcLocal.Read(7));
        Assert.Equal(grpc.Write(7), Parse<PutRequest>(_etcd.CreateWrite(0, 7)));
        Assert.Equal(grpc.Range(9), Parse<RangeRequest>(_etcd.CreateRange(0, 9)));
        Assert.Equal(grpcLocal.Range(9), Parse<RangeRequest>(etcdLocal.CreateRange(0, 9)));
        Assert.Equal(grpc.Txn(100, "abc"u8.ToArray(), "abd"u8.ToArray()), Parse<TxnRequest>(_etcd.CreateTxn(0, 100, "abc"u8.ToArray(), "abd"u8.ToArray())));
        Assert.Equal(grpc.Txn(999, null, "xyz"u8.ToArray()), Parse<TxnRequest>(_etcd.CreateTxn(0, 999, null, "xyz"u8.ToArray())));
    }

    [Fact]
    public void The_gateways_answers_read_as_grpc_messages_are_classified_as_over_http()
    {
        Assert.Equal(Outcome.NotFound, GrpcRequests.Classify(OpKind.Read, Parse<RangeResponse>(EtcdNoKey)));
        Assert.Equal(Outcome.Ok, GrpcRequests.Classify(OpKind.Read, Parse<RangeResponse>(EtcdRange(1))));
        Assert.Equal(Outcome.Short, GrpcRequests.Classify(OpKind.Range, Parse<RangeResponse>(EtcdRange(3))));
        Assert.Equal(Outcome.Ok, GrpcRequests.Classify(OpKind.Range, Parse<RangeResponse>(EtcdRange(100))));
        Assert.True(GrpcRequests.Classify(Parse<TxnResponse>(EtcdHeld)) is { Outcome: Outcome.Ok, KnowsTxnValue: false });
        Assert.True(GrpcRequests.Classify(Parse<TxnResponse>(EtcdFailed)) is { Outcome: Outcome.CompareFailed, KnowsTxnValue: true, TxnValue: [(byte)'a', (byte)'b', (byte)'d'] });
        Assert.True(GrpcRequests.Classify(Parse<TxnResponse>(EtcdEmpty)) is { Outcome: Outcome.CompareFailed, KnowsTxnValue: true, TxnValue: [] });
        Assert.True(GrpcRequests.Classify(Parse<TxnResponse>(EtcdAbsent)) is { Outcome: Outcome.CompareFailed, KnowsTxnValue: true, TxnValue: null });
    }

    private static byte[] RaftKvRange(int n) =>
        Encoding.UTF8.GetBytes($$"""{"revision":4,"count":{{n}},"more":false,"next":null,"kvs":[{{string.Join(',', Enumerable.Repeat(RaftKvItem, n))}}]}""");

    private static byte[] EtcdRange(int n) =>
        Encoding.UTF8.GetBytes($$"""{{EtcdHeader}},"kvs":[{{string.Join(',', Enumerable.Repeat(EtcdItem, n))}}],"count":"{{n}}"}""");

    // Strictly, as etcd's gateway does: an unknown field is an error.
    private static T Parse<T>(HttpRequestMessage request)
        where T : IMessage<T>, new() => JsonParser.Default.Parse<T>(Body(request));

    private static T Parse<T>(byte[] answer)
        where T : IMessage<T>, new() => JsonParser.Default.Parse<T>(Encoding.UTF8.GetString(answer));

    private static string Body(HttpRequestMessage request)
    {
        using (request)
        {
            using var reader = new StreamReader(request.Content!.ReadAsStream());
            return reader.ReadToEnd();
        }
    }
}
