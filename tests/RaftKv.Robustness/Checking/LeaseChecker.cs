using System.Globalization;
using RaftKv.Robustness.History;

namespace RaftKv.Robustness.Checking;

/// <summary>
/// One broken rule. <see cref="Kind"/>: <c>readable-after-end</c> (a read found a key at or after the revision at
/// which its lease was revoked or had expired), <c>expired-early</c> (a read found a key gone before its lease's TTL
/// could have run out, with no revoke of the lease under way).
/// </summary>
public sealed record LeaseViolation(string Kind, string Message, IReadOnlyList<Operation> Operations);

/// <param name="Violations">Per read, in invoke order: keys found after their lease ended, then keys gone too early.</param>
/// <param name="Leases">Leases granted (ok).</param>
/// <param name="Revoked">Leases revoked by a client (ok).</param>
/// <param name="KeepAlives">Acknowledged keep-alives.</param>
/// <param name="Keys">Keys attached to a lease by an acknowledged write.</param>
/// <param name="Reads">Ok range reads checked.</param>
/// <param name="LeasesSeenEnding">Leases whose end some read saw: a key of theirs gone, or a revoke acknowledged.</param>
public sealed record LeaseResult(
    IReadOnlyList<LeaseViolation> Violations,
    int Leases,
    int Revoked,
    int KeepAlives,
    int Keys,
    int Reads,
    int LeasesSeenEnding)
{
    public bool Valid => Violations.Count == 0;
}

/// <summary>
/// Checks a lease history: grants (an ok one with its id and granted TTL), keep-alives (an ok one with its TTL), revokes
/// (an ok one with its revision), writes that attach a key of their own to a lease, and range reads, each with the keys
/// it found under its prefix and the revision it was served at. Nothing deletes a key but its lease's end.
/// <list type="bullet">
/// <item>
/// A lease ends at one revision, when it is revoked or expires, and every key attached to it goes then. It ended at or
/// before the revision of its acknowledged revoke, and at or before any read that found a key of it gone whose
/// acknowledged write that read reflects (its revision is at or above the write's). A read at or after that revision
/// that finds a key of the lease is a violation.
/// </item>
/// <item>
/// A lease lives at least its granted TTL after the last acknowledged keep-alive (or the grant) reached the leader,
/// which was after the client invoked it. So a read that found an attached key gone (reflecting its acknowledged write)
/// and completed before that invocation plus the TTL is a violation, unless a revoke of the lease not known to have
/// failed was invoked before the read completed. Only the read's completion is safe here: a read invoked in time
/// may still be served after the lease's end.
/// </item>
/// </list>
/// Every rule holds for any correct execution whose clients and leader share one clock rate, as on one machine.
/// </summary>
public static class LeaseChecker
{
    private const long NanosecondsPerSecond = 1_000_000_000;

    /// <exception cref="ArgumentException">
    /// Not a usable lease history: an operation that is not a grant, keep-alive, revoke, write or range read; two ok
    /// grants of one id; a key written twice or without a lease; an acknowledged write, revoke or read without its revision.
    /// </exception>
    public static LeaseResult Check(IEnumerable<Operation> operations)
    {
        ArgumentNullException.ThrowIfNull(operations);
        var all = operations.OrderBy(o => o.InvokeTime).ToList();
        if (all.FirstOrDefault(o => o.F is OperationFunction.Cas or OperationFunction.Transfer or OperationFunction.Init or OperationFunction.Watch
            || (o.F == OperationFunction.Read && o.Type == OperationOutcome.Ok && o.Keys is null)) is { } other)
        {
            throw new ArgumentException($"A lease history holds grants, keep-alives, revokes, writes and range reads only, not {Describe(other)}.");
        }

        if (all.FirstOrDefault(o => o.Type == OperationOutcome.Ok && o.Revision is null && o.F is OperationFunction.Write or OperationFunction.Revoke or OperationFunction.Read) is { } unrevisioned)
        {
            throw new ArgumentException($"{Describe(unrevisioned)} is ok but has no revision.");
        }

        var leases = new Dictionary<long, Lease>();
        foreach (var grant in all.Where(o => o.F == OperationFunction.Grant && o.Type == OperationOutcome.Ok))
        {
            if (!leases.TryAdd(grant.Lease!.Value, new Lease(grant)))
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"Lease {grant.Lease} is granted twice."));
            }
        }

        var keys = new SortedDictionary<string, Operation>(StringComparer.Ordinal);
        foreach (var write in all.Where(o => o.F == OperationFunction.Write))
        {
            if (write.Lease is null || !keys.TryAdd(write.Key, write))
            {
                throw new ArgumentException($"{Describe(write)}: in a lease history every key is written once, attached to a lease.");
            }
        }

        foreach (var o in all.Where(o => o.Lease is { } id && leases.ContainsKey(id) && o.F is OperationFunction.KeepAlive or OperationFunction.Revoke))
        {
            var lease = leases[o.Lease!.Value];
            if (o.F == OperationFunction.Revoke)
            {
                lease.Revokes.Add(o);
            }
            else if (o.Type == OperationOutcome.Ok)
            {
                lease.KeepAlives.Add(o);
            }
        }

        var reads = all.Where(o => o.F == OperationFunction.Read && o.Type == OperationOutcome.Ok).ToList();
        var sortedKeys = keys.Keys.ToArray();
        var ends = Ends(leases, keys, reads, sortedKeys);
        var violations = new List<LeaseViolation>();
        foreach (var read in reads)
        {
            var found = read.Keys!.ToHashSet(StringComparer.Ordinal);
            var covered = Covered(sortedKeys, read.Key).Select(k => keys[k]).ToList();
            foreach (var byLease in covered.Where(w => found.Contains(w.Key)).GroupBy(w => w.Lease!.Value))
            {
                if (ends.TryGetValue(byLease.Key, out var end) && read.Revision >= end.Revision)
                {
                    violations.Add(new("readable-after-end", string.Create(CultureInfo.InvariantCulture,
                        $"{Describe(read)} found {string.Join(", ", byLease.Select(w => w.Key))} at revision {read.Revision}, but lease {byLease.Key} had ended at or before revision {end.Revision}: {end.Why}"),
                        [read, end.Evidence]));
                }
            }

            foreach (var byLease in covered.Where(w => !found.Contains(w.Key) && w.Type == OperationOutcome.Ok && w.Revision <= read.Revision).GroupBy(w => w.Lease!.Value))
            {
                if (leases.TryGetValue(byLease.Key, out var lease) && lease.PromisedUntil is var (until, promise) && read.CompleteTime < until &&
                    !lease.Revokes.Any(r => r.Type != OperationOutcome.Fail && r.InvokeTime < read.CompleteTime))
                {
                    violations.Add(new("expired-early", string.Create(CultureInfo.InvariantCulture,
                        $"{Describe(read)} found {string.Join(", ", byLease.Select(w => w.Key))} gone at revision {read.Revision}, completing {(until - read.CompleteTime) / 1e6:0.#} ms before " +
                        $"lease {byLease.Key} could have run out: {Describe(promise)} gave it {promise.Ttl} s, and no revoke of it was under way"),
                        [read, promise]));
                }
            }
        }

        return new LeaseResult(
            violations, leases.Count, leases.Values.Count(l => l.Revokes.Any(r => r.Type == OperationOutcome.Ok)),
            leases.Values.Sum(l => l.KeepAlives.Count), keys.Values.Count(w => w.Type == OperationOutcome.Ok), reads.Count, ends.Count);
    }

    /// <summary>For each lease whose end is known, the lowest revision it is known to have ended at or before, and why.</summary>
    private static Dictionary<long, (long Revision, string Why, Operation Evidence)> Ends(
        Dictionary<long, Lease> leases, SortedDictionary<string, Operation> keys, List<Operation> reads, string[] sortedKeys)
    {
        var ends = new Dictionary<long, (long Revision, string Why, Operation Evidence)>();
        void Lower(long lease, long revision, string why, Operation evidence)
        {
            if (!ends.TryGetValue(lease, out var known) || revision < known.Revision)
            {
                ends[lease] = (revision, why, evidence);
            }
        }

        foreach (var (id, lease) in leases)
        {
            foreach (var revoke in lease.Revokes.Where(r => r.Type == OperationOutcome.Ok))
            {
                Lower(id, revoke.Revision!.Value, $"{Describe(revoke)} was acknowledged at revision {revoke.Revision}", revoke);
            }
        }

        foreach (var read in reads)
        {
            var found = read.Keys!.ToHashSet(StringComparer.Ordinal);
            foreach (var gone in Covered(sortedKeys, read.Key).Select(k => keys[k]).Where(w => w.Type == OperationOutcome.Ok && w.Revision <= read.Revision && !found.Contains(w.Key)))
            {
                Lower(gone.Lease!.Value, read.Revision!.Value,
                    string.Create(CultureInfo.InvariantCulture, $"{Describe(read)} found {gone.Key} gone at revision {read.Revision}, after its write at revision {gone.Revision}"), read);
            }
        }

        return ends;
    }

    /// <summary>The written keys under <paramref name="prefix"/>, from the ordinally sorted keys.</summary>
    private static IEnumerable<string> Covered(string[] sortedKeys, string prefix)
    {
        var at = Array.BinarySearch(sortedKeys, prefix, StringComparer.Ordinal);
        for (var i = at < 0 ? ~at : at; i < sortedKeys.Length && sortedKeys[i].StartsWith(prefix, StringComparison.Ordinal); i++)
        {
            yield return sortedKeys[i];
        }
    }

    internal static string Describe(Operation o)
    {
        var what = o.F switch
        {
            OperationFunction.Read => $"the read of {o.Key}",
            OperationFunction.Write => string.Create(CultureInfo.InvariantCulture, $"the write of {o.Key} attached to lease {o.Lease}"),
            OperationFunction.Grant => string.Create(CultureInfo.InvariantCulture, $"the grant of lease {o.Lease}"),
            _ => string.Create(CultureInfo.InvariantCulture, $"the {HistoryValidator.Name(o.F)} of lease {o.Lease}"),
        };
        var ended = o.Type == OperationOutcome.Info ? "completion unknown" : string.Create(CultureInfo.InvariantCulture, $"completed {o.CompleteTime}");
        return string.Create(CultureInfo.InvariantCulture, $"{what} (process {o.Process} on {o.Node}, invoked {o.InvokeTime}, {ended})");
    }

    /// <summary>An ok grant with what was learnt of its lease.</summary>
    private sealed class Lease(Operation grant)
    {
        public List<Operation> KeepAlives { get; } = [];

        public List<Operation> Revokes { get; } = [];

        /// <summary>The latest history time the lease must live to (an acknowledged keep-alive's or the grant's invoke plus its TTL), and that operation.</summary>
        public (long Until, Operation Promise) PromisedUntil
            => KeepAlives.Prepend(grant).Select(o => (o.InvokeTime + (o.Ttl!.Value * NanosecondsPerSecond), o)).MaxBy(p => p.Item1);
    }
}
