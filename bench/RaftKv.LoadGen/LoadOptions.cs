using System.Globalization;

namespace RaftKv.LoadGen;

internal enum KvSystem
{
    RaftKv,
    Etcd,
}

/// <summary>Which API the requests go through.</summary>
internal enum KvApi
{
    /// <summary>The system's HTTP API: RaftKv's own, or etcd's v3 JSON gateway.</summary>
    Http,

    /// <summary>etcd's v3 gRPC API, natively: etcd's client URL, or a RaftKv member's grpcUrl.</summary>
    Grpc,
}

/// <summary>The command line, parsed and checked.</summary>
internal sealed class LoadOptions
{
    public const string Usage = """
        RaftKv.LoadGen: closed-loop load against a running RaftKv or etcd cluster, over HTTP (RaftKv's API,
        etcd's v3 JSON gateway) or etcd's v3 gRPC API (etcd, or RaftKv's gRPC port).

          --system raftkv|etcd                 which system (default raftkv): with --api http, whose HTTP API to speak
          --api http|grpc                      HTTP/1.1 (default) or gRPC over cleartext HTTP/2
          --grpc-connections N                 grpc: HTTP/2 connections per target, each worker on one (default 4)
          --targets URL[,URL...]               client URLs (grpc: gRPC URLs); requests go round-robin across them (required)
          --leader-only                        send everything to the current leader instead
          --failover                           send a failed request to the next target, as a load balancer
                                               would: a read after any failure, a write only after a refused
                                               connection or a 503, which say it changed nothing
          --concurrency N                      workers, each with one request in flight (default 16)
          --duration S                         measured seconds (default 10)
          --warmup S                           seconds before measuring starts (default 2)
          --keys N                             key space: bench/000000 .. (default 10000)
          --value-size B                       bytes per value (default 100)
          --mix read=R,write=W,range=G,txn=T   operation weights (default read=0.9,write=0.1); range: a prefix of
                                               exactly 100 keys (needs --keys >= 100); txn: compare-and-put
                                               of the worker's own key against the value it last wrote
          --consistency linearizable|local     reads: linearizable (default) or local / serializable
          --preload                            write every key once before the warm-up
          --preload-only                       write every key once, then exit without measuring
          --timeout S                          per-request timeout (default 10)
          --out FILE.json                      also write the results as JSON
          --seed N                             random seed (default 1)
          --self-test                          check the histogram, the request bodies and the reading of answers, and exit
        """;

    public KvSystem System { get; private set; } = KvSystem.RaftKv;

    public KvApi Api { get; private set; } = KvApi.Http;

    public int GrpcConnections { get; private set; } = 4;

    public IReadOnlyList<string> Targets { get; private set; } = [];

    public bool LeaderOnly { get; private set; }

    public bool Failover { get; private set; }

    public int Concurrency { get; private set; } = 16;

    public double DurationSeconds { get; private set; } = 10;

    public double WarmupSeconds { get; private set; } = 2;

    public int Keys { get; private set; } = 10_000;

    public int ValueSize { get; private set; } = 100;

    public OperationMix Mix { get; private set; } = new(Read: 0.9, Write: 0.1, Range: 0, Txn: 0);

    public bool LocalReads { get; private set; }

    public bool Preload { get; private set; }

    public bool PreloadOnly { get; private set; }

    public double TimeoutSeconds { get; private set; } = 10;

    public string? OutFile { get; private set; }

    public int Seed { get; private set; } = 1;

    public bool SelfTest { get; private set; }

    public bool Help { get; private set; }

    /// <exception cref="ArgumentException">The command line is malformed; the message says how.</exception>
    public static LoadOptions Parse(IReadOnlyList<string> args)
    {
        var o = new LoadOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{name} needs a value");
            switch (name)
            {
                case "--system":
                    o.System = Value() switch
                    {
                        "raftkv" => KvSystem.RaftKv,
                        "etcd" => KvSystem.Etcd,
                        var s => throw new ArgumentException($"unknown system '{s}'"),
                    };
                    break;
                case "--api":
                    o.Api = Value() switch
                    {
                        "http" => KvApi.Http,
                        "grpc" => KvApi.Grpc,
                        var s => throw new ArgumentException($"unknown api '{s}'"),
                    };
                    break;
                case "--grpc-connections":
                    o.GrpcConnections = ParseInt(name, Value(), 1);
                    break;
                case "--targets":
                    o.Targets = [.. Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(ParseUrl)];
                    break;
                case "--leader-only":
                    o.LeaderOnly = true;
                    break;
                case "--failover":
                    o.Failover = true;
                    break;
                case "--concurrency":
                    o.Concurrency = ParseInt(name, Value(), 1);
                    break;
                case "--duration":
                    o.DurationSeconds = ParseSeconds(name, Value(), 0.1);
                    break;
                case "--warmup":
                    o.WarmupSeconds = ParseSeconds(name, Value(), 0);
                    break;
                case "--keys":
                    o.Keys = ParseInt(name, Value(), 1);
                    break;
                case "--value-size":
                    o.ValueSize = ParseInt(name, Value(), 0);
                    break;
                case "--mix":
                    o.Mix = OperationMix.Parse(Value());
                    break;
                case "--consistency":
                    o.LocalReads = Value() switch
                    {
                        "linearizable" => false,
                        "local" => true,
                        var s => throw new ArgumentException($"unknown consistency '{s}'"),
                    };
                    break;
                case "--preload":
                    o.Preload = true;
                    break;
                case "--preload-only":
                    o.Preload = o.PreloadOnly = true;
                    break;
                case "--timeout":
                    o.TimeoutSeconds = ParseSeconds(name, Value(), 0.1);
                    break;
                case "--out":
                    o.OutFile = Value();
                    break;
                case "--seed":
                    o.Seed = ParseInt(name, Value(), int.MinValue);
                    break;
                case "--self-test":
                    o.SelfTest = true;
                    break;
                case "--help" or "-h":
                    o.Help = true;
                    break;
                default:
                    throw new ArgumentException($"unknown option '{name}'");
            }
        }

        if (o.Targets.Count == 0 && !o.SelfTest && !o.Help)
        {
            throw new ArgumentException("--targets is required");
        }

        if (o.Mix.Range > 0 && o.Keys < Protocols.RangeSize)
        {
            throw new ArgumentException($"range needs --keys >= {Protocols.RangeSize}");
        }

        return o;
    }

    private static string ParseUrl(string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri.GetLeftPart(UriPartial.Authority)
            : throw new ArgumentException($"'{text}' is not an http URL");

    private static int ParseInt(string name, string text, int min) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= min
            ? n
            : throw new ArgumentException($"{name} must be an integer >= {min}");

    private static double ParseSeconds(string name, string text, double min) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s >= min
            ? s
            : throw new ArgumentException($"{name} must be a number of seconds >= {min}");
}
