using System.Globalization;

namespace RaftKv.Robustness.Harness;

/// <summary>What <c>--retry-unknown</c> did in a run.</summary>
/// <param name="Unknown">Writes whose first answer left their outcome unknown, and which were therefore retried.</param>
/// <param name="Resolved">Those of them that a retry's answer settled (ok or fail); the others ended unknown (info).</param>
/// <param name="Retries">Retries sent, over all of them.</param>
public readonly record struct RetryCounts(int Unknown, int Resolved, int Retries)
{
    public override string ToString()
        => string.Create(CultureInfo.InvariantCulture, $"unknown writes: {Unknown}, resolved by retry: {Resolved}, retries sent: {Retries}");
}
