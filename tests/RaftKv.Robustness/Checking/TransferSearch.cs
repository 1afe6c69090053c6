namespace RaftKv.Robustness.Checking;

/// <summary>
/// Decides whether some of the open transfers add up to a target change of the balances, using at most a given
/// number of the counted ones (those of unknown outcome). A depth-first search over include / leave out, leaving out
/// first (most unknown transfers never happened), that prunes a branch as soon as the transfers left cannot move
/// some account far enough, and memoizes each (position, remaining change) that failed, with the fewest counted
/// transfers it failed with, so that no state is explored twice. It stops, undecided, when the clock says so or
/// when the memo grows past <see cref="MaxStates"/>.
/// </summary>
internal sealed class TransferSearch(int accounts, Func<bool> outOfTime)
{
    private const int MaxStates = 1 << 21;
    private const int StepsBetweenClockChecks = 1024;

    public enum Outcome
    {
        Found,
        NotFound,
        OutOfBudget,
    }

    /// <summary>A transfer: <paramref name="Amount"/> from account index <paramref name="From"/> to <paramref name="To"/>.</summary>
    public readonly record struct Item(int From, int To, long Amount, bool Counted);

    /// <summary>Searches; when found, <paramref name="chosen"/> holds the positions in <paramref name="open"/> of the transfers that make up the target.</summary>
    public Outcome Run(long[] target, IReadOnlyList<Item> open, int maxCounted, out IReadOnlyList<int> chosen)
    {
        chosen = [];
        if (target.All(change => change == 0))
        {
            return Outcome.Found;
        }

        if (outOfTime())
        {
            return Outcome.OutOfBudget;
        }

        // A transfer of a negative amount is one of the opposite direction; one that moves nothing never helps.
        var positions = Enumerable.Range(0, open.Count).Where(i => open[i].Amount != 0 && open[i].From != open[i].To).ToArray();
        var items = positions
            .Select(i => open[i].Amount < 0 ? open[i] with { From = open[i].To, To = open[i].From, Amount = -open[i].Amount } : open[i])
            .ToArray();
        var n = items.Length;

        // up[k, a] and down[k, a]: how far items k.. can raise or lower account a at most.
        var up = new long[(n + 1) * accounts];
        var down = new long[(n + 1) * accounts];
        for (var k = n - 1; k >= 0; k--)
        {
            Array.Copy(up, (k + 1) * accounts, up, k * accounts, accounts);
            Array.Copy(down, (k + 1) * accounts, down, k * accounts, accounts);
            up[(k * accounts) + items[k].To] += items[k].Amount;
            down[(k * accounts) + items[k].From] += items[k].Amount;
        }

        // remaining = target - (sum of the items included so far); found when it is all zero.
        var remaining = (long[])target.Clone();
        var nonZero = remaining.Count(change => change != 0);
        var failed = new Dictionary<long[], int>(VectorComparer.Instance);
        var probe = new long[accounts + 1];
        var stage = new byte[n + 1];
        var counted = 0;
        var depth = 0;
        var steps = 0;

        void Move(int account, long amount)
        {
            var before = remaining[account];
            remaining[account] += amount;
            nonZero += (remaining[account] != 0 ? 1 : 0) - (before != 0 ? 1 : 0);
        }

        void Include(int k, int sign)
        {
            Move(items[k].From, sign * items[k].Amount);
            Move(items[k].To, -sign * items[k].Amount);
            counted += items[k].Counted ? sign : 0;
        }

        long[] Probe(int k)
        {
            Array.Copy(remaining, probe, accounts);
            probe[accounts] = k;
            return probe;
        }

        bool Feasible(int k)
        {
            for (var a = 0; a < accounts; a++)
            {
                if (remaining[a] > up[(k * accounts) + a] || remaining[a] < -down[(k * accounts) + a])
                {
                    return false;
                }
            }

            return true;
        }

        while (depth >= 0)
        {
            if (++steps % StepsBetweenClockChecks == 0 && outOfTime())
            {
                return Outcome.OutOfBudget;
            }

            var k = depth;
            switch (stage[k])
            {
                case 0:
                    if (nonZero == 0)
                    {
                        chosen = [.. Enumerable.Range(0, k).Where(i => stage[i] == 2).Select(i => positions[i])];
                        return Outcome.Found;
                    }

                    if (k == n || !Feasible(k) || (failed.TryGetValue(Probe(k), out var fewest) && fewest <= counted))
                    {
                        depth--;
                        continue;
                    }

                    // Leave item k out first.
                    stage[k] = 1;
                    stage[k + 1] = 0;
                    depth++;
                    continue;
                case 1:
                    if (!items[k].Counted || counted < maxCounted)
                    {
                        Include(k, 1);
                        stage[k] = 2;
                        stage[k + 1] = 0;
                        depth++;
                        continue;
                    }

                    break;
                default:
                    Include(k, -1);
                    break;
            }

            // Both choices for item k failed from this state.
            var key = Probe(k);
            if (!failed.TryGetValue(key, out var known) || counted < known)
            {
                if (failed.Count >= MaxStates)
                {
                    return Outcome.OutOfBudget;
                }

                failed[(long[])key.Clone()] = counted;
            }

            depth--;
        }

        return Outcome.NotFound;
    }

    /// <summary>Compares the memo's vectors by content.</summary>
    private sealed class VectorComparer : IEqualityComparer<long[]>
    {
        public static readonly VectorComparer Instance = new();

        public bool Equals(long[]? x, long[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(long[] vector)
        {
            var hash = new HashCode();
            hash.AddBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(vector.AsSpan()));
            return hash.ToHashCode();
        }
    }
}
