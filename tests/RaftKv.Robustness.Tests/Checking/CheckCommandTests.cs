using RaftKv.Robustness.Checking;
using RaftKv.Robustness.History;

namespace RaftKv.Robustness.Tests.Checking;

public sealed class CheckCommandTests : IDisposable
{
    private const string Invoke = """{"process": 1, "type": "invoke", "f": "write", "key": "k", "value": "a", "time": 1, "node": "n1"}""";
    private const string Ok = """{"process": 1, "type": "ok", "f": "write", "key": "k", "value": "a", "time": 2, "node": "n1"}""";

    private readonly string path = Path.GetTempFileName();

    public void Dispose() => File.Delete(path);

    internal static (int ExitCode, string Output, string Error) Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = CheckCommand.Run(args, output, error);
        return (exitCode, output.ToString(), error.ToString());
    }

    private (int ExitCode, string Output, string Error) RunOn(params HistoryEvent[] events)
    {
        using (var writer = HistoryWriter.Create(path))
        {
            foreach (var historyEvent in events)
            {
                writer.Append(historyEvent);
            }
        }

        return Run(path);
    }

    [Fact]
    public void A_malformed_line_exits_3_naming_its_line()
    {
        File.WriteAllLines(path, [Invoke, Ok, """{"process": 1, "type": "invoke", """]);

        var (exitCode, _, error) = Run(path);

        Assert.Equal(CheckCommand.ExitBadInput, exitCode);
        Assert.Contains("line 3", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_completion_without_invoke_exits_3_naming_its_line()
    {
        File.WriteAllLines(path, [Invoke, Ok, Ok]);

        var (exitCode, _, error) = Run(path);

        Assert.Equal(CheckCommand.ExitBadInput, exitCode);
        Assert.Contains("line 3", error, StringComparison.Ordinal);
        Assert.Contains("no outstanding invoke", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_file_exits_3()
    {
        var (exitCode, _, error) = Run(Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("N"), "history.jsonl"));

        Assert.Equal(CheckCommand.ExitBadInput, exitCode);
        Assert.Contains("cannot read", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("--time-limit-seconds 5")]
    [InlineData("h.jsonl --time-limit-seconds")]
    [InlineData("h.jsonl --time-limit-seconds 0")]
    [InlineData("h.jsonl --time-limit-seconds soon")]
    [InlineData("h.jsonl --verbose")]
    public void Bad_arguments_exit_3_with_usage(string commandLine)
    {
        var (exitCode, _, error) = Run(commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries));

        Assert.Equal(CheckCommand.ExitBadInput, exitCode);
        Assert.Contains("usage:", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_linearizable_history_exits_0()
    {
        var write = HistoryEvent.InvokeWrite(1, "k", "a", 1, "n1");
        var read = HistoryEvent.InvokeRead(2, "k", 3, "n2");

        var (exitCode, output, _) = RunOn(write, write.Complete(HistoryEventType.Ok, 2), read, read.Complete(HistoryEventType.Ok, 4, "a"));

        Assert.Equal(CheckCommand.ExitValid, exitCode);
        Assert.Contains("Checked 1 keys, 2 operations", output, StringComparison.Ordinal);
        Assert.Contains("Verdict: linearizable", output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_violation_exits_1_and_reports_the_key_and_the_operations()
    {
        var first = HistoryEvent.InvokeWrite(1, "account", "a", 10, "n1");
        var second = HistoryEvent.InvokeWrite(1, "account", "b", 30, "n2");
        var read = HistoryEvent.InvokeRead(2, "account", 50, "n3");

        var (exitCode, output, _) = RunOn(
            first, first.Complete(HistoryEventType.Ok, 20),
            second, second.Complete(HistoryEventType.Ok, 40),
            read, read.Complete(HistoryEventType.Ok, 60, "a"));

        Assert.Equal(CheckCommand.ExitViolation, exitCode);
        Assert.Contains("Key \"account\": NOT linearizable", output, StringComparison.Ordinal);
        Assert.Contains("leaving the value \"b\"", output, StringComparison.Ordinal);
        Assert.Contains("process 1 on node n2: write \"b\" ok, invoked 30, completed 40", output, StringComparison.Ordinal);
        Assert.Contains("process 2 on node n3: read -> \"a\" ok, invoked 50, completed 60", output, StringComparison.Ordinal);
        Assert.Contains("Verdict: NOT linearizable", output, StringComparison.Ordinal);
    }

    private static HistoryEvent[] Bank(long readRevision, params long[] readBalances)
    {
        var init = HistoryEvent.InvokeInit(0, "bank/", BankOps.Balances(10, 10), 1, "n1");
        var transfer = HistoryEvent.InvokeTransfer(1, "bank/", new Transfer(0, 1, 4), 3, "n2");
        var read = HistoryEvent.InvokeRead(2, "bank/", 5, "n3");
        return
        [
            init, init.CompleteBank(HistoryEventType.Ok, 2, revision: 1),
            transfer, transfer.CompleteBank(HistoryEventType.Ok, 4, revision: 2),
            read, read.CompleteBank(HistoryEventType.Ok, 6, readRevision, BankOps.Balances(readBalances)),
        ];
    }

    [Fact]
    public void A_valid_bank_history_exits_0()
    {
        var (exitCode, output, _) = RunOn(Bank(2, 6, 14));

        Assert.Equal(CheckCommand.ExitValid, exitCode);
        Assert.Contains("Checked the bank: 2 accounts, total 20, 1 ok reads, transfers 1 ok, 0 failed, 0 unknown; with revisions", output, StringComparison.Ordinal);
        Assert.Contains("Verdict: valid", output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bank_violation_exits_1_and_says_what_was_broken()
    {
        var (exitCode, output, _) = RunOn(Bank(1, 10, 10));

        Assert.Equal(CheckCommand.ExitViolation, exitCode);
        Assert.Contains("Violation (stale-read): the read (process 2 on n3, invoked 5, completed 6) was served at revision 1", output, StringComparison.Ordinal);
        Assert.Contains("Verdict: INVALID (1 violations)", output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bank_read_out_of_time_exits_2()
    {
        var init = HistoryEvent.InvokeInit(0, "bank/", BankOps.Balances(10, 10), 1, "n1");
        var transfer = HistoryEvent.InvokeTransfer(1, "bank/", new Transfer(0, 1, 4), 3, "n2");
        var read = HistoryEvent.InvokeRead(2, "bank/", 5, "n3");

        // The transfer never completes, so only a search can say whether the read may reflect it.
        using (var writer = HistoryWriter.Create(path))
        {
            foreach (var historyEvent in new[] { init, init.CompleteBank(HistoryEventType.Ok, 2, revision: 1), transfer, read, read.CompleteBank(HistoryEventType.Ok, 6, 2, BankOps.Balances(6, 14)) })
            {
                writer.Append(historyEvent);
            }
        }

        var (exitCode, output, _) = Run(path, "--time-limit-seconds", "0.000000001");

        Assert.Equal(CheckCommand.ExitUnknown, exitCode);
        Assert.Contains("Verdict: unknown (the search ran out of time with 1 reads undecided)", output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bank_history_without_its_init_or_mixed_with_registers_exits_3()
    {
        var withoutInit = Bank(2, 6, 14)[2..];
        var write = HistoryEvent.InvokeWrite(9, "k", "a", 7, "n1");

        var (missing, _, missingError) = RunOn(withoutInit);
        var (mixed, _, mixedError) = RunOn([.. Bank(2, 6, 14), write, write.Complete(HistoryEventType.Ok, 8)]);

        Assert.Equal((CheckCommand.ExitBadInput, CheckCommand.ExitBadInput), (missing, mixed));
        Assert.Contains("not a usable bank history: A bank history needs exactly one ok init", missingError, StringComparison.Ordinal);
        Assert.Contains("no register operations", mixedError, StringComparison.Ordinal);
    }

    [Fact]
    public void A_key_out_of_time_exits_2()
    {
        // A zero time limit (1 ns rounds down to no ticks) is exceeded before the search takes its first step.
        using (var writer = HistoryWriter.Create(path))
        {
            foreach (var historyEvent in RandomRegisterHistory.Generate(seed: 1, processes: 3, operations: 200, keys: 1))
            {
                writer.Append(historyEvent);
            }
        }

        var (exitCode, output, _) = Run(path, "--time-limit-seconds", "0.000000001");

        Assert.Equal(CheckCommand.ExitUnknown, exitCode);
        Assert.Contains("Verdict: unknown", output, StringComparison.Ordinal);
    }

    /// <summary>A put at revision 2 and a watcher from revision 2 that received <paramref name="received"/> there; both written to and read back from the file.</summary>
    private static HistoryEvent[] WatchHistory(string received)
    {
        var write = HistoryEvent.InvokeWrite(1, "watch/0", "a", 1, "n1");
        var watch = HistoryEvent.InvokeWatch(2, "watch/", 2, 1, "n2");
        return
        [
            watch, write, write.Complete(HistoryEventType.Ok, 2) with { Revision = 2 },
            watch.Complete(HistoryEventType.Ok, 3) with { Changes = [new WatchChange(2, [new WatchedEvent("put", "watch/0", received)])], Revision = 2 },
        ];
    }

    [Fact]
    public void A_valid_watch_history_exits_0()
    {
        var (exitCode, output, _) = RunOn(WatchHistory("a"));

        Assert.Equal(CheckCommand.ExitValid, exitCode);
        Assert.Contains("Checked the watches: 1 watchers, 1 revisions received, writes 1 ok", output, StringComparison.Ordinal);
        Assert.Contains("Verdict: valid", output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_watch_violation_exits_1_and_says_what_was_broken()
    {
        var (exitCode, output, _) = RunOn(WatchHistory("never"));

        Assert.Equal(CheckCommand.ExitViolation, exitCode);
        Assert.Contains("Violation (never-written)", output, StringComparison.Ordinal);
        Assert.Contains("Violation (lost-write)", output, StringComparison.Ordinal);
    }

    /// <summary>A lease of 2 s with one key, and a read of it at <paramref name="readAt"/> s that found it gone.</summary>
    private static HistoryEvent[] LeaseHistory(long readAt)
    {
        const long Second = 1_000_000_000;
        var grant = HistoryEvent.InvokeGrant(1, "lease/", 1, 0, "n1");
        var put = HistoryEvent.InvokeWrite(1, "lease/7/0", "x", 2, "n1") with { Lease = 7 };
        var read = HistoryEvent.InvokeRead(2, "lease/7/", readAt * Second, "n2");
        return
        [
            grant, grant.Complete(HistoryEventType.Ok, 1) with { Lease = 7, Ttl = 2 },
            put, put.Complete(HistoryEventType.Ok, 3) with { Revision = 2 },
            read, read.Complete(HistoryEventType.Ok, (readAt * Second) + 1) with { Keys = [], Revision = 3 },
        ];
    }

    [Fact]
    public void A_valid_lease_history_exits_0()
    {
        var (exitCode, output, _) = RunOn(LeaseHistory(3));

        Assert.Equal(CheckCommand.ExitValid, exitCode);
        Assert.Contains("Checked the leases: 1 granted, 0 revoked, 1 seen ending", output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_lease_violation_exits_1_and_says_what_was_broken()
    {
        var (exitCode, output, _) = RunOn(LeaseHistory(1));

        Assert.Equal(CheckCommand.ExitViolation, exitCode);
        Assert.Contains("Violation (expired-early)", output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_lease_history_with_a_key_written_twice_exits_3()
    {
        var again = HistoryEvent.InvokeWrite(3, "lease/7/0", "y", 10, "n1") with { Lease = 7 };

        var (exitCode, _, error) = RunOn([.. LeaseHistory(3), again, again.Complete(HistoryEventType.Fail, 11)]);

        Assert.Equal(CheckCommand.ExitBadInput, exitCode);
        Assert.Contains("not a usable lease history", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"process": 1, "type": "invoke", "f": "grant", "key": "lease/", "value": null, "time": 1, "node": "n1"}""", "positive \"ttl\"")]
    [InlineData("""{"process": 1, "type": "invoke", "f": "keepalive", "key": "lease/", "value": null, "ttl": 2, "time": 1, "node": "n1"}""", "names its \"lease\"")]
    [InlineData("""{"process": 1, "type": "invoke", "f": "watch", "key": "watch/", "value": null, "time": 1, "node": "n1"}""", "\"fromRevision\" of at least 1")]
    [InlineData("""{"process": 1, "type": "invoke", "f": "read", "key": "k", "value": null, "lease": 3, "time": 1, "node": "n1"}""", "only lease lines and writes")]
    public void A_malformed_watch_or_lease_line_exits_3(string line, string problem)
    {
        File.WriteAllLines(path, [line]);

        var (exitCode, _, error) = Run(path);

        Assert.Equal(CheckCommand.ExitBadInput, exitCode);
        Assert.Contains(problem, error, StringComparison.Ordinal);
    }
}
