using RaftKv.Robustness.Checking;
using RaftKv.Robustness.Harness;
using RaftKv.Robustness.History;

namespace RaftKv.Robustness.Report;

/// <summary>A checker's verdict in the form the report and <c>results.json</c> use.</summary>
/// <param name="Checker">Which checker ran.</param>
/// <param name="Verdict"><c>valid</c>, <c>invalid</c> or <c>unknown</c> (the search ran out of time).</param>
/// <param name="Summary">One line for people.</param>
/// <param name="Details">The checker's own findings, for <c>results.json</c>.</param>
/// <param name="Operations">Every operation of the history.</param>
/// <param name="Violating">The operations to highlight.</param>
public sealed record CheckResult(string Checker, string Verdict, string Summary, object Details, IReadOnlyList<Operation> Operations, IReadOnlyList<Operation> Violating)
{
    private const int ListedAtMost = 100;

    public bool Valid => Verdict == "valid";

    /// <summary>Under <c>--retry-unknown</c>, what the retries of unknown writes did; null without it.</summary>
    public RetryCounts? UnknownWriteRetries { get; init; }

    /// <summary>This result with <paramref name="counts"/>, which the summary then ends with, so that the log and the report show them.</summary>
    public CheckResult WithRetries(RetryCounts counts) => this with { UnknownWriteRetries = counts, Summary = $"{Summary}; {counts}" };

    public static CheckResult FromLinearizability(LinearizabilityResult result, IReadOnlyList<Operation> operations)
    {
        var verdict = result.Verdict switch
        {
            Checking.Verdict.Linearizable => "valid",
            Checking.Verdict.NotLinearizable => "invalid",
            _ => "unknown",
        };
        var flagged = result.Keys.Where(k => k.Verdict != Checking.Verdict.Linearizable).ToList();
        var violating = flagged.SelectMany(k => k.Violation?.Pending ?? []).ToList();
        var summary = $"linearizability: {verdict}; {result.Keys.Count} keys, {operations.Count} operations"
            + string.Concat(flagged.Select(k => $"; key {k.Key}: {k.Verdict}"));
        var details = new
        {
            keys = result.Keys.Count,
            slowestKeyMs = result.Keys.Count == 0 ? 0 : result.Keys.Max(k => k.Elapsed.TotalMilliseconds),
            flagged = flagged.Take(ListedAtMost).Select(k => new
            {
                key = k.Key,
                verdict = k.Verdict.ToString(),
                operations = k.OperationCount,
                valueAfterLinearizedPrefix = k.Violation?.ValueAfterPrefix,
                lastLinearized = k.Violation?.LinearizedPrefix.TakeLast(10).Select(Describe),
                couldNotLinearize = k.Violation?.Pending.Select(Describe),
            }),
        };
        return new CheckResult("linearizability", verdict, summary, details, operations, violating);
    }

    public static CheckResult FromSet(SetResult result, IReadOnlyList<Operation> operations)
    {
        var verdict = result.Valid ? "valid" : "invalid";
        var bad = result.Lost.Concat(result.Unexpected).Concat(result.FailedButPresent).Select(e => "set/" + e).ToHashSet(StringComparer.Ordinal);
        var violating = operations.Where(o => o.F == OperationFunction.Write && bad.Contains(o.Key)).ToList();
        var summary = $"set: {verdict}; {result.Attempted} attempted, {result.Acknowledged} acknowledged, {result.Observed} observed, "
            + $"{result.Lost.Count} lost, {result.Unexpected.Count} unexpected, {result.FailedButPresent.Count} failed but present, {result.Recovered.Count} recovered";
        var details = new
        {
            result.Attempted,
            result.Acknowledged,
            result.Failed,
            result.Indeterminate,
            result.Observed,
            lost = result.Lost.Take(ListedAtMost),
            unexpected = result.Unexpected.Take(ListedAtMost),
            failedButPresent = result.FailedButPresent.Take(ListedAtMost),
            recovered = result.Recovered.Count,
        };
        return new CheckResult("set", verdict, summary, details, operations, violating);
    }

    public static CheckResult FromBank(BankResult result, IReadOnlyList<Operation> operations)
    {
        var verdict = result.Verdict switch
        {
            BankVerdict.Valid => "valid",
            BankVerdict.Invalid => "invalid",
            _ => "unknown",
        };
        var violating = result.Violations.SelectMany(v => v.Operations).Distinct().ToList();
        var summary = $"bank: {verdict}; {result.Accounts} accounts, total {result.Total}, {result.Reads} reads, "
            + $"{result.TransfersOk} transfers ok, {result.TransfersFailed} failed, {result.TransfersUnknown} unknown"
            + (result.Exact ? "" : ", without revisions")
            + string.Concat(result.Violations.GroupBy(v => v.Kind).Select(g => $"; {g.Count()} {g.Key}"))
            + (result.ReadsUndecided > 0 ? $"; {result.ReadsUndecided} reads undecided" : "");
        var details = new
        {
            result.Accounts,
            result.Total,
            result.Reads,
            result.ReadsUndecided,
            result.TransfersOk,
            result.TransfersFailed,
            result.TransfersUnknown,
            result.Exact,
            elapsedMs = result.Elapsed.TotalMilliseconds,
            violations = result.Violations.Take(ListedAtMost).Select(v => new { v.Kind, v.Message, operations = v.Operations.Select(Describe) }),
        };
        return new CheckResult("bank", verdict, summary, details, operations, violating);
    }

    public static CheckResult FromWatch(WatchResult result, IReadOnlyList<Operation> operations)
    {
        var verdict = result.Valid ? "valid" : "invalid";
        var summary = $"watch: {verdict}; {result.Watchers} watchers, {result.Revisions} revisions received, writes {result.WritesOk} ok, "
            + $"{result.WritesFailed} failed, {result.WritesUnknown} unknown ({result.WritesUnknownSeen} of them received)"
            + (result.WritesUncovered > 0 ? $", {result.WritesUncovered} ok outside every watcher's span" : "")
            + string.Concat(result.Violations.GroupBy(v => v.Kind).Select(g => $"; {g.Count()} {g.Key}"));
        var details = new
        {
            result.Watchers,
            result.Revisions,
            result.WritesOk,
            result.WritesFailed,
            result.WritesUnknown,
            result.WritesUnknownSeen,
            result.WritesUncovered,
            violations = result.Violations.Take(ListedAtMost).Select(v => new { v.Kind, v.Message }),
        };
        return new CheckResult("watch", verdict, summary, details, operations, [.. result.Violations.SelectMany(v => v.Operations).Distinct()]);
    }

    public static CheckResult FromLease(LeaseResult result, IReadOnlyList<Operation> operations)
    {
        var verdict = result.Valid ? "valid" : "invalid";
        var summary = $"lease: {verdict}; {result.Leases} leases granted, {result.Revoked} revoked, {result.LeasesSeenEnding} seen ending, "
            + $"{result.KeepAlives} keep-alives ok, {result.Keys} keys attached, {result.Reads} reads"
            + string.Concat(result.Violations.GroupBy(v => v.Kind).Select(g => $"; {g.Count()} {g.Key}"));
        var details = new
        {
            result.Leases,
            result.Revoked,
            result.LeasesSeenEnding,
            result.KeepAlives,
            result.Keys,
            result.Reads,
            violations = result.Violations.Take(ListedAtMost).Select(v => new { v.Kind, v.Message, operations = v.Operations.Select(Describe) }),
        };
        return new CheckResult("lease", verdict, summary, details, operations, [.. result.Violations.SelectMany(v => v.Operations).Distinct()]);
    }

    private static object Describe(Operation o) => new
    {
        process = o.Process,
        f = o.F.ToString().ToLowerInvariant(),
        type = o.Type.ToString().ToLowerInvariant(),
        o.Expected,
        o.Value,
        o.Output,
        transfer = o.Transfer,
        balances = o.Balances?.Accounts,
        o.Revision,
        o.Lease,
        o.Ttl,
        o.Keys,
        o.InvokeTime,
        completeTime = o.CompleteTime == long.MaxValue ? (long?)null : o.CompleteTime,
        o.Node,
    };
}
