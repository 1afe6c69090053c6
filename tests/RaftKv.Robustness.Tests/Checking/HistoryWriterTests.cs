using RaftKv.Robustness.History;

namespace RaftKv.Robustness.Tests.Checking;

public sealed class HistoryWriterTests
{
    [Fact]
    public void Written_events_read_back_unchanged()
    {
        var write = HistoryEvent.InvokeWrite(1, "ключ \"quoted\"", "värde\n🔑", 100, "node-1");
        var cas = HistoryEvent.InvokeCas(2, "k", "", "new", 101, "node-2");
        var read = HistoryEvent.InvokeRead(3, "k", long.MinValue, "node-3");
        HistoryEvent[] events =
        [
            write, cas, read,
            read.Complete(HistoryEventType.Ok, 102, "value"),
            cas.Complete(HistoryEventType.Fail, 103),
            write.Complete(HistoryEventType.Info, long.MaxValue),
        ];
        using var text = new StringWriter();
        using (var writer = new HistoryWriter(text))
        {
            foreach (var historyEvent in events)
            {
                writer.Append(historyEvent);
            }
        }

        Assert.Equal(events.Length, text.ToString().Count(c => c == '\n'));
        Assert.Equal(events, HistoryReader.Read(new StringReader(text.ToString())));
    }

    [Fact]
    public void Bank_events_read_back_unchanged()
    {
        var balances = BankOps.Balances(10, 0, 7);
        var init = HistoryEvent.InvokeInit(0, "bank/", balances, 1, "n1");
        var transfer = HistoryEvent.InvokeTransfer(1, "bank/", new Transfer(0, 2, 3), 3, "n2");
        var lost = HistoryEvent.InvokeTransfer(2, "bank/", new Transfer(2, 1, 1), 4, "n3");
        var read = HistoryEvent.InvokeRead(3, "bank/", 5, "n4");
        HistoryEvent[] events =
        [
            init, init.CompleteBank(HistoryEventType.Ok, 2, revision: 4),
            transfer, lost, read,
            transfer.CompleteBank(HistoryEventType.Ok, 6, revision: 5),
            read.CompleteBank(HistoryEventType.Ok, 7, revision: 5, BankOps.Balances(7, 0, 10)),
            lost.CompleteBank(HistoryEventType.Info, 8),
        ];
        using var text = new StringWriter();
        using (var writer = new HistoryWriter(text))
        {
            foreach (var historyEvent in events)
            {
                writer.Append(historyEvent);
            }
        }

        Assert.Contains("""{"process":1,"type":"ok","f":"transfer","key":"bank/","value":{"from":0,"to":2,"amount":3},"revision":5,"time":6,"node":"n2"}""", text.ToString(), StringComparison.Ordinal);
        Assert.Contains("""{"process":3,"type":"ok","f":"read","key":"bank/","value":{"0":7,"1":0,"2":10},"revision":5,"time":7,"node":"n4"}""", text.ToString(), StringComparison.Ordinal);
        Assert.Equal(events, HistoryReader.Read(new StringReader(text.ToString())));
    }

    [Fact]
    public void Watch_and_lease_events_read_back_unchanged()
    {
        var watch = HistoryEvent.InvokeWatch(1, "watch/", 2, 1, "n1");
        var grant = HistoryEvent.InvokeGrant(2, "lease/", 1, 2, "n2");
        var keepAlive = HistoryEvent.InvokeKeepAlive(3, "lease/", 7, 3, "n3");
        var revoke = HistoryEvent.InvokeRevoke(4, "lease/", 7, 4, "n4");
        var read = HistoryEvent.InvokeRead(5, "lease/7/", 5, "n5");
        var put = HistoryEvent.InvokeWrite(6, "lease/7/0", "x", 6, "n1") with { Lease = 7 };
        HistoryEvent[] events =
        [
            watch, grant, grant.Complete(HistoryEventType.Ok, 7) with { Lease = 7, Ttl = 2 },
            put, put.Complete(HistoryEventType.Ok, 8) with { Revision = 3 },
            keepAlive, keepAlive.Complete(HistoryEventType.Ok, 9) with { Ttl = 2 },
            read, read.Complete(HistoryEventType.Ok, 10) with { Keys = ["lease/7/0"], Revision = 3 },
            revoke, revoke.Complete(HistoryEventType.Ok, 11) with { Revision = 4 },
            watch.Complete(HistoryEventType.Ok, 12) with
            {
                Changes = [new WatchChange(3, [new WatchedEvent("put", "lease/7/0", "x")]), new WatchChange(4, [new WatchedEvent("delete", "lease/7/0", null)])],
                Revision = 4,
            },
        ];
        var text = Write(events);

        Assert.Contains("""{"process":2,"type":"ok","f":"grant","key":"lease/","value":null,"lease":7,"ttl":2,"time":7,"node":"n2"}""", text, StringComparison.Ordinal);
        Assert.Contains("""{"process":5,"type":"ok","f":"read","key":"lease/7/","value":["lease/7/0"],"revision":3,"time":10,"node":"n5"}""", text, StringComparison.Ordinal);
        Assert.Contains("""{"process":1,"type":"ok","f":"watch","key":"watch/","value":[{"revision":3,"events":[{"type":"put","key":"lease/7/0","value":"x"}]},{"revision":4,"events":[{"type":"delete","key":"lease/7/0","value":null}]}],"revision":4,"fromRevision":2,"time":12,"node":"n1"}""", text, StringComparison.Ordinal);

        // Keys and changes are lists, which records compare by reference: compare what they write instead.
        Assert.Equal(text, Write([.. HistoryReader.Read(new StringReader(text))]));
    }

    [Fact]
    public void A_grant_learns_its_lease_but_a_revoke_cannot_change_the_one_it_names()
    {
        var revoke = HistoryEvent.InvokeRevoke(1, "lease/", 7, 1, "n1");
        using var writer = new HistoryWriter(TextWriter.Null);
        writer.Append(revoke);

        Assert.Throws<ArgumentException>(() => writer.Append(revoke.Complete(HistoryEventType.Ok, 2) with { Lease = 8, Revision = 3 }));
    }

    private static string Write(IEnumerable<HistoryEvent> events)
    {
        using var text = new StringWriter();
        using (var writer = new HistoryWriter(text))
        {
            foreach (var historyEvent in events)
            {
                writer.Append(historyEvent);
            }
        }

        return text.ToString();
    }

    [Fact]
    public void Only_an_ok_bank_completion_carries_a_revision_and_only_a_read_returns_balances()
    {
        var transfer = HistoryEvent.InvokeTransfer(1, "bank/", new Transfer(0, 1, 1), 1, "n1");

        Assert.Throws<ArgumentException>(() => transfer.CompleteBank(HistoryEventType.Fail, 2, revision: 3));
        Assert.Throws<ArgumentException>(() => transfer.CompleteBank(HistoryEventType.Ok, 2, 3, BankOps.Balances(1)));
        Assert.Throws<ArgumentException>(() => new Balances([new(0, 1), new(0, 2)]));
        Assert.Throws<ArgumentException>(() => new Balances([new(0, long.MinValue)]));
    }

    [Fact]
    public void Concurrent_appends_produce_whole_lines()
    {
        const int Processes = 8;
        const int OperationsEach = 200;
        using var text = new StringWriter();
        using (var writer = new HistoryWriter(text))
        {
            Parallel.For(0, Processes, process =>
            {
                for (var i = 0; i < OperationsEach; i++)
                {
                    var invoke = HistoryEvent.InvokeWrite(process, $"k{i % 3}", $"p{process}-{i}", HistoryClock.Now(), "n1");
                    writer.Append(invoke);
                    writer.Append(invoke.Complete(HistoryEventType.Ok, HistoryClock.Now()));
                }
            });
        }

        var operations = Operation.Pair(HistoryReader.Read(new StringReader(text.ToString())));
        Assert.Equal(Processes * OperationsEach, operations.Count);
        Assert.All(operations, o => Assert.Equal(OperationOutcome.Ok, o.Type));
    }

    [Fact]
    public void Events_that_break_the_rules_are_rejected_and_not_written()
    {
        var invoke = HistoryEvent.InvokeWrite(1, "k", "a", 1, "n1");
        using var text = new StringWriter();
        using var writer = new HistoryWriter(text);
        writer.Append(invoke);

        Assert.Throws<ArgumentException>(() => writer.Append(invoke));
        Assert.Throws<ArgumentException>(() => writer.Append(HistoryEvent.InvokeRead(2, "k", 2, "n1").Complete(HistoryEventType.Ok, 3)));
        Assert.Throws<ArgumentException>(() => writer.Append(invoke.Complete(HistoryEventType.Ok, 4) with { Key = "other" }));
        Assert.Throws<ArgumentException>(() => writer.Append(invoke.Complete(HistoryEventType.Ok, 4) with { Value = null }));

        writer.Append(invoke.Complete(HistoryEventType.Ok, 5));
        Assert.Equal(2, text.ToString().Count(c => c == '\n'));
    }

    [Fact]
    public void Only_an_ok_read_completes_with_a_value()
    {
        Assert.Throws<ArgumentException>(() => HistoryEvent.InvokeRead(1, "k", 1, "n1").Complete(HistoryEventType.Info, 2, "a"));
        Assert.Throws<ArgumentException>(() => HistoryEvent.InvokeWrite(1, "k", "a", 1, "n1").Complete(HistoryEventType.Ok, 2, "a"));
    }
}
