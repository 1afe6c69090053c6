namespace RaftKv.Robustness.Checking;

/// <summary>
/// The outcome of a set workload. Lost: acknowledged (ok) but not observed. Unexpected: observed but never
/// attempted. FailedButPresent: observed although its add failed, and fail means it did not happen.
/// Recovered: info (unknown) and observed, which is allowed. Element lists are sorted ordinally.
/// </summary>
public sealed record SetResult(
    IReadOnlyList<string> Lost,
    IReadOnlyList<string> Unexpected,
    IReadOnlyList<string> FailedButPresent,
    IReadOnlyList<string> Recovered,
    int Attempted,
    int Acknowledged,
    int Failed,
    int Indeterminate,
    int Observed)
{
    public bool Valid => Lost.Count == 0 && Unexpected.Count == 0 && FailedButPresent.Count == 0;
}

public static class SetChecker
{
    /// <summary>
    /// <paramref name="attempts"/>: every element an add was attempted for, once each, with the add's outcome
    /// ("ok", "fail" or "info"). <paramref name="observed"/>: the elements the final reads found.
    /// </summary>
    /// <exception cref="ArgumentException">An element is attempted twice or an outcome is unknown.</exception>
    public static SetResult Check(IEnumerable<(string Element, string Outcome)> attempts, IReadOnlySet<string> observed)
    {
        ArgumentNullException.ThrowIfNull(attempts);
        ArgumentNullException.ThrowIfNull(observed);
        var outcomes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (element, outcome) in attempts)
        {
            if (outcome is not ("ok" or "fail" or "info"))
            {
                throw new ArgumentException($"Element \"{element}\" has unknown outcome \"{outcome}\".", nameof(attempts));
            }

            if (!outcomes.TryAdd(element, outcome))
            {
                throw new ArgumentException($"Element \"{element}\" is attempted more than once.", nameof(attempts));
            }
        }

        var lost = new List<string>();
        var failedButPresent = new List<string>();
        var recovered = new List<string>();
        foreach (var (element, outcome) in outcomes)
        {
            var present = observed.Contains(element);
            switch (outcome)
            {
                case "ok" when !present:
                    lost.Add(element);
                    break;
                case "fail" when present:
                    failedButPresent.Add(element);
                    break;
                case "info" when present:
                    recovered.Add(element);
                    break;
            }
        }

        return new SetResult(
            Sorted(lost),
            Sorted(observed.Where(element => !outcomes.ContainsKey(element))),
            Sorted(failedButPresent),
            Sorted(recovered),
            outcomes.Count,
            outcomes.Values.Count(o => o == "ok"),
            outcomes.Values.Count(o => o == "fail"),
            outcomes.Values.Count(o => o == "info"),
            observed.Count);
    }

    private static List<string> Sorted(IEnumerable<string> elements) => [.. elements.Order(StringComparer.Ordinal)];
}
