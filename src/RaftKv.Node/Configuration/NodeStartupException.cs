namespace RaftKv.Node.Configuration;

/// <summary>The node cannot start on its data: it exits with <see cref="ExitCode"/> and one line on stderr.</summary>
public sealed class NodeStartupException(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
