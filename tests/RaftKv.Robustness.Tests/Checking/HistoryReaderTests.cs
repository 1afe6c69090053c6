using RaftKv.Robustness.History;

namespace RaftKv.Robustness.Tests.Checking;

public sealed class HistoryReaderTests
{
    private const string WriteInvoke = """{"process": 1, "type": "invoke", "f": "write", "key": "k", "value": "a", "time": 1, "node": "n1"}""";
    private const string WriteOk = """{"process": 1, "type": "ok", "f": "write", "key": "k", "value": "a", "time": 2, "node": "n1"}""";

    private static IReadOnlyList<HistoryEvent> Read(params string[] lines) =>
        HistoryReader.Read(new StringReader(string.Join('\n', lines)));

    private static MalformedHistoryException Rejected(params string[] lines) =>
        Assert.Throws<MalformedHistoryException>(() => Read(lines));

    [Fact]
    public void Every_shape_of_the_format_is_read()
    {
        var events = Read(
            """{"process": 1, "type": "invoke", "f": "cas", "key": "k", "value": ["a", "b"], "time": 1, "node": "n1"}""",
            """{"process": 2, "type": "invoke", "f": "read", "key": "k", "value": null, "time": 2, "node": "n2"}""",
            "",
            """{"process": 2, "type": "ok", "f": "read", "key": "k", "value": null, "time": 3, "node": "n2"}""",
            """{"process": 1, "type": "info", "f": "cas", "key": "k", "value": ["a", "b"], "time": 4, "node": "n1"}""");

        Assert.Equal(
            [
                new HistoryEvent(1, HistoryEventType.Invoke, OperationFunction.Cas, "k", "b", "a", 1, "n1"),
                new HistoryEvent(2, HistoryEventType.Invoke, OperationFunction.Read, "k", null, null, 2, "n2"),
                new HistoryEvent(2, HistoryEventType.Ok, OperationFunction.Read, "k", null, null, 3, "n2"),
                new HistoryEvent(1, HistoryEventType.Info, OperationFunction.Cas, "k", "b", "a", 4, "n1"),
            ],
            events);
    }

    [Fact]
    public void A_line_that_is_not_json_is_rejected_with_its_line_number()
    {
        var e = Rejected(WriteInvoke, WriteOk, "{\"process\": 1,");

        Assert.Equal(3, e.LineNumber);
        Assert.Contains("not valid JSON", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"process": 1, "type": "invoke", "f": "write", "key": "k\uD800", "value": "a", "time": 1, "node": "n1"}""")]
    [InlineData("""{"process": 1, "type": "invoke", "f": "cas", "key": "k", "value": ["\uDC00", "b"], "time": 1, "node": "n1"}""")]
    [InlineData("""{"process": 1, "type": "invoke", "f": "init", "key": "bank", "value": {"0": 1, "\uD800": 2}, "time": 1, "node": "n1"}""")]
    [InlineData("""{"process": 1, "type": "invoke", "f": "write", "key": "k", "value": "a", "time": 1, "node": "n1", "\uD800": 0}""")]
    public void A_string_or_name_with_an_unpaired_surrogate_escape_is_rejected(string line)
    {
        // Found by the fuzz corpus replay (tests/RaftKv.Fuzz): System.Text.Json threw InvalidOperationException.
        var e = Rejected(line);

        Assert.Equal(1, e.LineNumber);
        Assert.Contains("unpaired surrogate", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_completion_without_an_invoke_is_rejected()
    {
        var e = Rejected(WriteOk);

        Assert.Equal(1, e.LineNumber);
        Assert.Contains("no outstanding invoke", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_second_invoke_while_one_is_outstanding_is_rejected()
    {
        var e = Rejected(WriteInvoke, WriteInvoke);

        Assert.Equal(2, e.LineNumber);
        Assert.Contains("has not completed", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"f\": \"read\", \"key\": \"k\", \"value\": null")]
    [InlineData("\"f\": \"write\", \"key\": \"other\", \"value\": \"a\"")]
    [InlineData("\"f\": \"write\", \"key\": \"k\", \"value\": \"b\"")]
    public void A_completion_that_does_not_match_its_invoke_is_rejected(string fields)
    {
        var e = Rejected(WriteInvoke, $$"""{"process": 1, "type": "ok", {{fields}}, "time": 2, "node": "n1"}""");

        Assert.Equal(2, e.LineNumber);
    }

    [Theory]
    [InlineData("\"a\"")]
    [InlineData("null")]
    [InlineData("[\"a\"]")]
    [InlineData("[\"a\", \"b\", \"c\"]")]
    [InlineData("[\"a\", 1]")]
    [InlineData("[null, \"b\"]")]
    public void A_cas_value_that_is_not_two_strings_is_rejected(string value)
    {
        var e = Rejected($$"""{"process": 1, "type": "invoke", "f": "cas", "key": "k", "value": {{value}}, "time": 1, "node": "n1"}""");

        Assert.Equal(1, e.LineNumber);
        Assert.Contains("array of two strings", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"process": 1, "type": "begin", "f": "write", "key": "k", "value": "a", "time": 1, "node": "n1"}""", "unknown type")]
    [InlineData("""{"process": 1, "type": "invoke", "f": "delete", "key": "k", "value": "a", "time": 1, "node": "n1"}""", "unknown f")]
    [InlineData("""{"process": 1, "type": "invoke", "f": "write", "key": "k", "value": null, "time": 1, "node": "n1"}""", "write must be a string")]
    [InlineData("""{"process": 1, "type": "invoke", "f": "read", "key": "k", "value": "a", "time": 1, "node": "n1"}""", "read invoke must be null")]
    [InlineData("""{"process": 1, "type": "invoke", "f": "write", "key": "k", "value": "a", "time": 1.5, "node": "n1"}""", "\"time\"")]
    [InlineData("""{"process": 1, "type": "invoke", "f": "write", "key": "k", "value": "a", "time": 1}""", "missing \"node\"")]
    [InlineData("""{"process": 1, "process": 2, "type": "invoke", "f": "write", "key": "k", "value": "a", "time": 1, "node": "n1"}""", "not valid JSON")]
    [InlineData("""["process", 1]""", "JSON object")]
    public void Lines_outside_the_format_are_rejected(string line, string problem)
    {
        var e = Rejected(line);

        Assert.Equal(1, e.LineNumber);
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bank_lines_are_read_with_their_transfers_balances_and_revisions()
    {
        var events = Read(
            """{"process": 0, "type": "invoke", "f": "init", "key": "bank/", "value": {"0": 10, "1": 10}, "time": 1, "node": "n1"}""",
            """{"process": 0, "type": "ok", "f": "init", "key": "bank/", "value": {"1": 10, "0": 10}, "revision": 2, "time": 2, "node": "n1"}""",
            """{"process": 1, "type": "invoke", "f": "transfer", "key": "bank/", "value": {"from": 0, "to": 1, "amount": 4}, "time": 3, "node": "n2"}""",
            """{"process": 1, "type": "fail", "f": "transfer", "key": "bank/", "value": {"amount": 4, "to": 1, "from": 0}, "time": 4, "node": "n2"}""",
            """{"process": 2, "type": "invoke", "f": "read", "key": "bank/", "value": null, "time": 5, "node": "n3"}""",
            """{"process": 2, "type": "ok", "f": "read", "key": "bank/", "value": {"0": 10, "1": 10}, "revision": 2, "time": 6, "node": "n3"}""");

        var operations = Operation.Pair(events);
        Assert.Equal([BankOps.Balances(10, 10), null, BankOps.Balances(10, 10)], operations.Select(o => o.Balances));
        Assert.Equal([2, null, 2], operations.Select(o => o.Revision));
        Assert.Equal(new Transfer(0, 1, 4), operations[1].Transfer);
        Assert.Equal(OperationOutcome.Fail, operations[1].Type);
    }

    [Theory]
    [InlineData("""{"process": 1, "type": "invoke", "f": "transfer", "key": "b", "value": {"from": 0, "to": 1}, "time": 1, "node": "n1"}""", "value of a transfer")]
    [InlineData("""{"process": 1, "type": "invoke", "f": "transfer", "key": "b", "value": {"from": "0", "to": 1, "amount": 1}, "time": 1, "node": "n1"}""", "value of a transfer")]
    [InlineData("""{"process": 1, "type": "invoke", "f": "transfer", "key": "b", "value": {"from": 0, "to": 1, "amount": 1, "x": 1}, "time": 1, "node": "n1"}""", "value of a transfer")]
    [InlineData("""{"process": 1, "type": "invoke", "f": "transfer", "key": "b", "value": {"from": 0, "to": 1, "amount": 9000000000000}, "time": 1, "node": "n1"}""", "within")]
    [InlineData("""{"process": 1, "type": "invoke", "f": "init", "key": "b", "value": {"01": 5}, "time": 1, "node": "n1"}""", "object of balances")]
    [InlineData("""{"process": 1, "type": "invoke", "f": "init", "key": "b", "value": {"0": "5"}, "time": 1, "node": "n1"}""", "object of balances")]
    [InlineData("""{"process": 1, "type": "invoke", "f": "init", "key": "b", "value": null, "time": 1, "node": "n1"}""", "object of balances")]
    [InlineData("""{"process": 1, "type": "invoke", "f": "read", "key": "b", "value": {"0": 5}, "time": 1, "node": "n1"}""", "read invoke must be null")]
    [InlineData("""{"process": 1, "type": "invoke", "f": "write", "key": "b", "value": "a", "revision": 3, "time": 1, "node": "n1"}""", "revision")]
    [InlineData("""{"process": 1, "type": "invoke", "f": "write", "key": "b", "value": "a", "revision": "3", "time": 1, "node": "n1"}""", "revision")]
    public void Bank_lines_outside_the_format_are_rejected(string line, string problem)
    {
        var e = Rejected(line);

        Assert.Equal(1, e.LineNumber);
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_transfer_completion_must_carry_the_transfer_invoked()
    {
        var e = Rejected(
            """{"process": 1, "type": "invoke", "f": "transfer", "key": "b", "value": {"from": 0, "to": 1, "amount": 1}, "time": 1, "node": "n1"}""",
            """{"process": 1, "type": "ok", "f": "transfer", "key": "b", "value": {"from": 0, "to": 1, "amount": 2}, "time": 2, "node": "n1"}""");

        Assert.Equal(2, e.LineNumber);
        Assert.Contains("differs from the value invoked", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_completion_earlier_than_its_invoke_is_rejected()
    {
        var e = Rejected(WriteInvoke.Replace("\"time\": 1", "\"time\": 5", StringComparison.Ordinal), WriteOk);

        Assert.Equal(2, e.LineNumber);
        Assert.Contains("earlier than its invoke", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Pairing_matches_completions_and_treats_an_unfinished_invoke_as_info()
    {
        var write = HistoryEvent.InvokeWrite(1, "k", "a", 10, "n1");
        var cas = HistoryEvent.InvokeCas(2, "k", "a", "b", 11, "n2");
        var read = HistoryEvent.InvokeRead(3, "k", 12, "n3");
        var unfinished = HistoryEvent.InvokeWrite(1, "k", "c", 30, "n1");

        var operations = Operation.Pair(
        [
            write, cas, read,
            cas.Complete(HistoryEventType.Fail, 20),
            read.Complete(HistoryEventType.Ok, 21, "a"),
            write.Complete(HistoryEventType.Info, 22),
            unfinished,
        ]);

        Assert.Equal(
            [
                new Operation(1, OperationFunction.Write, "k", "a", null, null, OperationOutcome.Info, 10, long.MaxValue, "n1"),
                new Operation(2, OperationFunction.Cas, "k", "b", "a", null, OperationOutcome.Fail, 11, 20, "n2"),
                new Operation(3, OperationFunction.Read, "k", null, null, "a", OperationOutcome.Ok, 12, 21, "n3"),
                new Operation(1, OperationFunction.Write, "k", "c", null, null, OperationOutcome.Info, 30, long.MaxValue, "n1"),
            ],
            operations);
    }
}
