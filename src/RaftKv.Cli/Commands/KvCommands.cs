using System.CommandLine;
using System.Text;
using RaftKv.Client;

namespace RaftKv.Cli.Commands;

/// <summary><c>get</c>, <c>put</c>, <c>del</c>, <c>ls</c>, <c>txn</c> and <c>compact</c>.</summary>
internal static class KvCommands
{
    public static IEnumerable<Command> Build(CliRuntime runtime)
    {
        yield return Get(runtime);
        yield return Put(runtime);
        yield return Delete(runtime);
        yield return List(runtime);
        yield return Txn(runtime);
        yield return Compact(runtime);
    }

    /// <summary>The idempotency key a write is sent with: the one given, or a new one, so that an unknown outcome can be retried safely.</summary>
    public static Option<string?> IdempotencyKey() => new("--idempotency-key")
    {
        Description = "The write's identity: a retry with the same key applies at most once (default: a new key, printed if the outcome is unknown).",
    };

    public static string KeyFor(ParseResult parsed, Option<string?> option) => parsed.GetValue(option) ?? "raftkv-cli-" + Guid.NewGuid().ToString("N");

    public static Option<string> Consistency() => new Option<string>("--consistency")
    {
        Description = "linearizable (default), lease (the leader's lease instead of a majority round) or local (this node's state, possibly stale).",
        DefaultValueFactory = _ => "linearizable",
    }.AcceptOnlyFromAmong("linearizable", "lease", "local");

    public static Consistency ConsistencyOf(string value) => value switch
    {
        "lease" => Client.Consistency.Lease,
        "local" => Client.Consistency.Local,
        _ => Client.Consistency.Linearizable,
    };

    private static Command Get(CliRuntime runtime)
    {
        var key = new Argument<string>("key") { Description = "The key." };
        var consistency = Consistency();
        var revision = new Option<long?>("--revision") { Description = "Read the key as it was at this past revision." };
        return runtime.Command("get", "Prints a key's value (exit 1 if it does not exist).", async (parsed, connection, printer, token) =>
        {
            var result = await connection.Client.GetAsync(parsed.GetValue(key)!, ConsistencyOf(parsed.GetValue(consistency)!), revision: parsed.GetValue(revision), token: token);
            switch (result.Outcome)
            {
                case ReadOutcome.Found:
                    var item = new KeyValueItem(parsed.GetValue(key)!, result.Value, result.CreateRevision, result.ModRevision, result.Version, result.Lease);
                    if (printer.Json)
                    {
                        printer.Result(new { kv = Printer.Item(item), revision = result.Revision }, "");
                    }
                    else
                    {
                        await connection.Console.Out.WriteLineAsync(Printer.Show(result.Value));
                    }

                    return ExitCodes.Success;
                case ReadOutcome.NotFound:
                    return printer.Failure(ExitCodes.Unmet, "not found", result.StatusCode, $"no key '{parsed.GetValue(key)}'");
                default:
                    return printer.Failure(ExitCodes.NotApplied, "read failed", result.StatusCode, result.Detail);
            }
        }, key, consistency, revision);
    }

    private static Command Put(CliRuntime runtime)
    {
        var key = new Argument<string>("key") { Description = "The key." };
        var value = new Argument<string?>("value") { Description = "The value (default: standard input, read to its end, as bytes).", Arity = ArgumentArity.ZeroOrOne };
        var lease = new Option<long?>("--lease") { Description = "Attach the key to this lease." };
        var ifModRevision = new Option<long?>("--if-mod-revision") { Description = "Only if the key's modRevision is this (0: only if absent)." };
        var ifAbsent = new Option<bool>("--if-absent") { Description = "Only if the key does not exist." };
        var ifValue = new Option<string?>("--if-value") { Description = "Only if the key's value is exactly this." };
        var idempotencyKey = IdempotencyKey();
        return runtime.Command("put", "Writes a key (exit 1 if a condition did not hold).", async (parsed, connection, printer, token) =>
        {
            if (new[] { parsed.GetValue(ifModRevision) is not null, parsed.GetValue(ifAbsent), parsed.GetValue(ifValue) is not null }.Count(set => set) > 1)
            {
                throw new UsageException("Give at most one of --if-mod-revision, --if-absent and --if-value.");
            }

            var bytes = parsed.GetValue(value) is { } text ? Encoding.UTF8.GetBytes(text) : await runtime.ReadInputAsync("-", token);
            var requestKey = KeyFor(parsed, idempotencyKey);
            var options = new WriteOptions
            {
                Lease = parsed.GetValue(lease),
                IfModRevision = parsed.GetValue(ifModRevision) is { } revision and > 0 ? revision : null,
                IfAbsent = parsed.GetValue(ifAbsent) || parsed.GetValue(ifModRevision) == 0,
                IfValue = parsed.GetValue(ifValue),
                IdempotencyKey = requestKey,
            };
            var result = await connection.Client.PutAsync(parsed.GetValue(key)!, bytes, options, token: token);
            if (result.Outcome != WriteOutcome.Applied)
            {
                return printer.WriteFailure(result.Outcome, result.StatusCode, result.Detail, requestKey);
            }

            printer.Result(new { revision = result.Revision }, $"OK, revision {result.Revision}");
            return ExitCodes.Success;
        }, key, value, lease, ifModRevision, ifAbsent, ifValue, idempotencyKey);
    }

    private static Command Delete(CliRuntime runtime)
    {
        var key = new Argument<string>("key") { Description = "The key, or with --prefix the prefix." };
        var prefix = new Option<bool>("--prefix") { Description = "Delete every key that starts with KEY." };
        var ifModRevision = new Option<long?>("--if-mod-revision") { Description = "Only if the key's modRevision is this (one key only)." };
        var idempotencyKey = IdempotencyKey();
        return runtime.Command("del", "Deletes a key, or every key with a prefix; prints how many were deleted.", async (parsed, connection, printer, token) =>
        {
            var requestKey = KeyFor(parsed, idempotencyKey);
            if (parsed.GetValue(prefix))
            {
                if (parsed.GetValue(ifModRevision) is not null)
                {
                    throw new UsageException("--if-mod-revision applies to one key, not to --prefix.");
                }

                var range = await connection.Client.DeleteRangeAsync(KeyRange.WithPrefix(parsed.GetValue(key)!), idempotencyKey: requestKey, token: token);
                return range.Outcome != WriteOutcome.Applied
                    ? printer.WriteFailure(range.Outcome, range.StatusCode, range.Detail, requestKey)
                    : Deleted(printer, range.Deleted, range.Revision);
            }

            var options = new WriteOptions { IfModRevision = parsed.GetValue(ifModRevision), IdempotencyKey = requestKey };
            var result = await connection.Client.DeleteAsync(parsed.GetValue(key)!, options, token: token);
            return result.Outcome != WriteOutcome.Applied
                ? printer.WriteFailure(result.Outcome, result.StatusCode, result.Detail, requestKey)
                : Deleted(printer, result.Deleted ? 1 : 0, result.Revision);
        }, key, prefix, ifModRevision, idempotencyKey);
    }

    private static int Deleted(Printer printer, long deleted, long revision)
    {
        printer.Result(new { deleted, revision }, $"{deleted} deleted, revision {revision}");
        return ExitCodes.Success;
    }

    private static Command List(CliRuntime runtime)
    {
        var prefix = new Argument<string>("prefix") { Description = "The prefix (default: every key).", DefaultValueFactory = _ => "" };
        var pageSize = new Option<int>("--page-size") { Description = "Keys per request (default 1000); the listing is still one revision.", DefaultValueFactory = _ => 1000 };
        var keysOnly = new Option<bool>("--keys-only") { Description = "Print the keys, not their values." };
        var revision = new Option<long?>("--revision") { Description = "List the keys as they were at this past revision." };
        var consistency = Consistency();
        return runtime.Command("ls", "Lists the keys with a prefix, page by page, as of one revision: KEY<TAB>VALUE per line (JSON: one object per line).", async (parsed, connection, printer, token) =>
        {
            if (parsed.GetValue(pageSize) is < 1 or > 10_000)
            {
                throw new UsageException("--page-size must be between 1 and 10000.");
            }

            var range = parsed.GetValue(prefix) is { Length: > 0 } p ? KeyRange.WithPrefix(p) : KeyRange.All;
            var options = new RangeOptions
            {
                Limit = parsed.GetValue(pageSize),
                KeysOnly = parsed.GetValue(keysOnly),
                Revision = parsed.GetValue(revision),
                Consistency = ConsistencyOf(parsed.GetValue(consistency)!),
            };
            await foreach (var item in connection.Client.RangeAsync(range, options, token: token))
            {
                printer.Result(Printer.Item(item), parsed.GetValue(keysOnly) ? item.Key : $"{item.Key}\t{Printer.Show(item.Value)}");
            }

            return ExitCodes.Success;
        }, prefix, pageSize, keysOnly, revision, consistency);
    }

    private static Command Txn(CliRuntime runtime)
    {
        var file = new Argument<string>("file")
        {
            Description = "The transaction as POST /v1/txn's JSON body (see the README), from a file, or - (default) for standard input.",
            DefaultValueFactory = _ => "-",
        };
        var idempotencyKey = IdempotencyKey();
        return runtime.Command("txn", "Runs a transaction: if every compare holds, the success operations, else the failure ones (exit 1 if the compares failed).", async (parsed, connection, printer, token) =>
        {
            var json = await runtime.ReadInputAsync(parsed.GetValue(file), token);
            var requestKey = KeyFor(parsed, idempotencyKey);
            var result = await connection.Client.TxnAsync(json, requestKey, token: token);
            if (result.Outcome != WriteOutcome.Applied)
            {
                return printer.WriteFailure(result.Outcome, result.StatusCode, result.Detail, requestKey);
            }

            printer.Result(
                new { succeeded = result.Succeeded, revision = result.Revision, results = result.Results.Select(Describe), replayed = result.Replayed ? true : (bool?)null },
                $"{(result.Succeeded ? "SUCCESS" : "FAILURE")}, revision {result.Revision}{string.Concat(result.Results.Select(r => "\n" + Show(r)))}");
            return result.Succeeded ? ExitCodes.Success : ExitCodes.Unmet;
        }, file, idempotencyKey);
    }

    private static object? Describe(TxnOpResult? result) => result switch
    {
        TxnPutResult put => new { put = new { revision = put.Revision } },
        TxnDeleteResult delete => new { delete = new { revision = delete.Revision, deleted = delete.Deleted } },
        TxnDeleteRangeResult range => new { deleteRange = new { revision = range.Revision, deleted = range.Deleted } },
        TxnGetResult get => new { get = new { revision = get.Revision, kv = get.Item is null ? null : Printer.Item(get.Item) } },
        TxnRangeResult range => new { range = new { revision = range.Page.Revision, count = range.Page.Count, more = range.Page.More, kvs = range.Page.Items.Select(Printer.Item) } },
        _ => null,
    };

    private static string Show(TxnOpResult? result) => result switch
    {
        TxnPutResult => "put: OK",
        TxnDeleteResult delete => $"delete: {delete.Deleted} deleted",
        TxnDeleteRangeResult range => $"deleteRange: {range.Deleted} deleted",
        TxnGetResult { Item: { } item } => $"get: {item.Key}\t{Printer.Show(item.Value)}",
        TxnGetResult => "get: not found",
        TxnRangeResult range => $"range: {range.Page.Count} keys" + string.Concat(range.Page.Items.Select(i => $"\n  {i.Key}\t{Printer.Show(i.Value)}")),
        _ => "(a read, not kept for a replayed answer)",
    };

    private static Command Compact(CliRuntime runtime)
    {
        var revision = new Argument<long>("revision") { Description = "Forget every version older than the ones current at this revision." };
        return runtime.Command("compact", "Compacts the history up to a revision.", async (parsed, connection, printer, token) =>
        {
            var result = await connection.Client.CompactAsync(parsed.GetValue(revision), token: token);
            if (result.Outcome != WriteOutcome.Applied)
            {
                return printer.WriteFailure(result.Outcome, result.StatusCode, result.Detail, idempotencyKey: null);
            }

            printer.Result(new { compactRevision = result.CompactRevision }, $"compacted up to revision {result.CompactRevision}");
            return ExitCodes.Success;
        }, revision);
    }
}
