using System.CommandLine;
using System.Globalization;
using System.CommandLine.Parsing;

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

/// <summary>What one load run does, from the command line (<see cref="LoadCommand"/>).</summary>
internal sealed record LoadOptions
{
    public KvSystem System { get; init; } = KvSystem.RaftKv;

    public KvApi Api { get; init; } = KvApi.Http;

    public int GrpcConnections { get; init; } = 4;

    public IReadOnlyList<string> Targets { get; init; } = [];

    public bool LeaderOnly { get; init; }

    public bool Failover { get; init; }

    public int Concurrency { get; init; } = 16;

    public double DurationSeconds { get; init; } = 10;

    public double WarmupSeconds { get; init; } = 2;

    public int Keys { get; init; } = 10_000;

    public int ValueSize { get; init; } = 100;

    public OperationMix Mix { get; init; } = OperationMix.Parse(LoadCommand.DefaultMix);

    public bool LocalReads { get; init; }

    public bool Preload { get; init; }

    public bool PreloadOnly { get; init; }

    public double TimeoutSeconds { get; init; } = 10;

    public string? OutFile { get; init; }

    public int Seed { get; init; } = 1;
}

/// <summary>
/// The load generator's command line on System.CommandLine: the root command runs the load, with every
/// option checked as it is parsed; <c>chart</c> (<see cref="ChartCommand"/>) draws a comparison's results.
/// </summary>
internal static class LoadCommand
{
    public const string DefaultMix = "read=0.9,write=0.1";

    private static readonly LoadOptions Defaults = new();

    private static readonly Option<KvSystem> System = new Option<KvSystem>("--system")
    {
        Description = "Which system: with --api http, whose HTTP API to speak; with grpc, only the report's name for it.",
        DefaultValueFactory = _ => Defaults.System,
    }.AcceptOnlyFromAmong("raftkv", "etcd");

    private static readonly Option<KvApi> Api = new Option<KvApi>("--api")
    {
        Description = "http: HTTP/1.1 keep-alive (RaftKv's API, etcd's v3 JSON gateway); grpc: etcd's v3 gRPC API over cleartext HTTP/2.",
        DefaultValueFactory = _ => Defaults.Api,
    }.AcceptOnlyFromAmong("http", "grpc");

    private static readonly Option<int> GrpcConnections = Integer("--grpc-connections", "With --api grpc: HTTP/2 connections per target, each worker on one.", Defaults.GrpcConnections, min: 1);

    private static readonly Option<string[]> Targets = new("--targets")
    {
        Description = "Client URLs (with --api grpc: gRPC URLs), comma-separated; requests go round-robin across them.",
        Required = true,
        HelpName = "URL[,URL...]",
        CustomParser = ParseTargets,
    };

    private static readonly Option<bool> LeaderOnly = new("--leader-only") { Description = "Send everything to the current leader instead." };

    private static readonly Option<bool> Failover = new("--failover")
    {
        Description = "Send a failed request to the next target, as a load balancer would: a read after any failure, a write only after a refused connection or a 503, which say it changed nothing.",
    };

    private static readonly Option<int> Concurrency = Integer("--concurrency", "Workers, each with one request in flight.", Defaults.Concurrency, min: 1);

    private static readonly Option<double> Duration = Seconds("--duration", "Measured seconds.", Defaults.DurationSeconds, min: 0.1);

    private static readonly Option<double> Warmup = Seconds("--warmup", "Seconds before measuring starts.", Defaults.WarmupSeconds, min: 0);

    private static readonly Option<int> Keys = Integer("--keys", "The key space: bench/000000 ...", Defaults.Keys, min: 1);

    private static readonly Option<int> ValueSize = Integer("--value-size", "Bytes per value.", Defaults.ValueSize, min: 0);

    private static readonly Option<OperationMix> Mix = new("--mix")
    {
        Description = $"Operation weights. range: a prefix of exactly {Protocols.RangeSize} keys; txn: a compare-and-put of the worker's own key against the value it last wrote.",
        HelpName = "read=R,write=W,range=G,txn=T",
        DefaultValueFactory = _ => Defaults.Mix,
        CustomParser = ParseMix,
    };

    private static readonly Option<string> Consistency = new Option<string>("--consistency")
    {
        Description = "Reads: linearizable, or local (etcd: serializable).",
        DefaultValueFactory = _ => "linearizable",
    }.AcceptOnlyFromAmong("linearizable", "local");

    private static readonly Option<bool> Preload = new("--preload") { Description = "Write every key once before the warm-up." };

    private static readonly Option<bool> PreloadOnly = new("--preload-only") { Description = "Write every key once, then exit without measuring." };

    private static readonly Option<double> Timeout = Seconds("--timeout", "Per-request timeout, in seconds.", Defaults.TimeoutSeconds, min: 0.1);

    private static readonly Option<string?> Out = new("--out") { Description = "Also write the results as JSON to this file.", HelpName = "FILE.json" };

    private static readonly Option<int> Seed = new("--seed") { Description = "Random seed.", DefaultValueFactory = _ => Defaults.Seed };

    /// <summary>The root command: parses and checks the options, then runs <paramref name="run"/> with them.</summary>
    public static RootCommand Create(Func<LoadOptions, Task<int>> run)
    {
        var root = new RootCommand(
            "RaftKv.LoadGen: closed-loop load against a running RaftKv or etcd cluster, over HTTP (RaftKv's API, etcd's v3 JSON gateway) or etcd's v3 gRPC API (etcd, or RaftKv's gRPC port).")
        {
            System, Api, GrpcConnections, Targets, LeaderOnly, Failover, Concurrency, Duration, Warmup, Keys, ValueSize,
            Mix, Consistency, Preload, PreloadOnly, Timeout, Out, Seed,
        };
        root.SetAction(async (parsed, _) =>
        {
            var options = Bind(parsed);

            // Checked here, not in a command validator, which would throw reading an option that failed to parse.
            if (options.Mix.Range > 0 && options.Keys < Protocols.RangeSize)
            {
                await Console.Error.WriteLineAsync($"loadgen: --mix range needs --keys >= {Protocols.RangeSize}");
                return 2;
            }

            return await run(options);
        });
        return root;
    }

    private static LoadOptions Bind(ParseResult parsed) => new()
    {
        System = parsed.GetValue(System),
        Api = parsed.GetValue(Api),
        GrpcConnections = parsed.GetValue(GrpcConnections),
        Targets = parsed.GetRequiredValue(Targets),
        LeaderOnly = parsed.GetValue(LeaderOnly),
        Failover = parsed.GetValue(Failover),
        Concurrency = parsed.GetValue(Concurrency),
        DurationSeconds = parsed.GetValue(Duration),
        WarmupSeconds = parsed.GetValue(Warmup),
        Keys = parsed.GetValue(Keys),
        ValueSize = parsed.GetValue(ValueSize),
        Mix = parsed.GetRequiredValue(Mix),
        LocalReads = parsed.GetValue(Consistency) == "local",
        Preload = parsed.GetValue(Preload) || parsed.GetValue(PreloadOnly),
        PreloadOnly = parsed.GetValue(PreloadOnly),
        TimeoutSeconds = parsed.GetValue(Timeout),
        OutFile = parsed.GetValue(Out),
        Seed = parsed.GetValue(Seed),
    };

    // Parsed here rather than checked by a validator: a validator also runs after a failed conversion, and throws reading it.
    private static Option<int> Integer(string name, string description, int defaultValue, int min) => new(name)
    {
        Description = description,
        HelpName = "N",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result => Parse(result, name, min, int.TryParse, "an integer"),
    };

    private static Option<double> Seconds(string name, string description, double defaultValue, double min) => new(name)
    {
        Description = description,
        HelpName = "S",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result => Parse(result, name, min, double.TryParse, "a number of seconds"),
    };

    private delegate bool TryParse<T>(string text, NumberStyles styles, IFormatProvider provider, out T value);

    private static T Parse<T>(ArgumentResult result, string name, T min, TryParse<T> tryParse, string what)
        where T : struct, IComparable<T>
    {
        if (tryParse(result.Tokens[^1].Value, NumberStyles.Float & ~NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out var value) && value.CompareTo(min) >= 0)
        {
            return value;
        }

        result.AddError($"{name} must be {what} >= {min}");
        return min;
    }

    private static string[] ParseTargets(ArgumentResult result)
    {
        var targets = new List<string>();
        foreach (var text in result.Tokens.SelectMany(t => t.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                result.AddError($"'{text}' is not an http URL");
                return [];
            }

            targets.Add(uri.GetLeftPart(UriPartial.Authority));
        }

        if (targets.Count == 0)
        {
            result.AddError("--targets needs at least one URL");
        }

        return [.. targets];
    }

    private static OperationMix ParseMix(ArgumentResult result)
    {
        try
        {
            return OperationMix.Parse(string.Join(',', result.Tokens.Select(t => t.Value)));
        }
        catch (ArgumentException e)
        {
            result.AddError(e.Message);
            return Defaults.Mix;
        }
    }
}
