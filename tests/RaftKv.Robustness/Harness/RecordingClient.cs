using System.Globalization;
using System.Text;
using RaftKv.Client;
using RaftKv.Robustness.History;

namespace RaftKv.Robustness.Harness;

/// <summary>
/// Wraps the RaftKv client and writes every operation to the history: the invoke before the
/// request, and exactly one completion after it, mapped the Jepsen way (ok, fail = definitely not
/// applied, info = unknown). The register workload's operations over the HTTP API (<c>--api http</c>).
/// </summary>
/// <param name="retryUnknown">
/// Under <c>--retry-unknown</c>: gives every put, cas, init and transfer an <c>Idempotency-Key</c> of its own and resends
/// it under that key while its outcome is unknown (<see cref="UnknownWriteRetry"/>). Null: one attempt, no key.
/// </param>
public sealed class RecordingClient(RaftKvClient client, HistoryWriter history, IReadOnlyList<string> nodeIds, Consistency readConsistency, UnknownWriteRetry? retryUnknown = null) : IRegisterClient
{
    /// <summary>The answer to a request whose <c>Idempotency-Key</c> was already used for a different one.</summary>
    private const int KeyReusedStatus = 422;

    /// <summary>The server's largest page: a lease read must see every key under its prefix at once.</summary>
    private const int MaxPage = 10_000;

    public int NodeCount => nodeIds.Count;

    /// <summary>
    /// The options of the client a recorder wraps: one attempt per operation, on the node the workload
    /// chose, and no key the workload did not give, so that the history holds what each attempt did
    /// (the recorder's own <see cref="UnknownWriteRetry"/> retries, and records each try).
    /// </summary>
    public static RaftKvClientOptions ClientOptions(IReadOnlyList<Uri> nodes, TimeSpan requestTimeout) => new()
    {
        Endpoints = [.. nodes],
        RequestTimeout = requestTimeout,
        CallTimeout = requestTimeout,
        MaxRetries = 0,
        GenerateIdempotencyKeys = false,
        FreshConnectionPerWrite = true,
    };

    public async Task<HistoryEvent> ReadAsync(int process, string key, int node, Consistency? consistency = null)
    {
        var invoke = Record(HistoryEvent.InvokeRead(process, key, HistoryClock.Now(), nodeIds[node]));
        var result = await client.GetAsync(key, consistency ?? readConsistency, node);
        return Record(result.Outcome switch
        {
            ReadOutcome.Found => invoke.Complete(HistoryEventType.Ok, HistoryClock.Now(), Encoding.UTF8.GetString(result.Value!)),
            ReadOutcome.NotFound => invoke.Complete(HistoryEventType.Ok, HistoryClock.Now()),
            _ => invoke.Complete(HistoryEventType.Fail, HistoryClock.Now()),
        });
    }

    /// <summary>A put; an ok one is recorded with the revision it was applied at, and the lease it attaches the key to, if any.</summary>
    public async Task<HistoryEvent> WriteAsync(int process, string key, string value, int node, WriteOptions? options = null)
    {
        var invoke = Record(HistoryEvent.InvokeWrite(process, key, value, HistoryClock.Now(), nodeIds[node]) with { Lease = options?.Lease });
        var result = await PutAsync(key, Encoding.UTF8.GetBytes(value), options, node);
        var type = Map(result.Outcome);
        return Record(invoke.Complete(type, HistoryClock.Now()) with { Revision = type == HistoryEventType.Ok ? result.Revision : null });
    }

    Task<HistoryEvent> IRegisterClient.WriteAsync(int process, string key, string value, int node) => WriteAsync(process, key, value, node);

    /// <summary>
    /// Lease: one range read of every key under <paramref name="prefix"/>, recorded with the keys found and the revision
    /// it was served at. A range rather than a get, because a get of a missing key does not say its revision.
    /// </summary>
    public async Task<HistoryEvent> ReadKeysAsync(int process, string prefix, int node, Consistency? consistency = null)
    {
        var invoke = Record(HistoryEvent.InvokeRead(process, prefix, HistoryClock.Now(), nodeIds[node]));
        var result = await client.RangePageAsync(KeyRange.WithPrefix(prefix), new RangeOptions { KeysOnly = true, Limit = MaxPage, Consistency = consistency ?? readConsistency }, node);
        if (result.Page is not { } page)
        {
            return Record(invoke.Complete(HistoryEventType.Fail, HistoryClock.Now()));
        }

        if (page.More)
        {
            throw new InvalidOperationException($"The keys under {prefix} do not fit in one page; a read must see them all at once.");
        }

        return Record(invoke.Complete(HistoryEventType.Ok, HistoryClock.Now()) with { Keys = [.. page.Items.Select(item => item.Key)], Revision = page.Revision });
    }

    /// <summary>Lease: a grant; an ok one is recorded with the lease id and the TTL granted, which may exceed the one asked for.</summary>
    public async Task<HistoryEvent> GrantAsync(int process, string key, long ttl, int node)
    {
        var invoke = Record(HistoryEvent.InvokeGrant(process, key, ttl, HistoryClock.Now(), nodeIds[node]));
        var result = await client.GrantLeaseAsync(ttl, node: node);
        return Record(result.Outcome == LeaseOutcome.Ok
            ? invoke.Complete(HistoryEventType.Ok, HistoryClock.Now()) with { Lease = result.Id, Ttl = result.Ttl }
            : invoke.Complete(result.Outcome == LeaseOutcome.Unknown ? HistoryEventType.Info : HistoryEventType.Fail, HistoryClock.Now()));
    }

    /// <summary>
    /// Lease: a keep-alive. Not found is fail; any other failure is info, since the client cannot tell whether the
    /// leader restarted the TTL before the answer was lost.
    /// </summary>
    public async Task<HistoryEvent> KeepAliveAsync(int process, string key, long lease, int node)
    {
        var invoke = Record(HistoryEvent.InvokeKeepAlive(process, key, lease, HistoryClock.Now(), nodeIds[node]));
        var result = await client.KeepAliveAsync(lease, node);
        return Record(result.Outcome switch
        {
            LeaseOutcome.Ok => invoke.Complete(HistoryEventType.Ok, HistoryClock.Now()) with { Ttl = result.Ttl },
            LeaseOutcome.NotFound => invoke.Complete(HistoryEventType.Fail, HistoryClock.Now()),
            _ => invoke.Complete(HistoryEventType.Info, HistoryClock.Now()),
        });
    }

    /// <summary>Lease: a revoke; an ok one is recorded with the revision that deleted the lease's keys.</summary>
    public async Task<HistoryEvent> RevokeAsync(int process, string key, long lease, int node)
    {
        var invoke = Record(HistoryEvent.InvokeRevoke(process, key, lease, HistoryClock.Now(), nodeIds[node]));
        var result = await client.RevokeLeaseAsync(lease, node: node);
        var type = Map(result.Outcome);
        return Record(invoke.Complete(type, HistoryClock.Now()) with { Revision = type == HistoryEventType.Ok ? result.Revision : null });
    }

    /// <summary>
    /// Watch: follows every change under <paramref name="prefix"/> from <paramref name="fromRevision"/> on, through the client's
    /// own resuming after errors, telling <paramref name="received"/> of each change, until <paramref name="stop"/>. Then the
    /// completion is ok, with every change received and <paramref name="mustReach"/>: the revision up to which it had to see
    /// every change. A watch whose history was compacted ends info, with what it had received.
    /// </summary>
    public async Task<HistoryEvent> WatchAsync(int process, string prefix, long fromRevision, int node, Action<WatchChange> received, Func<long> mustReach, CancellationToken stop)
    {
        var invoke = Record(HistoryEvent.InvokeWatch(process, prefix, fromRevision, HistoryClock.Now(), nodeIds[node]));
        var changes = new List<WatchChange>();
        try
        {
            await foreach (var revision in client.WatchAsync(KeyRange.WithPrefix(prefix), new WatchOptions { FromRevision = fromRevision }, node, stop))
            {
                var change = new WatchChange(revision.Revision, [.. revision.Events.Select(e => e.Type == WatchEventType.Put
                    ? new WatchedEvent("put", e.Kv.Key, Encoding.UTF8.GetString(e.Kv.Value ?? []))
                    : new WatchedEvent("delete", e.Kv.Key, null))]);
                changes.Add(change);
                received(change);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return Record(invoke.Complete(HistoryEventType.Ok, HistoryClock.Now()) with { Changes = changes, Revision = mustReach() });
        }
        catch (WatchCompactedException)
        {
            return Record(invoke.Complete(HistoryEventType.Info, HistoryClock.Now()) with { Changes = changes });
        }

        throw new InvalidOperationException("A watch ended without being stopped.");
    }

    public async Task<HistoryEvent> CasAsync(int process, string key, string expected, string value, int node)
    {
        var invoke = Record(HistoryEvent.InvokeCas(process, key, expected, value, HistoryClock.Now(), nodeIds[node]));
        var result = await PutAsync(key, Encoding.UTF8.GetBytes(value), new WriteOptions { IfValue = expected }, node);
        return Record(invoke.Complete(Map(result.Outcome), HistoryClock.Now()));
    }

    /// <summary>Bank: creates the accounts <c>prefix0</c>, <c>prefix1</c>, ... with their balances, in one transaction, only if none exists yet.</summary>
    public async Task<HistoryEvent> InitAccountsAsync(int process, string prefix, Balances balances, int node)
    {
        var invoke = Record(HistoryEvent.InvokeInit(process, prefix, balances, HistoryClock.Now(), nodeIds[node]));
        var result = await TxnAsync(new TxnRequest
        {
            Compare = [.. balances.Accounts.Keys.Select(account => Compare.Absent(AccountKey(prefix, account)))],
            Success = [.. balances.Accounts.Select(account => TxnOp.Put(AccountKey(prefix, account.Key), Decimal(account.Value)))],
        }, node);
        return Record(invoke.CompleteBank(Map(result), HistoryClock.Now(), Revision(result)));
    }

    /// <summary>
    /// Bank: reads every account at one revision, then moves the amount in a transaction that applies only if
    /// neither account changed since (both modRevisions compared). A source without the funds, or an answer
    /// that cannot be read, ends the transfer as fail before anything was sent; a compare that did not hold is fail.
    /// </summary>
    public async Task<HistoryEvent> TransferAsync(int process, string prefix, Transfer transfer, int node)
    {
        var invoke = Record(HistoryEvent.InvokeTransfer(process, prefix, transfer, HistoryClock.Now(), nodeIds[node]));
        var read = await client.RangePageAsync(KeyRange.WithPrefix(prefix), new RangeOptions(), node);
        var accounts = read.Page?.Items.ToDictionary(item => item.Key);
        var fromKey = AccountKey(prefix, transfer.From);
        var toKey = AccountKey(prefix, transfer.To);
        if (accounts is null || !accounts.TryGetValue(fromKey, out var from) || !accounts.TryGetValue(toKey, out var to) ||
            Balance(from) < transfer.Amount)
        {
            return Record(invoke.CompleteBank(HistoryEventType.Fail, HistoryClock.Now()));
        }

        var result = await TxnAsync(new TxnRequest
        {
            Compare = [Compare.ModRevision(fromKey, CompareResult.Equal, from.ModRevision), Compare.ModRevision(toKey, CompareResult.Equal, to.ModRevision)],
            Success = [TxnOp.Put(fromKey, Decimal(Balance(from) - transfer.Amount)), TxnOp.Put(toKey, Decimal(Balance(to) + transfer.Amount))],
        }, node);
        return Record(invoke.CompleteBank(Map(result), HistoryClock.Now(), Revision(result)));
    }

    /// <summary>Bank: one range read of every account, recorded with the revision it was served at.</summary>
    public async Task<HistoryEvent> ReadAccountsAsync(int process, string prefix, int node, Consistency? consistency = null)
    {
        var invoke = Record(HistoryEvent.InvokeRead(process, prefix, HistoryClock.Now(), nodeIds[node]));
        var result = await client.RangePageAsync(KeyRange.WithPrefix(prefix), new RangeOptions { Consistency = consistency ?? readConsistency }, node);
        if (result.Page is not { } page)
        {
            return Record(invoke.CompleteBank(HistoryEventType.Fail, HistoryClock.Now()));
        }

        if (page.More)
        {
            throw new InvalidOperationException($"The accounts under {prefix} do not fit in one page; a read must see them all at once.");
        }

        var balances = new Balances(page.Items.Select(item => new KeyValuePair<int, long>(Account(prefix, item.Key), Balance(item))));
        return Record(invoke.CompleteBank(HistoryEventType.Ok, HistoryClock.Now(), page.Revision, balances));
    }

    /// <summary>
    /// A put, sent once; or, under <c>--retry-unknown</c>, under a key of its own and resent while its outcome is unknown.
    /// The result is then the answer that settled it, or the first attempt's unknown one.
    /// </summary>
    private async Task<WriteResult> PutAsync(string key, byte[] value, WriteOptions? options, int node)
    {
        if (retryUnknown is null)
        {
            return await client.PutAsync(key, value, options, node);
        }

        var idempotencyKey = retryUnknown.NewKey();
        var keyed = (options ?? new WriteOptions()) with { IdempotencyKey = idempotencyKey };
        var first = await client.PutAsync(key, value, keyed, node);
        if (!IsUnknown(first.Outcome, first.StatusCode, idempotencyKey, first.Detail))
        {
            return first;
        }

        var (settled, answer) = await retryUnknown.ResolveAsync(
            nodeIds.Count, at => client.PutAsync(key, value, keyed, at), retry => Settles(retry.Outcome, retry.StatusCode, idempotencyKey, retry.Detail));
        return settled ? answer : first;
    }

    /// <summary>A transaction, sent once; or, under <c>--retry-unknown</c>, as <see cref="PutAsync"/> does.</summary>
    private async Task<TxnResult> TxnAsync(TxnRequest request, int node)
    {
        if (retryUnknown is null)
        {
            return await client.TxnAsync(request, node);
        }

        var idempotencyKey = retryUnknown.NewKey();
        var keyed = request with { IdempotencyKey = idempotencyKey };
        var first = await client.TxnAsync(keyed, node);
        if (!IsUnknown(first.Outcome, first.StatusCode, idempotencyKey, first.Detail))
        {
            return first;
        }

        var (settled, answer) = await retryUnknown.ResolveAsync(
            nodeIds.Count, at => client.TxnAsync(keyed, at), retry => Settles(retry.Outcome, retry.StatusCode, idempotencyKey, retry.Detail));
        return settled ? answer : first;
    }

    /// <summary>Whether a keyed write's first answer leaves it unknown, and so to be retried.</summary>
    /// <exception cref="IdempotencyKeyReusedException">The node said the fresh key was used before.</exception>
    private static bool IsUnknown(WriteOutcome outcome, int? status, string key, string? detail)
        => status == KeyReusedStatus ? throw new IdempotencyKeyReusedException(key, detail) : outcome == WriteOutcome.Unknown;

    /// <summary>
    /// Whether a retry's answer settles the write: applied (the first outcome, replayed, or this retry's), or a condition
    /// that did not hold on apply. Not applied says only that this retry was not proposed; the first attempt may still
    /// be in a log, so the write stays open.
    /// </summary>
    /// <exception cref="IdempotencyKeyReusedException">The node said the key was used for a different request.</exception>
    private static bool Settles(WriteOutcome outcome, int? status, string key, string? detail)
        => status == KeyReusedStatus ? throw new IdempotencyKeyReusedException(key, detail) : outcome is WriteOutcome.Applied or WriteOutcome.PreconditionFailed;

    private static string AccountKey(string prefix, int account) => prefix + account.ToString(CultureInfo.InvariantCulture);

    private static string Decimal(long balance) => balance.ToString(CultureInfo.InvariantCulture);

    /// <exception cref="InvalidOperationException">Only the bank workload writes under its prefix, so anything else is corruption.</exception>
    private static int Account(string prefix, string key)
        => int.TryParse(key.AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var account)
            ? account
            : throw new InvalidOperationException($"Key {key} under {prefix} is not an account.");

    /// <exception cref="InvalidOperationException">The account holds something other than a decimal balance.</exception>
    private static long Balance(KeyValueItem item)
        => long.TryParse(item.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var balance)
            ? balance
            : throw new InvalidOperationException($"Account {item.Key} holds \"{Encoding.UTF8.GetString(item.Value ?? [])}\", not a balance.");

    private static HistoryEventType Map(TxnResult result) => result.Outcome switch
    {
        WriteOutcome.Applied => result.Succeeded ? HistoryEventType.Ok : HistoryEventType.Fail,
        WriteOutcome.PreconditionFailed or WriteOutcome.NotApplied => HistoryEventType.Fail,
        _ => HistoryEventType.Info,
    };

    private static long? Revision(TxnResult result) => Map(result) == HistoryEventType.Ok ? result.Revision : null;

    private static HistoryEventType Map(WriteOutcome outcome) => outcome switch
    {
        WriteOutcome.Applied => HistoryEventType.Ok,
        WriteOutcome.PreconditionFailed or WriteOutcome.NotApplied => HistoryEventType.Fail,
        _ => HistoryEventType.Info,
    };

    private HistoryEvent Record(HistoryEvent historyEvent)
    {
        history.Append(historyEvent);
        return historyEvent;
    }
}
