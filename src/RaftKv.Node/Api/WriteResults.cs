using RaftKv.Node.Cluster;
using RaftKv.Store.Results;

namespace RaftKv.Node.Api;

/// <summary>Maps what became of a write to its HTTP answer: the same for every write endpoint.</summary>
public static class WriteResults
{
    public static IResult ToHttp(HttpContext context, ProposalResult result, Func<CommandResult, IResult> applied)
        => result.Status switch
        {
            ProposalStatus.Completed => result.Outcome! switch
            {
                { Status: CommandStatus.Applied } outcome => applied(outcome),
                { Status: CommandStatus.RequestIdReused } => Problems.IdempotencyKeyReused(),
                { Error: CommandError.IdempotencyKeysFull } => Problems.Unavailable(context,
                    "The cluster remembers as many idempotency keys as it may (RaftKv:IdempotencyCapacity); the write was not applied. Retry later, when older keys have aged out."),
                var rejected => Problems.Rejected(rejected),
            },
            ProposalStatus.NotApplied or ProposalStatus.NotLeader or ProposalStatus.Overloaded => Problems.Unavailable(context, result.Detail ?? "The write was not applied."),
            ProposalStatus.InsufficientStorage => Problems.InsufficientStorage(context, result.Detail ?? "The node is low on disk space; the write was not applied."),
            _ => Problems.OutcomeUnknown(result.Detail ?? "The outcome of the write is unknown."),
        };
}
