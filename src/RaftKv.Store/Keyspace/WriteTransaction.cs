using RaftKv.Store.Collections;
using RaftKv.Store.Commands;
using RaftKv.Store.Results;
using RaftKv.Store.Watch;

namespace RaftKv.Store.Keyspace;

/// <summary>
/// Applies one write request (a put, a delete-range, a transaction, a lease grant or revoke) to a working copy of the
/// keyspace, at the next revision. Every change it makes shares that one revision; if it changes
/// nothing, the revision does not move.
/// </summary>
/// <remarks>
/// As etcd's applier does, it first decides which branch of every transaction runs (compares see
/// the state before the request), then checks the operations on that path (leases, past
/// revisions), and only then writes: a request that fails a check changes nothing.
/// </remarks>
internal sealed class WriteTransaction(KeyspaceView before)
{
    private readonly long writeRevision = before.Revision + 1;
    private readonly List<byte[]> superseded = [];
    private readonly List<(byte[] Key, KeyVersion Version)> written = [];
    private PersistentSortedMap<KeyVersion> keys = before.Keys;
    private LeaseTable leases = before.Leases;
    private long liveKeys = before.LiveKeys;
    private bool changed;

    /// <summary>Keys whose previous version this request superseded: history a compaction at or past its revision may drop.</summary>
    public IReadOnlyList<byte[]> Superseded => superseded;

    /// <summary>What the request changed, for watchers; null if it changed no key.</summary>
    public RevisionChanges? Changes => written.Count > 0 ? new RevisionChanges(writeRevision, written) : null;

    /// <summary>Runs the request; on success, <paramref name="after"/> is the keyspace afterwards.</summary>
    public CommandResult Run(Request request, out KeyspaceView after)
    {
        after = before;
        var path = new Queue<bool>();
        ChoosePath(request, path);
        if (Check(request, new Queue<bool>(path)) is { } error)
        {
            return CommandResult.Rejected(error, before.Revision, before.CompactRevision);
        }

        var result = Execute(request, path);
        var revision = changed ? writeRevision : before.Revision;
        if (changed || !ReferenceEquals(leases, before.Leases))
        {
            // A grant changes the leases but no key, so it does not move the revision.
            after = before with { Revision = revision, LiveKeys = liveKeys, Keys = keys, Leases = leases };
        }

        return new CommandResult(CommandStatus.Applied, revision, result);
    }

    /// <summary>Records, in order, whether each transaction on the path taken succeeds, evaluated against the state before the request.</summary>
    private void ChoosePath(Request request, Queue<bool> path)
    {
        if (request is not TxnRequest txn)
        {
            return;
        }

        var succeeded = txn.Compares.All(Holds);
        path.Enqueue(succeeded);
        foreach (var op in succeeded ? txn.Success : txn.Failure)
        {
            ChoosePath(op, path);
        }
    }

    private CommandError? Check(Request request, Queue<bool> path)
    {
        switch (request)
        {
            case PutRequest put:
                if (put.Lease != 0 && !before.Leases.Contains(put.Lease))
                {
                    return CommandError.LeaseNotFound;
                }

                return (put.IgnoreValue || put.IgnoreLease) && before.Get(put.Key) is null ? CommandError.KeyNotFound : null;
            case LeaseGrantRequest grant:
                return before.Leases.Contains(grant.Id) ? CommandError.LeaseExists : null;
            case LeaseRevokeRequest revoke:
                return before.Leases.Contains(revoke.Id) ? null : CommandError.LeaseNotFound;
            case RangeRequest range when range.Revision != 0:
                return before.CheckRevision(range.Revision) is var revisionError and not CommandError.None ? revisionError : null;
            case TxnRequest txn:
                foreach (var op in path.Dequeue() ? txn.Success : txn.Failure)
                {
                    if (Check(op, path) is { } error)
                    {
                        return error;
                    }
                }

                return null;
            default:
                return null;
        }
    }

    private OpResult Execute(Request request, Queue<bool> path) => request switch
    {
        PutRequest put => Put(put),
        DeleteRangeRequest delete => DeleteRange(delete),
        RangeRequest range => KeyspaceView.Range(keys, range, range.Revision > 0 ? range.Revision : writeRevision),
        TxnRequest txn => Txn(txn, path),
        LeaseGrantRequest grant => Grant(grant),
        LeaseRevokeRequest revoke => Revoke(revoke),
        _ => throw new InvalidOperationException($"{request.Kind} is not a keyspace write."),
    };

    private TxnResult Txn(TxnRequest txn, Queue<bool> path)
    {
        var succeeded = path.Dequeue();
        var ops = succeeded ? txn.Success : txn.Failure;
        var results = new OpResult?[ops.Count];
        for (var i = 0; i < ops.Count; i++)
        {
            results[i] = Execute(ops[i], path);
        }

        return new TxnResult(succeeded, results);
    }

    private PutResult Put(PutRequest put)
    {
        keys.TryGetValue(put.Key, out var history);
        var current = history?.At(writeRevision) is { IsTombstone: false } live ? live : null;
        var value = put.IgnoreValue ? current!.Value! : put.Value;
        var lease = put.IgnoreLease ? current!.Lease : put.Lease;
        var next = current is null
            ? new KeyVersion(value, writeRevision, written.Count, writeRevision, 1, lease, history)
            : new KeyVersion(value, writeRevision, written.Count, current.CreateRevision, current.Version + 1, lease, history);
        Write(put.Key, history, next);
        leases = leases.Move(put.Key, current?.Lease ?? 0, lease);
        if (current is null)
        {
            liveKeys++;
        }

        return new PutResult(put.PrevKv && current is not null ? current.ToKeyValue(put.Key, keysOnly: false) : null);
    }

    private DeleteRangeResult DeleteRange(DeleteRangeRequest delete)
    {
        // Materialized first: the deletes below change the map being walked.
        var victims = KeyspaceView.Live(keys, delete.Range, writeRevision).ToList();
        var previous = new List<KeyValue>(delete.PrevKv ? victims.Count : 0);
        foreach (var (key, version) in victims)
        {
            keys.TryGetValue(key, out var history);
            Write(key, history, new KeyVersion(null, writeRevision, written.Count, 0, 0, 0, history));
            leases = leases.Move(key, version.Lease, 0);
            liveKeys--;
            if (delete.PrevKv)
            {
                previous.Add(version.ToKeyValue(key, keysOnly: false));
            }
        }

        return new DeleteRangeResult(victims.Count, previous);
    }

    private LeaseGrantResult Grant(LeaseGrantRequest grant)
    {
        leases = leases.Grant(grant.Id, grant.Ttl);
        return new LeaseGrantResult(grant.Id, grant.Ttl);
    }

    /// <summary>Deletes every key attached to the lease, in key order, in this one revision, and ends the lease.</summary>
    private LeaseRevokeResult Revoke(LeaseRevokeRequest revoke)
    {
        leases.TryGet(revoke.Id, out var lease);
        foreach (var key in lease.Keys)
        {
            keys.TryGetValue(key, out var history);
            Write(key, history, new KeyVersion(null, writeRevision, written.Count, 0, 0, 0, history));
            liveKeys--;
        }

        leases = leases.Revoke(revoke.Id);
        return new LeaseRevokeResult(lease.Keys.Count);
    }

    private void Write(byte[] key, KeyVersion? history, KeyVersion next)
    {
        keys = keys.SetItem(key, next);
        written.Add((key, next));
        changed = true;
        if (history is not null)
        {
            superseded.Add(key);
        }
    }

    /// <summary>etcd's <c>applyCompare</c>: every key of the range must pass; an absent key passes as a zero version, except for a value compare.</summary>
    private bool Holds(Compare compare)
    {
        var matched = false;
        foreach (var (key, version) in KeyspaceView.Live(before.Keys, compare.Range, before.Revision))
        {
            matched = true;
            if (!Holds(compare, version.ToKeyValue(key, keysOnly: false)))
            {
                return false;
            }
        }

        return matched || (compare.Target != CompareTarget.Value && Holds(compare, null));
    }

    private static bool Holds(Compare compare, KeyValue? kv)
    {
        var order = compare.Target switch
        {
            CompareTarget.Value => kv!.Value.AsSpan().SequenceCompareTo(compare.Value ?? []),
            CompareTarget.Version => (kv?.Version ?? 0).CompareTo(compare.Number),
            CompareTarget.CreateRevision => (kv?.CreateRevision ?? 0).CompareTo(compare.Number),
            CompareTarget.ModRevision => (kv?.ModRevision ?? 0).CompareTo(compare.Number),
            CompareTarget.Lease => (kv?.Lease ?? 0).CompareTo(compare.Number),
            _ => throw new InvalidDataException($"Unknown compare target {compare.Target}."),
        };
        return compare.Result switch
        {
            CompareResult.Equal => order == 0,
            CompareResult.NotEqual => order != 0,
            CompareResult.Greater => order > 0,
            CompareResult.Less => order < 0,
            _ => throw new InvalidDataException($"Unknown compare result {compare.Result}."),
        };
    }
}
