using System.Globalization;
using RaftKv.Client;

namespace RaftKv.Robustness.Harness;

/// <summary>The knobs of one robustness run, from the command line of <c>scripts/jepsen.sh</c>.</summary>
public sealed record RunOptions
{
    public static readonly IReadOnlyList<string> NemesisKinds = ["partition", "kill", "pause", "membership"];

    /// <summary>
    /// <c>register</c> (read, write, compare-and-set on a few hot keys), <c>set</c> (unique adds) or <c>bank</c>
    /// (transfers between accounts in transactions, and reads of every account at one revision), <c>watch</c> (watchers
    /// following a prefix that clients put to) or <c>lease</c> (keys attached to leases kept alive, revoked or left to expire).
    /// </summary>
    public string Workload { get; init; } = "register";

    /// <summary>Fault kinds the nemesis draws from: partition, kill, pause, membership (a member removed, then added back on an empty data folder). Empty: no faults.</summary>
    public IReadOnlyList<string> Nemesis { get; init; } = [];

    public TimeSpan TimeLimit { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Operations per second over all clients; 0 for as fast as they go.</summary>
    public double Rate { get; init; } = 50;

    /// <summary>Logical clients, each with at most one operation in flight.</summary>
    public int Concurrency { get; init; } = 10;

    public int Nodes { get; init; } = 5;

    /// <summary>The run folder; made if missing.</summary>
    public string Out { get; init; } = "";

    /// <summary>How often the nemesis starts a fault; each lasts about this long too.</summary>
    public TimeSpan NemesisInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Read consistency of the register and bank workloads' reads: linearizable, lease, or local (which can be stale: the suite must catch it).</summary>
    public Consistency ReadConsistency { get; init; } = Consistency.Linearizable;

    /// <summary>
    /// The client API the workload drives: <c>http</c> (RaftKv's HTTP API, every workload) or <c>grpc</c> (etcd's v3
    /// gRPC API; the register workload only, with linearizable or local reads, as etcd has no lease read).
    /// </summary>
    public string Api { get; init; } = "http";

    /// <summary>
    /// <c>--retry-unknown</c>: the register and bank workloads give every write (put, cas, transfer, init) an idempotency
    /// key of its own and resend it under that key while its outcome is unknown, so that most unknown writes end ok or
    /// fail, still as one operation (<see cref="UnknownWriteRetry"/>, bounded by <see cref="RetryBound.Default"/>).
    /// </summary>
    public bool RetryUnknown { get; init; }

    /// <summary>Seeds every random choice of clients and nemesis, so a schedule can be replayed.</summary>
    public int Seed { get; init; } = Environment.TickCount;

    /// <summary>Search budget of the linearizability checker, per key; of the bank checker, for the whole history.</summary>
    public TimeSpan CheckTimeLimit { get; init; } = TimeSpan.FromSeconds(30);

    public const string Usage = """
        usage: jepsen.sh [--workload register|set|bank|watch|lease] [--nemesis partition,kill,pause] [--time-limit S]
                         [--rate OPS] [--concurrency N] [--nodes N] [--out DIR] [--nemesis-interval S]
                         [--read-consistency linearizable|lease|local] [--seed N] [--check-time-limit S]
                         [--api http|grpc]   (grpc: register workload, linearizable or local reads only)
                         [--retry-unknown]   (register and bank: resend unknown writes under their idempotency key)
        """;

    /// <exception cref="ArgumentException">An unknown option or a bad value, with a message saying which.</exception>
    public static RunOptions Parse(IReadOnlyList<string> args)
    {
        var options = new RunOptions { Out = Path.Combine(".run", "jepsen", DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)) };
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{name} needs a value.");
            options = name switch
            {
                "--workload" => options with { Workload = OneOf(name, Value(), "register", "set", "bank", "watch", "lease") },
                "--nemesis" => options with { Nemesis = ParseNemesis(Value()) },
                "--time-limit" => options with { TimeLimit = TimeSpan.FromSeconds(Number(name, Value(), 1, 86_400)) },
                "--rate" => options with { Rate = Number(name, Value(), 0, 100_000) },
                "--concurrency" => options with { Concurrency = (int)Number(name, Value(), 1, 1_000) },
                "--nodes" => options with { Nodes = (int)Number(name, Value(), 3, 9) },
                "--out" => options with { Out = Value() },
                "--nemesis-interval" => options with { NemesisInterval = TimeSpan.FromSeconds(Number(name, Value(), 1, 3_600)) },
                "--read-consistency" => options with { ReadConsistency = Enum.Parse<Consistency>(OneOf(name, Value(), "linearizable", "lease", "local"), ignoreCase: true) },
                "--seed" => options with { Seed = (int)Number(name, Value(), int.MinValue, int.MaxValue) },
                "--check-time-limit" => options with { CheckTimeLimit = TimeSpan.FromSeconds(Number(name, Value(), 1, 86_400)) },
                "--api" => options with { Api = OneOf(name, Value(), "http", "grpc") },
                "--retry-unknown" => options with { RetryUnknown = true },
                _ => throw new ArgumentException($"Unknown option {name}."),
            };
        }

        // Checked once every option is read, as the options may come in any order.
        if (options.Api == "grpc" && options.Workload != "register")
        {
            throw new ArgumentException($"--api grpc drives the register workload only, not {options.Workload}.");
        }

        if (options.Api == "grpc" && options.ReadConsistency == Consistency.Lease)
        {
            throw new ArgumentException("--api grpc has no lease reads (etcd's Range is linearizable or serializable); use --read-consistency linearizable or local.");
        }

        if (options.RetryUnknown && options.Workload is not ("register" or "bank"))
        {
            throw new ArgumentException($"--retry-unknown retries the register and bank workloads' writes only, not {options.Workload}'s.");
        }

        return options;
    }

    private static List<string> ParseNemesis(string value)
    {
        var kinds = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct().ToList();
        var unknown = kinds.Where(k => !NemesisKinds.Contains(k)).ToList();
        return unknown.Count == 0 ? kinds : throw new ArgumentException($"Unknown nemesis {string.Join(", ", unknown)}; choose from {string.Join(", ", NemesisKinds)}.");
    }

    private static string OneOf(string name, string value, params string[] allowed)
        => allowed.Contains(value) ? value : throw new ArgumentException($"{name} must be one of {string.Join(", ", allowed)}, not '{value}'.");

    private static double Number(string name, string value, double min, double max)
        => double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && number >= min && number <= max
            ? number
            : throw new ArgumentException($"{name} must be a number from {min} to {max}, not '{value}'.");
}
