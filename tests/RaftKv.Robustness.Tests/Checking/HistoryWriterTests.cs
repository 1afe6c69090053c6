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
