namespace RaftKv.Robustness.History;

/// <summary>A history line that is not valid JSON of the history format, or breaks the invoke/completion rules.</summary>
public sealed class MalformedHistoryException(int lineNumber, string problem)
    : Exception($"line {lineNumber}: {problem}")
{
    /// <summary>1-based number of the offending line.</summary>
    public int LineNumber { get; } = lineNumber;

    public string Problem { get; } = problem;
}
