using System.Text;
using Etcdserverpb;
using Google.Protobuf;

namespace RaftKv.LoadGen;

/// <summary>
/// <c>--self-test</c>: records random data sets in histograms (two halves merged, as the workers' are)
/// and compares every reported figure with the exact one from the sorted samples; then checks the
/// operation mix, the transaction bodies and the reading of answers against answers recorded from
/// RaftKv and etcd 3.4.23; and that the gRPC requests are the messages etcd's gateway decodes the HTTP
/// bodies into, and read those recorded answers as the HTTP mode does.
/// </summary>
internal static class SelfTest
{
    // What the histogram promises: a reported value within 1/256 of the exact one.
    private const double Tolerance = 1.0 / 256;

    public static int Run(int seed)
    {
        var failures = Histograms(seed) + Protocol(seed);
        Console.WriteLine(failures == 0 ? "self-test passed" : $"self-test FAILED: {failures} check(s)");
        return failures == 0 ? 0 : 1;
    }

    private static int Histograms(int seed)
    {
        var random = new Random(seed);
        var dataSets = new (string Name, Func<long> Next)[]
        {
            ("small integers", () => random.Next(0, 600)),
            ("uniform to 1 s", () => random.NextInt64(0, 1_000_000_000)),
            ("log-normal around 1 ms", () => (long)Math.Exp(Math.Log(1e6) + (1.5 * Gaussian(random)))),
            ("Pareto tail from 100 us", () => (long)(100_000 / Math.Pow(1 - random.NextDouble(), 1 / 1.2))),
        };

        var failures = 0;
        foreach (var (name, next) in dataSets)
        {
            var samples = new long[200_000];
            var first = new Histogram();
            var second = new Histogram();
            for (var i = 0; i < samples.Length; i++)
            {
                samples[i] = next();
                (i % 2 == 0 ? first : second).Record(samples[i]);
            }

            var histogram = new Histogram();
            histogram.Add(first);
            histogram.Add(second);
            Array.Sort(samples);

            var checks = new List<(string Figure, double Expected, double Actual)>
            {
                ("count", samples.Length, histogram.Count),
                ("mean", samples.Average(s => (double)s), histogram.Mean),
                ("min", samples[0], histogram.Min),
                ("max", samples[^1], histogram.Max),
            };
            foreach (var q in new[] { 0.001, 0.1, 0.5, 0.9, 0.99, 0.999, 0.9999, 1.0 })
            {
                var exact = samples[Math.Max(1, (long)Math.Ceiling(q * samples.Length)) - 1];
                checks.Add(($"q{q}", exact, histogram.ValueAtQuantile(q)));
            }

            foreach (var (figure, expected, actual) in checks)
            {
                var ok = Math.Abs(actual - expected) <= Tolerance * Math.Abs(expected);
                failures += ok ? 0 : 1;
                Console.WriteLine($"{(ok ? "ok  " : "FAIL")} {name,-24} {figure,-8} exact {expected,16:0.###} histogram {actual,16:0.###}");
            }
        }

        return failures;
    }

    private static int Protocol(int seed)
    {
        var failures = 0;
        void Check(string what, bool ok)
        {
            failures += ok ? 0 : 1;
            Console.WriteLine($"{(ok ? "ok  " : "FAIL")} {what}");
        }

        // A read/write mix picks as it did before there were other kinds: a read exactly when u < the read share.
        var random = new Random(seed);
        var mix = OperationMix.Parse("read=0.9,write=0.1");
        var u = Enumerable.Range(0, 100_000).Select(_ => random.NextDouble()).ToArray();
        Check("mix read=0.9,write=0.1 picks a read exactly when u < 0.9", u.All(x => mix.Pick(x) == (x < 0.9 ? OpKind.Read : OpKind.Write)));
        Check("mix write=1 picks only writes", u.All(x => OperationMix.Parse("write=1").Pick(x) == OpKind.Write));
        var quarter = OperationMix.Parse("read=1,write=1,range=1,txn=1");
        Check("mix of four picks each a quarter of the time", Enum.GetValues<OpKind>().All(op => Math.Abs((u.Count(x => quarter.Pick(x) == op) / (double)u.Length) - 0.25) < 0.01));

        var raftkv = new RaftKvProtocol(["http://127.0.0.1:1"], 1000, "abc"u8.ToArray(), localReads: false);
        var etcd = new EtcdProtocol(["http://127.0.0.1:1"], 1000, "abc"u8.ToArray(), serializable: false);

        // Bodies that both servers were seen to accept, with the answers they gave.
        Check("raftkv range request", raftkv.CreateRange(0, 1).RequestUri!.PathAndQuery == "/v1/kv?prefix=bench%2F0001&limit=100&consistency=linearizable");
        Check("raftkv txn body", Body(raftkv.CreateTxn(0, 100, "abc"u8.ToArray(), "abd"u8.ToArray()))
            == """{"compare":[{"key":"bench/000100","target":"value","result":"==","value":"abc"}],"success":[{"put":{"key":"bench/000100","value":"abd"}}],"failure":[{"get":{"key":"bench/000100"}}]}""");
        Check("raftkv txn body, key absent, value not UTF-8", Body(raftkv.CreateTxn(0, 999, null, [0xFF, 1, 2]))
            == """{"compare":[{"key":"bench/000999","target":"createRevision","result":"==","value":0}],"success":[{"put":{"key":"bench/000999","valueBase64":"/wEC"}}],"failure":[{"get":{"key":"bench/000999"}}]}""");
        Check("etcd range body", Body(etcd.CreateRange(0, 9)) == """{"key":"YmVuY2gvMDAwOQ==","range_end":"YmVuY2gvMDAwOg==","limit":100}""");
        Check("etcd txn body", Body(etcd.CreateTxn(0, 999, null, "xyz"u8.ToArray()))
            == """{"compare":[{"key":"YmVuY2gvMDAwOTk5","target":"CREATE","result":"EQUAL","create_revision":"0"}],"success":[{"request_put":{"key":"YmVuY2gvMDAwOTk5","value":"eHl6"}}],"failure":[{"request_range":{"key":"YmVuY2gvMDAwOTk5"}}]}""");

        const string raftkvItem = """{"key":"bench/000100","value":"abc","createRevision":2,"modRevision":2,"version":1,"lease":0}""";
        const string etcdItem = """{"key":"YmVuY2gvMDAwMTAw","create_revision":"2","mod_revision":"2","version":"1","value":"YWJj"}""";
        const string etcdHeader = """{"header":{"cluster_id":"15026016918487770221","member_id":"16694209735470997472","revision":"5","raft_term":"2"}""";
        Check("raftkv range of 3 is short", raftkv.Classify(OpKind.Range, 200, RaftKvRange(3)) == Outcome.Short);
        Check("raftkv range of 100 is ok", raftkv.Classify(OpKind.Range, 200, RaftKvRange(100)) == Outcome.Ok);
        Check("etcd range of 3 is short", etcd.Classify(OpKind.Range, 200, EtcdRange(3)) == Outcome.Short);
        Check("etcd range of 100 is ok", etcd.Classify(OpKind.Range, 200, EtcdRange(100)) == Outcome.Ok);
        Check("a range answered 503 failed", raftkv.Classify(OpKind.Range, 503, RaftKvRange(100)) == Outcome.Failed);

        var raftkvHeld = """{"succeeded":true,"revision":5,"results":[{"put":{"revision":5}}]}"""u8;
        var raftkvFailed = """{"succeeded":false,"revision":5,"results":[{"get":{"revision":5,"kv":{"key":"bench/000100","value":"abd","createRevision":2,"modRevision":5,"version":2,"lease":0}}}]}"""u8;
        var raftkvControl = """{"succeeded":false,"revision":6,"results":[{"get":{"revision":6,"kv":{"key":"bench/000999","value":"\u0000\u0001\u0002","createRevision":6,"modRevision":6,"version":1,"lease":0}}}]}"""u8;
        var raftkvAbsent = """{"succeeded":false,"revision":6,"results":[{"get":{"revision":6,"kv":null}}]}"""u8;
        Check("raftkv txn held", raftkv.Classify(OpKind.Txn, 200, raftkvHeld) == Outcome.Ok);
        Check("raftkv txn compare failed", raftkv.Classify(OpKind.Txn, 200, raftkvFailed) == Outcome.CompareFailed);
        Check("raftkv failed txn read abd", raftkv.TryReadFailedTxnValue(raftkvFailed, out var v1) && v1 is not null && v1.SequenceEqual("abd"u8.ToArray()));
        Check("raftkv failed txn read 00 01 02", raftkv.TryReadFailedTxnValue(raftkvControl, out var v2) && v2 is [0, 1, 2]);
        Check("raftkv failed txn read no key", raftkv.TryReadFailedTxnValue(raftkvAbsent, out var v3) && v3 is null);
        Check("raftkv truncated answer is not read", !raftkv.TryReadFailedTxnValue(raftkvFailed[..40], out _));

        var etcdHeld = Encoding.UTF8.GetBytes(etcdHeader + ""","succeeded":true,"responses":[{"response_put":{"header":{"revision":"5"}}}]}""");
        var etcdFailed = Encoding.UTF8.GetBytes(etcdHeader + ""","responses":[{"response_range":{"header":{"revision":"5"},"kvs":[{"key":"YmVuY2gvMDAwMTAw","create_revision":"2","mod_revision":"5","version":"2","value":"YWJk"}],"count":"1"}}]}""");
        var etcdEmpty = Encoding.UTF8.GetBytes(etcdHeader + ""","responses":[{"response_range":{"header":{"revision":"3"},"kvs":[{"key":"YmVuY2gvMDAwOTk4","create_revision":"3","mod_revision":"3","version":"1"}],"count":"1"}}]}""");
        var etcdAbsent = Encoding.UTF8.GetBytes(etcdHeader + ""","responses":[{"response_range":{"header":{"revision":"2"}}}]}""");
        Check("etcd txn held", etcd.Classify(OpKind.Txn, 200, etcdHeld) == Outcome.Ok);
        Check("etcd txn compare failed", etcd.Classify(OpKind.Txn, 200, etcdFailed) == Outcome.CompareFailed);
        Check("etcd failed txn read abd", etcd.TryReadFailedTxnValue(etcdFailed, out var e1) && e1 is not null && e1.SequenceEqual("abd"u8.ToArray()));
        Check("etcd failed txn read an empty value", etcd.TryReadFailedTxnValue(etcdEmpty, out var e2) && e2 is []);
        Check("etcd failed txn read no key", etcd.TryReadFailedTxnValue(etcdAbsent, out var e3) && e3 is null);
        var etcdNoKey = Encoding.UTF8.GetBytes(etcdHeader + "}");
        Check("etcd read of no key is not found", etcd.Classify(OpKind.Read, 200, etcdNoKey) == Outcome.NotFound);

        // etcd's gateway decodes the HTTP bodies into its gRPC messages: the gRPC mode must send those very messages.
        var grpc = new GrpcRequests(1000, "abc"u8.ToArray(), serializable: false);
        var grpcLocal = new GrpcRequests(1000, "abc"u8.ToArray(), serializable: true);
        var etcdLocal = new EtcdProtocol(["http://127.0.0.1:1"], 1000, "abc"u8.ToArray(), serializable: true);
        Check("grpc read is the gateway's", Parse<RangeRequest>(etcd.CreateRead(0, 7)).Equals(grpc.Read(7)));
        Check("grpc serializable read is the gateway's", Parse<RangeRequest>(etcdLocal.CreateRead(0, 7)).Equals(grpcLocal.Read(7)));
        Check("grpc serializable read is not the linearizable one", !grpcLocal.Read(7).Equals(grpc.Read(7)));
        Check("grpc put is the gateway's", Parse<PutRequest>(etcd.CreateWrite(0, 7)).Equals(grpc.Write(7)));
        Check("grpc range is the gateway's", Parse<RangeRequest>(etcd.CreateRange(0, 9)).Equals(grpc.Range(9)));
        Check("grpc serializable range is the gateway's", Parse<RangeRequest>(etcdLocal.CreateRange(0, 9)).Equals(grpcLocal.Range(9)));
        Check("grpc txn is the gateway's", Parse<TxnRequest>(etcd.CreateTxn(0, 100, "abc"u8.ToArray(), "abd"u8.ToArray()))
            .Equals(grpc.Txn(100, "abc"u8.ToArray(), "abd"u8.ToArray())));
        Check("grpc txn, key absent, is the gateway's", Parse<TxnRequest>(etcd.CreateTxn(0, 999, null, "xyz"u8.ToArray()))
            .Equals(grpc.Txn(999, null, "xyz"u8.ToArray())));

        // And the answers recorded from the gateway, as the gRPC messages they encode, read as the gateway's are.
        Check("grpc read of no key is not found", GrpcRequests.Classify(OpKind.Read, Parse<RangeResponse>(etcdNoKey)) == Outcome.NotFound);
        Check("grpc read of a key is ok", GrpcRequests.Classify(OpKind.Read, Parse<RangeResponse>(EtcdRange(1))) == Outcome.Ok);
        Check("grpc range of 3 is short", GrpcRequests.Classify(OpKind.Range, Parse<RangeResponse>(EtcdRange(3))) == Outcome.Short);
        Check("grpc range of 100 is ok", GrpcRequests.Classify(OpKind.Range, Parse<RangeResponse>(EtcdRange(100))) == Outcome.Ok);
        Check("grpc txn held", GrpcRequests.Classify(Parse<TxnResponse>(etcdHeld)) is { Outcome: Outcome.Ok, KnowsTxnValue: false });
        Check("grpc failed txn read abd", GrpcRequests.Classify(Parse<TxnResponse>(etcdFailed))
            is { Outcome: Outcome.CompareFailed, KnowsTxnValue: true, TxnValue: [(byte)'a', (byte)'b', (byte)'d'] });
        Check("grpc failed txn read an empty value", GrpcRequests.Classify(Parse<TxnResponse>(etcdEmpty))
            is { Outcome: Outcome.CompareFailed, KnowsTxnValue: true, TxnValue: [] });
        Check("grpc failed txn read no key", GrpcRequests.Classify(Parse<TxnResponse>(etcdAbsent))
            is { Outcome: Outcome.CompareFailed, KnowsTxnValue: true, TxnValue: null });
        return failures;

        byte[] RaftKvRange(int n) => Encoding.UTF8.GetBytes($$"""{"revision":4,"count":{{n}},"more":false,"next":null,"kvs":[{{string.Join(',', Enumerable.Repeat(raftkvItem, n))}}]}""");
        byte[] EtcdRange(int n) => Encoding.UTF8.GetBytes($$"""{{etcdHeader}},"kvs":[{{string.Join(',', Enumerable.Repeat(etcdItem, n))}}],"count":"{{n}}"}""");
    }

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

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
