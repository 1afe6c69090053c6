namespace RaftKv.Robustness.History;

/// <summary>
/// Appends events as JSONL, one line each, from any number of threads. Each line is flushed as soon as it is
/// written so that a crash of the test process keeps everything appended so far. Events that break the history
/// rules are rejected before anything is written.
/// </summary>
public sealed class HistoryWriter : IDisposable
{
    private readonly Lock gate = new();
    private readonly HistoryValidator validator = new();
    private readonly TextWriter writer;
    private readonly bool ownsWriter;

    /// <summary>Writes to <paramref name="writer"/>, which the caller keeps owning.</summary>
    public HistoryWriter(TextWriter writer)
        : this(writer, ownsWriter: false)
    {
    }

    private HistoryWriter(TextWriter writer, bool ownsWriter)
    {
        ArgumentNullException.ThrowIfNull(writer);
        this.writer = writer;
        this.ownsWriter = ownsWriter;
    }

    /// <summary>Creates (or truncates) the file at <paramref name="path"/>; others may read it while it is written.</summary>
    public static HistoryWriter Create(string path)
    {
        var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read);
        return new HistoryWriter(new StreamWriter(stream), ownsWriter: true);
    }

    /// <exception cref="ArgumentException">The event breaks the history rules (shape, or invoke/completion pairing).</exception>
    public void Append(HistoryEvent historyEvent)
    {
        ArgumentNullException.ThrowIfNull(historyEvent);
        lock (gate)
        {
            var error = validator.Accept(historyEvent);
            if (error is not null)
            {
                throw new ArgumentException($"Event rejected: {error}.", nameof(historyEvent));
            }

            writer.Write(HistoryJson.Serialize(historyEvent));
            writer.Write('\n');
            writer.Flush();
        }
    }

    public void Dispose()
    {
        lock (gate)
        {
            if (ownsWriter)
            {
                writer.Dispose();
            }
        }
    }
}
