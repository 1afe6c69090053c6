using System.Globalization;
using RaftKv.Robustness.History;

namespace RaftKv.Robustness.Checking;

/// <summary>
/// One broken rule. <see cref="Kind"/>: <c>out-of-order</c> (a watcher received a revision not above the one before it),
/// <c>before-start</c> (a revision below the one the watcher asked to start at), <c>disagreement</c> (two watchers
/// received different events for one revision), <c>gap</c> (a watcher missed a revision inside its span that another
/// watcher received or an acknowledged write got), <c>lost-write</c> (an acknowledged write missing from its revision
/// in the union of what the watchers received), <c>never-written</c> (a change no write attempted), <c>failed-write-seen</c>
/// (the change of a write that definitely failed), <c>applied-twice</c> (one write's value received at two revisions).
/// </summary>
public sealed record WatchViolation(string Kind, string Message, IReadOnlyList<Operation> Operations);

/// <param name="Violations">In the order found: each watcher's own sequence, then agreement, then writes, then gaps.</param>
/// <param name="Watchers">Watches that received anything or were to (ok or info).</param>
/// <param name="Revisions">Revisions in the union of what the watchers received.</param>
/// <param name="WritesOk">Acknowledged writes.</param>
/// <param name="WritesFailed">Writes that definitely did not happen.</param>
/// <param name="WritesUnknown">Writes of unknown outcome.</param>
/// <param name="WritesUnknownSeen">Writes of unknown outcome that a watcher received, so they did happen.</param>
/// <param name="WritesUncovered">Acknowledged writes at revisions no watcher had to deliver (before every watcher's start or past every one's end).</param>
public sealed record WatchResult(
    IReadOnlyList<WatchViolation> Violations,
    int Watchers,
    int Revisions,
    int WritesOk,
    int WritesFailed,
    int WritesUnknown,
    int WritesUnknownSeen,
    int WritesUncovered)
{
    public bool Valid => Violations.Count == 0;
}

/// <summary>
/// Checks a watch history: writes (puts of unique values) and watches of the prefix they write to, each with the
/// revision it asked to start at and, when it ended, every change it received; an ok watch also says the revision up
/// to which it had to deliver everything (an info one, which ended on its own, only had to reach its last change).
/// <list type="bullet">
/// <item>Each watcher's revisions strictly increase and none is below its start.</item>
/// <item>Any two watchers that received one revision received the same events for it.</item>
/// <item>
/// Every change is a put of a value some write attempted, at most once, and not of a write that failed; every
/// acknowledged write is received at its own revision, if any watcher had to deliver that revision. Writes of
/// unknown outcome may or may not appear.
/// </item>
/// <item>
/// No gaps: a watcher received every revision from its start to its end that any watcher received or an
/// acknowledged write got. (The client promises more than the gap-free minimum, between a watcher's first and last
/// revision: from the revision it asked for on, and up to the end it was waited for.)
/// </item>
/// </list>
/// Every rule holds for any correct execution, so a violation is a real one. No search: it takes one pass.
/// </summary>
public static class WatchChecker
{
    private const int RevisionsListed = 10;

    /// <exception cref="ArgumentException">
    /// Not a usable watch history: no watch, an operation other than a write or a watch, a value written twice to a key,
    /// or an acknowledged write without its revision.
    /// </exception>
    public static WatchResult Check(IEnumerable<Operation> operations)
    {
        ArgumentNullException.ThrowIfNull(operations);
        var all = operations.ToList();
        if (all.FirstOrDefault(o => o.F is not (OperationFunction.Write or OperationFunction.Watch)) is { } other)
        {
            throw new ArgumentException($"A watch history holds writes and watches only, not {HistoryValidator.Name(other.F)} (process {other.Process}).");
        }

        var watchers = all.Where(o => o.F == OperationFunction.Watch && o.Changes is not null).ToList();
        if (all.All(o => o.F != OperationFunction.Watch))
        {
            throw new ArgumentException("A watch history needs at least one watch.");
        }

        var writes = new Dictionary<(string Key, string Value), Operation>();
        foreach (var write in all.Where(o => o.F == OperationFunction.Write))
        {
            if (!writes.TryAdd((write.Key, write.Value!), write))
            {
                throw new ArgumentException($"The value \"{write.Value}\" is written to key \"{write.Key}\" twice, so a change cannot name its write.");
            }

            if (write.Type == OperationOutcome.Ok && write.Revision is null)
            {
                throw new ArgumentException($"The acknowledged write of \"{write.Value}\" to \"{write.Key}\" (process {write.Process}) has no revision.");
            }
        }

        var violations = new List<WatchViolation>();
        foreach (var watcher in watchers)
        {
            CheckOwnSequence(watcher, violations);
        }

        var union = Union(watchers, violations);
        var seen = CheckWrites(watchers, union, writes, violations);
        var okWrites = writes.Values.Where(w => w.Type == OperationOutcome.Ok).ToList();
        var required = union.Keys.Concat(okWrites.Select(w => w.Revision!.Value)).ToHashSet();
        var uncovered = okWrites.Count(w => !watchers.Any(watcher => Covers(watcher, w.Revision!.Value)));
        foreach (var watcher in watchers)
        {
            var received = watcher.Changes!.Select(c => c.Revision).ToHashSet();
            var missed = required.Where(r => Covers(watcher, r) && !received.Contains(r)).Order().ToList();
            if (missed.Count > 0)
            {
                var (from, to) = Span(watcher);
                violations.Add(new("gap", string.Create(CultureInfo.InvariantCulture,
                    $"{Describe(watcher)} had to deliver every change from revision {from} to {to}, and missed {missed.Count} revisions that another watcher received or an acknowledged write got: {List(missed)}"),
                    [watcher]));
            }
        }

        return new WatchResult(
            violations, watchers.Count, union.Count, okWrites.Count,
            writes.Values.Count(w => w.Type == OperationOutcome.Fail),
            writes.Values.Count(w => w.Type == OperationOutcome.Info),
            seen.Count(w => w.Type == OperationOutcome.Info), uncovered);
    }

    private static void CheckOwnSequence(Operation watcher, List<WatchViolation> violations)
    {
        var changes = watcher.Changes!;
        var backwards = changes.Where((c, i) => i > 0 && c.Revision <= changes[i - 1].Revision).Select(c => c.Revision).ToList();
        if (backwards.Count > 0)
        {
            violations.Add(new("out-of-order", string.Create(CultureInfo.InvariantCulture,
                $"{Describe(watcher)} received {backwards.Count} revisions not above the one before them (repeated or going back): {List(backwards)}"), [watcher]));
        }

        var early = changes.Where(c => c.Revision < watcher.FromRevision).Select(c => c.Revision).ToList();
        if (early.Count > 0)
        {
            violations.Add(new("before-start", string.Create(CultureInfo.InvariantCulture,
                $"{Describe(watcher)} asked to start at revision {watcher.FromRevision}, and received {early.Count} earlier ones: {List(early)}"), [watcher]));
        }
    }

    /// <summary>Every revision any watcher received, with the events the first of them received; reports each watcher that received others.</summary>
    private static Dictionary<long, (WatchChange Change, Operation Watcher)> Union(List<Operation> watchers, List<WatchViolation> violations)
    {
        var union = new Dictionary<long, (WatchChange Change, Operation Watcher)>();
        foreach (var watcher in watchers)
        {
            var disagreements = new Dictionary<Operation, List<long>>(ReferenceEqualityComparer.Instance);
            foreach (var change in watcher.Changes!)
            {
                if (!union.TryAdd(change.Revision, (change, watcher)) && union[change.Revision] is var (first, firstWatcher) &&
                    !ReferenceEquals(firstWatcher, watcher) && !first.SameAs(change))
                {
                    disagreements.TryAdd(firstWatcher, []);
                    disagreements[firstWatcher].Add(change.Revision);
                }
            }

            foreach (var (firstWatcher, revisions) in disagreements)
            {
                var example = revisions[0];
                violations.Add(new("disagreement", string.Create(CultureInfo.InvariantCulture,
                    $"{Describe(watcher)} and {Describe(firstWatcher)} received different events for {revisions.Count} revisions: {List(revisions)}; at {example}, " +
                    $"{Format(watcher.Changes!.First(c => c.Revision == example))} against {Format(union[example].Change)}"), [watcher, firstWatcher]));
            }
        }

        return union;
    }

    /// <summary>Matches every received change to its write; returns the writes received.</summary>
    private static HashSet<Operation> CheckWrites(
        List<Operation> watchers, Dictionary<long, (WatchChange Change, Operation Watcher)> union, Dictionary<(string Key, string Value), Operation> writes, List<WatchViolation> violations)
    {
        var receivedAt = new Dictionary<Operation, List<long>>(ReferenceEqualityComparer.Instance);
        foreach (var (revision, (change, watcher)) in union.OrderBy(u => u.Key))
        {
            foreach (var watched in change.Events)
            {
                if (watched.Type != "put" || !writes.TryGetValue((watched.Key, watched.Value!), out var write))
                {
                    violations.Add(new("never-written", string.Create(CultureInfo.InvariantCulture,
                        $"{Describe(watcher)} received a {watched.Type} of \"{watched.Key}\"{(watched.Value is null ? "" : $" = \"{watched.Value}\"")} at revision {revision}, which no write attempted"),
                        [watcher]));
                    continue;
                }

                receivedAt.TryAdd(write, []);
                receivedAt[write].Add(revision);
                if (write.Type == OperationOutcome.Fail)
                {
                    violations.Add(new("failed-write-seen", string.Create(CultureInfo.InvariantCulture,
                        $"{Describe(watcher)} received {DescribeWrite(write)} at revision {revision}, yet that write definitely failed"), [watcher, write]));
                }
            }
        }

        foreach (var (write, revisions) in receivedAt.Where(r => r.Value.Count > 1))
        {
            violations.Add(new("applied-twice", string.Create(CultureInfo.InvariantCulture,
                $"{DescribeWrite(write)} was received at {revisions.Count} revisions: {List(revisions)}"), [write, .. revisions.Select(r => union[r].Watcher).Distinct()]));
        }

        foreach (var write in writes.Values.Where(w => w.Type == OperationOutcome.Ok))
        {
            var revision = write.Revision!.Value;
            var watcher = union.TryGetValue(revision, out var at) ? at.Watcher : null;
            var covered = watcher is not null || watchers.Any(w => Covers(w, revision));
            if (covered && !(receivedAt.TryGetValue(write, out var revisions) && revisions.Contains(revision)))
            {
                var elsewhere = receivedAt.TryGetValue(write, out var other) ? $"; it was received at {List(other)} instead" : "";
                violations.Add(new("lost-write", string.Create(CultureInfo.InvariantCulture,
                    $"{DescribeWrite(write)} was acknowledged at revision {revision}, and no watcher received it there{elsewhere}"),
                    watcher is null ? [write] : [write, watcher]));
            }
        }

        return [.. receivedAt.Keys];
    }

    /// <summary>From the revision the watcher asked for to the one it had to reach (or its last change, whichever is higher).</summary>
    private static (long From, long To) Span(Operation watcher)
        => (watcher.FromRevision ?? 1, Math.Max(watcher.Revision ?? 0, watcher.Changes!.Count == 0 ? 0 : watcher.Changes[^1].Revision));

    private static bool Covers(Operation watcher, long revision) => Span(watcher) is var (from, to) && revision >= from && revision <= to;

    private static string List(List<long> revisions)
        => string.Join(", ", revisions.Take(RevisionsListed).Select(r => r.ToString(CultureInfo.InvariantCulture))) + (revisions.Count > RevisionsListed ? ", ..." : "");

    private static string Format(WatchChange change)
        => "[" + string.Join(", ", change.Events.Select(e => e.Value is null ? $"{e.Type} {e.Key}" : $"{e.Type} {e.Key} = \"{e.Value}\"")) + "]";

    private static string DescribeWrite(Operation write)
        => string.Create(CultureInfo.InvariantCulture, $"the write of \"{write.Value}\" to \"{write.Key}\" (process {write.Process} on {write.Node}, {HistoryValidator.Name(Type(write))})");

    internal static string Describe(Operation watcher)
        => string.Create(CultureInfo.InvariantCulture, $"the watcher of process {watcher.Process} (started on {watcher.Node} at revision {watcher.FromRevision})");

    private static HistoryEventType Type(Operation o) => o.Type switch
    {
        OperationOutcome.Ok => HistoryEventType.Ok,
        OperationOutcome.Fail => HistoryEventType.Fail,
        _ => HistoryEventType.Info,
    };
}
