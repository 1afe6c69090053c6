using System.Diagnostics;
using RaftKv.Robustness.History;

namespace RaftKv.Robustness.Checking;

/// <summary>
/// Linearizability of one key's operations against a register: Wing &amp; Gong's depth-first search with Lowe's
/// memoization, as in Porcupine. Entries (an ok operation's call and return, an info operation's call) are ordered
/// by time. The search repeatedly linearizes an operation whose call comes before the first remaining return,
/// lifting its entries out of their list, and backtracks when no such operation can go next; it memoizes each
/// (set of linearized operations, register value) it reaches so that no state is explored twice.
/// An info operation has no return: it may be linearized anywhere after its call, or never, so the search
/// succeeds as soon as every ok operation is linearized.
/// Three things keep the search small without changing its answer: info operations whose value nobody observes
/// are dropped; a candidate read of the current value is taken without trying alternatives; and info calls sit
/// in a list of their own, tried only after the ok candidates, so they are used where needed.
/// The search gives up (Unknown) at the time limit, on cancellation, or when its memoized states take about 1 GiB.
/// </summary>
internal sealed class RegisterSearch
{
    private const int Absent = 0;
    private const int StepsBetweenClockChecks = 4096;

    // Memoized states are the search's memory; past this estimate the key is given up as unknown rather than
    // letting one hard key exhaust the machine.
    private const long MaxMemoizedBytes = 1L << 30;
    private const int BytesPerMemoizedState = 64;

    private readonly IReadOnlyList<Operation> operations;
    private readonly List<string?> values = [null];

    // Per operation. Values are interned: Absent is 0, each distinct string another small int.
    private readonly OperationFunction[] function;
    private readonly int[] required;
    private readonly int[] written;
    private readonly bool[] isOk;
    private readonly int[] returnEntry;
    private readonly int[] bit;
    private readonly ulong[] zobrist;

    // Per entry, indexed by time order, then the sentinels: the main list holds the calls and returns of ok
    // operations, the info list the calls of info operations. Both tails count as returns so walks stop there,
    // and the info tail comes after every entry.
    private readonly int[] entryOperation;
    private readonly bool[] isCall;
    private readonly bool[] isInfo;
    private readonly int[] next;
    private readonly int[] previous;
    private readonly int mainHead;
    private readonly int mainTail;
    private readonly int infoHead;
    private readonly int infoTail;

    // The search: the operations linearized so far (a bitset, its hash and the stack of steps taken), the
    // register value they leave, and every (linearized set, value) reached so far. The bitset has a word-aligned
    // region for ok operations, in invoke order, then one for info operations; see Compact.
    private readonly ulong[] linearized;
    private readonly int okWords;
    private readonly ulong[] probe;
    private readonly HashSet<CacheKey> seen = [];
    private long memoizedBytes;
    private readonly int[] stackEntry;
    private readonly int[] stackState;
    private readonly int[] stackBarrier;
    private readonly bool[] stackForced;
    private ulong linearizedHash;
    private int depth;
    private int state = Absent;
    private int unlinearizedOk;

    private RegisterSearch(IReadOnlyList<Operation> operations)
    {
        this.operations = operations;
        var n = operations.Count;
        function = new OperationFunction[n];
        required = new int[n];
        written = new int[n];
        isOk = new bool[n];
        returnEntry = new int[n];
        bit = new int[n];
        zobrist = new ulong[n];
        stackEntry = new int[n];
        stackState = new int[n];
        stackBarrier = new int[n];
        stackForced = new bool[n];
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        var entries = new List<(long Time, bool IsCall, int Operation)>(2 * n);
        for (var i = 0; i < n; i++)
        {
            var operation = operations[i];
            function[i] = operation.F;
            required[i] = operation.F switch
            {
                OperationFunction.Read => Intern(operation.Output, ids),
                OperationFunction.Cas => Intern(operation.Expected, ids),
                _ => Absent,
            };
            written[i] = operation.F == OperationFunction.Read ? Absent : Intern(operation.Value, ids);
            isOk[i] = operation.Type == OperationOutcome.Ok;
            zobrist[i] = SplitMix64((ulong)i);
            entries.Add((operation.InvokeTime, true, i));
            if (isOk[i])
            {
                unlinearizedOk++;
                entries.Add((operation.CompleteTime, false, i));
            }
        }

        okWords = (unlinearizedOk + 63) / 64;
        for (var i = 0; i < n; i++)
        {
            bit[i] = isOk[i] ? i : 64 * okWords + i - unlinearizedOk;
        }

        linearized = new ulong[okWords + (n - unlinearizedOk + 63) / 64];
        probe = new ulong[1 + linearized.Length];

        // On equal times calls go first: such operations overlap, which allows more orders, never fewer.
        entries.Sort((a, b) => a.Time != b.Time ? a.Time.CompareTo(b.Time)
            : a.IsCall != b.IsCall ? (a.IsCall ? -1 : 1)
            : a.Operation.CompareTo(b.Operation));

        var m = entries.Count;
        mainHead = m;
        mainTail = m + 1;
        infoHead = m + 2;
        infoTail = m + 3;
        entryOperation = new int[m + 4];
        isCall = new bool[m + 4];
        isInfo = new bool[m + 4];
        next = new int[m + 4];
        previous = new int[m + 4];
        Array.Fill(returnEntry, -1);
        isInfo[infoTail] = true;
        var lastMain = mainHead;
        var lastInfo = infoHead;
        for (var e = 0; e < m; e++)
        {
            var operation = entries[e].Operation;
            entryOperation[e] = operation;
            isCall[e] = entries[e].IsCall;
            isInfo[e] = !isOk[operation];
            if (!isCall[e])
            {
                returnEntry[operation] = e;
            }

            if (isInfo[e])
            {
                Append(ref lastInfo, e);
            }
            else
            {
                Append(ref lastMain, e);
            }
        }

        Append(ref lastMain, mainTail);
        Append(ref lastInfo, infoTail);
    }

    public static KeyResult Run(string key, IReadOnlyList<Operation> operations, TimeSpan timeLimit, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        // Ok operations first, in invoke order, so that the ones linearized early fill the low words of the bitset.
        var ordered = WithoutUnobservedInfo(operations).OrderBy(o => o.Type != OperationOutcome.Ok).ThenBy(o => o.InvokeTime);
        var search = new RegisterSearch([.. ordered]);
        var (verdict, violation) = search.Search(stopwatch, timeLimit, cancellationToken);
        return new KeyResult(key, verdict, operations.Count, stopwatch.Elapsed, violation);
    }

    /// <summary>
    /// Drops info operations that set a value no read returns and no cas expects. Such an operation can always be
    /// left out: once it set its value, only a write may follow it, and the write does not care what came before.
    /// Info operations left in the search multiply its states, so with unique values this is a large saving.
    /// </summary>
    private static List<Operation> WithoutUnobservedInfo(IReadOnlyList<Operation> operations)
    {
        var observed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var operation in operations)
        {
            var observedValue = operation.F == OperationFunction.Cas ? operation.Expected : operation.Output;
            if (observedValue is not null)
            {
                observed.Add(observedValue);
            }
        }

        return [.. operations.Where(o => o.Type == OperationOutcome.Ok || observed.Contains(o.Value!))];
    }

    private (Verdict Verdict, Violation? Violation) Search(Stopwatch stopwatch, TimeSpan timeLimit, CancellationToken cancellationToken)
    {
        const int NewNode = -1;
        long steps = 0;

        // At each node the scan walks the main list up to its first remaining return (the barrier), then the info
        // list up to the barrier; the calls it passes are the candidates to linearize next.
        var entry = NewNode;
        var barrier = mainTail;

        // The deepest point at which the search got stuck, for the violation report.
        var deepest = -1;
        int[] deepestPrefix = [];
        int[] deepestCandidates = [];
        var deepestState = Absent;

        while (unlinearizedOk > 0)
        {
            if (steps++ % StepsBetweenClockChecks == 0 &&
                (cancellationToken.IsCancellationRequested || stopwatch.Elapsed > timeLimit || memoizedBytes > MaxMemoizedBytes))
            {
                return (Verdict.Unknown, null);
            }

            if (entry == NewNode)
            {
                // A candidate read of the current value can go first without loss: it changes nothing, and all that
                // must precede it already has. So it is the only option tried; the info tail means "stuck".
                var read = MatchingRead();
                entry = read < 0 ? next[mainHead] : TryLinearize(read, barrier, forced: true) ? NewNode : infoTail;
                continue;
            }

            if (isCall[entry] && (!isInfo[entry] || entry < barrier))
            {
                entry = TryLinearize(entry, barrier, forced: false) ? NewNode : next[entry];
                continue;
            }

            if (!isInfo[entry])
            {
                barrier = entry;
                entry = next[infoHead];
                continue;
            }

            // No candidate can go next: undo the last step and try what comes after it.
            if (depth > deepest)
            {
                deepest = depth;
                deepestPrefix = stackEntry[..depth];
                deepestCandidates = Candidates();
                deepestState = state;
            }

            if (depth == 0)
            {
                return (Verdict.NotLinearizable, BuildViolation(deepestPrefix, deepestState, deepestCandidates));
            }

            var (undone, undoneBarrier, forced) = Undo();
            barrier = undoneBarrier;
            entry = forced ? infoTail : next[undone];
        }

        return (Verdict.Linearizable, null);
    }

    /// <summary>Linearizes the call at <paramref name="entry"/> next unless the model refuses it or the resulting state was seen.</summary>
    private bool TryLinearize(int entry, int barrier, bool forced)
    {
        var operation = entryOperation[entry];
        if (!TryStep(operation, out var newState))
        {
            return false;
        }

        Flip(operation);
        var hash = linearizedHash ^ zobrist[operation];
        var candidate = new CacheKey(probe, Compact(), newState, hash);
        if (seen.Contains(candidate))
        {
            Flip(operation);
            return false;
        }

        // The candidate points at the reused probe buffer: store a copy.
        seen.Add(candidate with { Words = probe[..candidate.Length] });
        memoizedBytes += BytesPerMemoizedState + 8 * candidate.Length;
        stackEntry[depth] = entry;
        stackState[depth] = state;
        stackBarrier[depth] = barrier;
        stackForced[depth] = forced;
        depth++;
        state = newState;
        linearizedHash = hash;
        Lift(entry);
        if (isOk[operation])
        {
            unlinearizedOk--;
        }

        return true;
    }

    private (int Entry, int Barrier, bool Forced) Undo()
    {
        depth--;
        var entry = stackEntry[depth];
        var operation = entryOperation[entry];
        state = stackState[depth];
        Flip(operation);
        linearizedHash ^= zobrist[operation];
        if (isOk[operation])
        {
            unlinearizedOk++;
        }

        Unlift(entry);
        return (entry, stackBarrier[depth], stackForced[depth]);
    }

    /// <summary>A candidate read that returns the current value, or -1.</summary>
    private int MatchingRead()
    {
        for (var e = next[mainHead]; isCall[e]; e = next[e])
        {
            var operation = entryOperation[e];
            if (function[operation] == OperationFunction.Read && required[operation] == state)
            {
                return e;
            }
        }

        return -1;
    }

    private bool TryStep(int operation, out int newState)
    {
        switch (function[operation])
        {
            case OperationFunction.Read:
                newState = state;
                return state == required[operation];
            case OperationFunction.Write:
                newState = written[operation];
                return true;
            default:
                // A cas never expects Absent, so an absent key never matches.
                newState = written[operation];
                return state == required[operation];
        }
    }

    /// <summary>The candidates at the current node, in time order.</summary>
    private int[] Candidates()
    {
        var calls = new List<int>();
        var barrier = next[mainHead];
        for (; isCall[barrier]; barrier = next[barrier])
        {
            calls.Add(barrier);
        }

        for (var e = next[infoHead]; e < barrier; e = next[e])
        {
            calls.Add(e);
        }

        calls.Sort();
        return [.. calls];
    }

    private Violation BuildViolation(int[] prefixEntries, int state, int[] pendingEntries) => new(
        [.. prefixEntries.Select(e => operations[entryOperation[e]])],
        values[state],
        [.. pendingEntries.Select(e => operations[entryOperation[e]])]);

    private void Append(ref int last, int e)
    {
        next[last] = e;
        previous[e] = last;
        last = e;
    }

    private void Lift(int call)
    {
        Unlink(call);
        var match = returnEntry[entryOperation[call]];
        if (match >= 0)
        {
            Unlink(match);
        }
    }

    // Exactly reverses Lift: removed entries keep their links, so relinking in reverse order restores the list.
    private void Unlift(int call)
    {
        var match = returnEntry[entryOperation[call]];
        if (match >= 0)
        {
            Relink(match);
        }

        Relink(call);
    }

    private void Unlink(int e)
    {
        next[previous[e]] = next[e];
        previous[next[e]] = previous[e];
    }

    private void Relink(int e)
    {
        next[previous[e]] = e;
        previous[next[e]] = e;
    }

    private int Intern(string? value, Dictionary<string, int> ids)
    {
        if (value is null)
        {
            return Absent;
        }

        if (!ids.TryGetValue(value, out var id))
        {
            id = values.Count;
            values.Add(value);
            ids.Add(value, id);
        }

        return id;
    }

    private void Flip(int operation) => linearized[bit[operation] >> 6] ^= 1UL << (bit[operation] & 63);

    /// <summary>
    /// Writes the bitset to the probe buffer without the ok words that are all ones at its start or all zeros at its
    /// end, which is most of them: the count of words skipped, the ok words in between, then the info words.
    /// Returns the length written. Distinct bitsets give distinct results, and memoized states stay small.
    /// </summary>
    private int Compact()
    {
        var start = 0;
        while (start < okWords && linearized[start] == ulong.MaxValue)
        {
            start++;
        }

        var end = okWords;
        while (end > start && linearized[end - 1] == 0)
        {
            end--;
        }

        probe[0] = (ulong)start;
        linearized.AsSpan(start, end - start).CopyTo(probe.AsSpan(1));
        linearized.AsSpan(okWords).CopyTo(probe.AsSpan(1 + end - start));
        return 1 + end - start + linearized.Length - okWords;
    }

    // Random-looking bits per operation, so the hash of a set of operations is the XOR of its members' bits.
    private static ulong SplitMix64(ulong seed)
    {
        var z = seed * 0x9E3779B97F4A7C15UL + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>
    /// A search state: the set of linearized operations, compacted into the first <see cref="Length"/> of
    /// <see cref="Words"/>, and the register value. <see cref="Hash"/> is the XOR of the operations' random bits.
    /// </summary>
    private readonly record struct CacheKey(ulong[] Words, int Length, int State, ulong Hash)
    {
        public bool Equals(CacheKey other) =>
            Hash == other.Hash && State == other.State &&
            Words.AsSpan(0, Length).SequenceEqual(other.Words.AsSpan(0, other.Length));

        public override int GetHashCode()
        {
            var mixed = Hash ^ ((ulong)State * 0x9E3779B97F4A7C15UL);
            return (int)(mixed ^ (mixed >> 32));
        }
    }
}
