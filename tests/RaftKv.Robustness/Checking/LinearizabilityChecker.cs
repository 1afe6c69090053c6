using RaftKv.Robustness.History;

namespace RaftKv.Robustness.Checking;

/// <summary>
/// Checks a history against a register per key: initially absent; write v sets v; cas [e, n] applies only when
/// the current value is e (an absent key never matches) and then sets n; read returns the current value.
/// Keys are independent registers, so each key is checked on its own (P-compositionality).
/// </summary>
public static class LinearizabilityChecker
{
    /// <summary>
    /// Fail operations did not happen and reads that did not end ok say nothing, so both are dropped. Keys are
    /// checked one after another, each with <paramref name="timeLimitPerKey"/> of search (and about 1 GiB of
    /// memory); a key whose search runs out, or is stopped by <paramref name="cancellationToken"/>, is Unknown.
    /// </summary>
    /// <exception cref="ArgumentException">An operation completes before it was invoked, or is a bank operation.</exception>
    public static LinearizabilityResult Check(
        IEnumerable<Operation> operations, TimeSpan timeLimitPerKey, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(operations);
        var byKey = new SortedDictionary<string, List<Operation>>(StringComparer.Ordinal);
        foreach (var operation in operations)
        {
            if (operation.F is OperationFunction.Transfer or OperationFunction.Init || operation.Balances is not null)
            {
                throw new ArgumentException("Bank operations are checked by the bank checker, not against a register.", nameof(operations));
            }

            if (operation.CompleteTime < operation.InvokeTime)
            {
                throw new ArgumentException($"An operation on key \"{operation.Key}\" completes before it was invoked.", nameof(operations));
            }

            var carriesInformation = operation.Type == OperationOutcome.Ok ||
                (operation.Type == OperationOutcome.Info && operation.F != OperationFunction.Read);
            if (!carriesInformation)
            {
                continue;
            }

            if (!byKey.TryGetValue(operation.Key, out var forKey))
            {
                forKey = [];
                byKey.Add(operation.Key, forKey);
            }

            forKey.Add(operation);
        }

        var keys = byKey
            .Select(pair => RegisterSearch.Run(pair.Key, pair.Value, timeLimitPerKey, cancellationToken))
            .ToList();
        var verdict = keys.Any(k => k.Verdict == Verdict.NotLinearizable) ? Verdict.NotLinearizable
            : keys.Any(k => k.Verdict == Verdict.Unknown) ? Verdict.Unknown
            : Verdict.Linearizable;
        return new LinearizabilityResult(verdict, keys);
    }
}
