namespace RaftKv.Robustness.History;

/// <summary>
/// Reads a JSONL history and validates every line. Blank lines are skipped. An invoke still outstanding at the
/// end is accepted: the run stopped before its outcome was known, so <see cref="Operation.Pair"/> treats it as info.
/// </summary>
public static class HistoryReader
{
    /// <exception cref="MalformedHistoryException">A line is not valid.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static IReadOnlyList<HistoryEvent> ReadFile(string path)
    {
        using var reader = File.OpenText(path);
        return Read(reader);
    }

    /// <exception cref="MalformedHistoryException">A line is not valid.</exception>
    public static IReadOnlyList<HistoryEvent> Read(TextReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var events = new List<HistoryEvent>();
        var validator = new HistoryValidator();
        var lineNumber = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            HistoryEvent historyEvent;
            try
            {
                historyEvent = HistoryJson.Parse(line);
            }
            catch (FormatException e)
            {
                throw new MalformedHistoryException(lineNumber, e.Message);
            }

            var error = validator.Accept(historyEvent);
            if (error is not null)
            {
                throw new MalformedHistoryException(lineNumber, error);
            }

            events.Add(historyEvent);
        }

        return events;
    }
}
