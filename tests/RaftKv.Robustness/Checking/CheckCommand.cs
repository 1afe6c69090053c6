using System.Globalization;
using RaftKv.Robustness.History;

namespace RaftKv.Robustness.Checking;

/// <summary>
/// The "check" verb: check HISTORY.jsonl [--time-limit-seconds N]. A history with a watch gets the watch checker; one
/// with grants, keep-alives or revokes the lease checker; one with transfers or an init is a bank history and gets the
/// bank checker; any other gets the linearizability checker, one register per key.
/// Exit codes: 0 valid (linearizable), 1 violation, 2 unknown (a search ran out of time or memory),
/// 3 unusable input (bad arguments, unreadable file, malformed line, a bank history without its init, a watch or lease
/// history the checker cannot use).
/// </summary>
public static class CheckCommand
{
    public const int ExitValid = 0;
    public const int ExitViolation = 1;
    public const int ExitUnknown = 2;
    public const int ExitBadInput = 3;

    private const double DefaultTimeLimitSeconds = 30;
    private const int PrefixOperationsShown = 10;
    private const string Usage = "usage: check HISTORY.jsonl [--time-limit-seconds N]   (N: search time per key, or for a whole bank history)";
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);

        if (!TryParseArguments(args, out var path, out var timeLimit, out var problem))
        {
            error.WriteLine(problem);
            error.WriteLine(Usage);
            return ExitBadInput;
        }

        IReadOnlyList<HistoryEvent> events;
        try
        {
            events = HistoryReader.ReadFile(path);
        }
        catch (MalformedHistoryException e)
        {
            error.WriteLine($"{path}: malformed history at {e.Message}");
            return ExitBadInput;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"{path}: cannot read the history: {e.Message}");
            return ExitBadInput;
        }

        var operations = Operation.Pair(events);
        if (operations.Any(o => o.F == OperationFunction.Watch))
        {
            return CheckWatch(path, events.Count, operations, output, error);
        }

        if (operations.Any(o => o.F is OperationFunction.Grant or OperationFunction.KeepAlive or OperationFunction.Revoke))
        {
            return CheckLease(path, events.Count, operations, output, error);
        }

        if (operations.Any(o => o.F is OperationFunction.Transfer or OperationFunction.Init || o.Balances is not null))
        {
            return CheckBank(path, events.Count, operations, timeLimit, output, error);
        }

        var result = LinearizabilityChecker.Check(operations, timeLimit);
        Report(path, events.Count, operations, timeLimit, result, output);
        return result.Verdict switch
        {
            Verdict.Linearizable => ExitValid,
            Verdict.NotLinearizable => ExitViolation,
            _ => ExitUnknown,
        };
    }

    private static int CheckBank(string path, int eventCount, IReadOnlyList<Operation> operations, TimeSpan timeLimit, TextWriter output, TextWriter error)
    {
        BankResult result;
        try
        {
            result = BankChecker.Check(operations, timeLimit);
        }
        catch (ArgumentException e)
        {
            error.WriteLine($"{path}: not a usable bank history: {e.Message}");
            return ExitBadInput;
        }

        ReportCounts(path, eventCount, operations, output);
        output.WriteLine(string.Create(Invariant,
            $"Checked the bank: {result.Accounts} accounts, total {result.Total}, {result.Reads} ok reads, transfers " +
            $"{result.TransfersOk} ok, {result.TransfersFailed} failed, {result.TransfersUnknown} unknown; " +
            $"{(result.Exact ? "with revisions" : "without revisions on every operation, so partly by real time only")}, " +
            $"time limit {timeLimit.TotalSeconds} s, took {result.Elapsed.TotalSeconds:0.###} s"));
        foreach (var violation in result.Violations)
        {
            output.WriteLine();
            output.WriteLine($"Violation ({violation.Kind}): {violation.Message}");
        }

        output.WriteLine();
        output.WriteLine(result.Verdict switch
        {
            BankVerdict.Valid => "Verdict: valid",
            BankVerdict.Invalid => $"Verdict: INVALID ({result.Violations.Count} violations)",
            _ => string.Create(Invariant, $"Verdict: unknown (the search ran out of time with {result.ReadsUndecided} reads undecided)"),
        });
        return result.Verdict switch
        {
            BankVerdict.Valid => ExitValid,
            BankVerdict.Invalid => ExitViolation,
            _ => ExitUnknown,
        };
    }

    private static int CheckWatch(string path, int eventCount, IReadOnlyList<Operation> operations, TextWriter output, TextWriter error)
    {
        WatchResult result;
        try
        {
            result = WatchChecker.Check(operations);
        }
        catch (ArgumentException e)
        {
            error.WriteLine($"{path}: not a usable watch history: {e.Message}");
            return ExitBadInput;
        }

        ReportCounts(path, eventCount, operations, output);
        output.WriteLine(string.Create(Invariant,
            $"Checked the watches: {result.Watchers} watchers, {result.Revisions} revisions received, writes {result.WritesOk} ok, " +
            $"{result.WritesFailed} failed, {result.WritesUnknown} unknown ({result.WritesUnknownSeen} of them received), " +
            $"{result.WritesUncovered} ok writes outside every watcher's span"));
        return ReportViolations(result.Violations.Select(v => (v.Kind, v.Message)).ToList(), output);
    }

    private static int CheckLease(string path, int eventCount, IReadOnlyList<Operation> operations, TextWriter output, TextWriter error)
    {
        LeaseResult result;
        try
        {
            result = LeaseChecker.Check(operations);
        }
        catch (ArgumentException e)
        {
            error.WriteLine($"{path}: not a usable lease history: {e.Message}");
            return ExitBadInput;
        }

        ReportCounts(path, eventCount, operations, output);
        output.WriteLine(string.Create(Invariant,
            $"Checked the leases: {result.Leases} granted, {result.Revoked} revoked, {result.LeasesSeenEnding} seen ending, " +
            $"{result.KeepAlives} keep-alives ok, {result.Keys} keys attached, {result.Reads} reads"));
        return ReportViolations(result.Violations.Select(v => (v.Kind, v.Message)).ToList(), output);
    }

    /// <summary>The violations and the verdict of a checker that needs no search, so it is never unknown.</summary>
    private static int ReportViolations(List<(string Kind, string Message)> violations, TextWriter output)
    {
        foreach (var (kind, message) in violations)
        {
            output.WriteLine();
            output.WriteLine($"Violation ({kind}): {message}");
        }

        output.WriteLine();
        output.WriteLine(violations.Count == 0 ? "Verdict: valid" : string.Create(Invariant, $"Verdict: INVALID ({violations.Count} violations)"));
        return violations.Count == 0 ? ExitValid : ExitViolation;
    }

    private static void ReportCounts(string path, int eventCount, IReadOnlyList<Operation> operations, TextWriter output)
    {
        int Count(OperationOutcome outcome) => operations.Count(o => o.Type == outcome);
        output.WriteLine(string.Create(Invariant,
            $"History {path}: {eventCount} events, {operations.Count} operations " +
            $"({Count(OperationOutcome.Ok)} ok, {Count(OperationOutcome.Fail)} fail, {Count(OperationOutcome.Info)} info)"));
    }

    private static bool TryParseArguments(string[] args, out string path, out TimeSpan timeLimit, out string problem)
    {
        path = args.Length > 0 ? args[0] : "";
        timeLimit = TimeSpan.FromSeconds(DefaultTimeLimitSeconds);
        problem = "";
        if (args.Length == 0 || args[0].StartsWith("--", StringComparison.Ordinal))
        {
            problem = "missing the history file";
            return false;
        }

        for (var i = 1; i < args.Length; i += 2)
        {
            if (args[i] != "--time-limit-seconds")
            {
                problem = $"unexpected argument \"{args[i]}\"";
                return false;
            }

            var value = i + 1 < args.Length ? args[i + 1] : "";
            if (!double.TryParse(value, NumberStyles.Float, Invariant, out var seconds) ||
                !(seconds > 0) || seconds > TimeSpan.MaxValue.TotalSeconds)
            {
                problem = $"--time-limit-seconds needs a positive number of seconds, not \"{value}\"";
                return false;
            }

            timeLimit = TimeSpan.FromSeconds(seconds);
        }

        return true;
    }

    private static void Report(
        string path, int eventCount, IReadOnlyList<Operation> operations, TimeSpan timeLimit,
        LinearizabilityResult result, TextWriter output)
    {
        ReportCounts(path, eventCount, operations, output);
        output.WriteLine(string.Create(Invariant,
            $"Checked {result.Keys.Count} keys, {result.Keys.Sum(k => k.OperationCount)} operations " +
            $"(fail operations and reads that did not end ok are dropped), time limit {timeLimit.TotalSeconds} s per key"));

        foreach (var key in result.Keys.Where(k => k.Verdict != Verdict.Linearizable))
        {
            output.WriteLine();
            output.WriteLine(string.Create(Invariant,
                $"Key \"{key.Key}\": {Describe(key.Verdict)} ({key.OperationCount} operations, {key.Elapsed.TotalSeconds:0.###} s)"));
            if (key.Violation is { } violation)
            {
                ReportViolation(violation, output);
            }
        }

        var slowest = result.Keys.MaxBy(k => k.Elapsed);
        output.WriteLine();
        if (slowest is not null)
        {
            output.WriteLine(string.Create(Invariant, $"Slowest key: \"{slowest.Key}\", {slowest.Elapsed.TotalSeconds:0.###} s"));
        }

        output.WriteLine($"Verdict: {Describe(result.Verdict)}");
    }

    private static void ReportViolation(Violation violation, TextWriter output)
    {
        var prefix = violation.LinearizedPrefix;
        output.WriteLine(string.Create(Invariant,
            $"  Longest linearizable prefix: {prefix.Count} operations, leaving the value {Quote(violation.ValueAfterPrefix)}"));
        if (prefix.Count > PrefixOperationsShown)
        {
            output.WriteLine(string.Create(Invariant, $"    ... {prefix.Count - PrefixOperationsShown} earlier operations"));
        }

        foreach (var operation in prefix.Skip(Math.Max(0, prefix.Count - PrefixOperationsShown)))
        {
            output.WriteLine($"    {Format(operation)}");
        }

        output.WriteLine("  None of these could be linearized next:");
        foreach (var operation in violation.Pending)
        {
            output.WriteLine($"    {Format(operation)}");
        }
    }

    private static string Format(Operation operation)
    {
        var what = operation.F switch
        {
            OperationFunction.Read => $"read -> {Quote(operation.Output)}",
            OperationFunction.Write => $"write {Quote(operation.Value)}",
            _ => $"cas {Quote(operation.Expected)} -> {Quote(operation.Value)}",
        };
        var completed = operation.Type == OperationOutcome.Info
            ? "completion unknown"
            : operation.CompleteTime.ToString(Invariant);
        return string.Create(Invariant,
            $"process {operation.Process} on node {operation.Node}: {what} {Name(operation.Type)}" +
            $", invoked {operation.InvokeTime}, completed {completed}");
    }

    private static string Name(OperationOutcome outcome) => outcome switch
    {
        OperationOutcome.Ok => "ok",
        OperationOutcome.Fail => "fail",
        _ => "info",
    };

    private static string Quote(string? value) => value is null ? "absent" : $"\"{value}\"";

    private static string Describe(Verdict verdict) => verdict switch
    {
        Verdict.Linearizable => "linearizable",
        Verdict.NotLinearizable => "NOT linearizable",
        _ => "unknown (the search ran out of time or memory)",
    };
}
