using RaftKv.Client;

namespace RaftKv.Cli;

/// <summary>What the tool's exit code says: scripts branch on it.</summary>
internal static class ExitCodes
{
    public const int Success = 0;

    /// <summary>A precondition failed (a compare, If-Match, if-absent), or the key or lease was not found.</summary>
    public const int Unmet = 1;

    /// <summary>The request was definitely not applied: refused, no leader, unreachable. Safe to retry. Also a read that failed.</summary>
    public const int NotApplied = 2;

    /// <summary>The write may or may not have been applied: retry it with the same idempotency key.</summary>
    public const int Unknown = 3;

    /// <summary>The command line is wrong (as sysexits' EX_USAGE).</summary>
    public const int Usage = 64;

    public static int Of(WriteOutcome outcome) => outcome switch
    {
        WriteOutcome.Applied => Success,
        WriteOutcome.PreconditionFailed => Unmet,
        WriteOutcome.NotApplied => NotApplied,
        _ => Unknown,
    };
}

/// <summary>A bad command line found after parsing (no endpoints, an unreadable file): exit 64 with the message.</summary>
internal sealed class UsageException(string message) : Exception(message);
