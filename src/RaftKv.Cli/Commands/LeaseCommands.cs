using System.CommandLine;
using RaftKv.Client;

namespace RaftKv.Cli.Commands;

/// <summary><c>lease grant|keep-alive|revoke|ttl|list</c>.</summary>
internal static class LeaseCommands
{
    public static IEnumerable<Command> Build(CliRuntime runtime)
    {
        var lease = new Command("lease", "Leases: keys attached to one are deleted when it ends.");
        lease.Subcommands.Add(Grant(runtime));
        lease.Subcommands.Add(KeepAlive(runtime));
        lease.Subcommands.Add(Revoke(runtime));
        lease.Subcommands.Add(TimeToLive(runtime));
        lease.Subcommands.Add(List(runtime));
        yield return lease;
    }

    private static Argument<long> LeaseId() => new("id") { Description = "The lease id." };

    private static Command Grant(CliRuntime runtime)
    {
        var ttl = new Argument<long>("ttl") { Description = "Seconds the lease lives without a keep-alive." };
        var id = new Option<long?>("--id") { Description = "Ask for this id (default: the cluster picks one)." };
        var idempotencyKey = KvCommands.IdempotencyKey();
        return runtime.Command("grant", "Grants a lease; prints its id.", async (parsed, connection, printer, token) =>
        {
            var requestKey = KvCommands.KeyFor(parsed, idempotencyKey);
            var result = await connection.Client.GrantLeaseAsync(parsed.GetValue(ttl), parsed.GetValue(id), requestKey, token: token);
            return result.Outcome switch
            {
                LeaseOutcome.Ok => Granted(printer, result),
                LeaseOutcome.Unknown => printer.WriteFailure(WriteOutcome.Unknown, result.StatusCode, result.Detail, requestKey),
                _ => printer.WriteFailure(WriteOutcome.NotApplied, result.StatusCode, result.Detail, requestKey),
            };
        }, ttl, id, idempotencyKey);
    }

    private static int Granted(Printer printer, LeaseResult result)
    {
        printer.Result(new { id = result.Id, ttl = result.Ttl }, $"lease {result.Id} granted with TTL {result.Ttl} s");
        return ExitCodes.Success;
    }

    private static Command KeepAlive(CliRuntime runtime)
    {
        var id = LeaseId();
        var once = new Option<bool>("--once") { Description = "Renew once and exit (default: keep renewing, at a third of the TTL, until Ctrl-C)." };
        return runtime.Command("keep-alive", "Renews a lease (exit 1 once it no longer exists).", async (parsed, connection, printer, token) =>
        {
            while (true)
            {
                var result = await connection.Client.KeepAliveAsync(parsed.GetValue(id), token: token);
                switch (result.Outcome)
                {
                    case LeaseOutcome.Ok:
                        printer.Result(new { id = result.Id, ttl = result.Ttl }, $"lease {result.Id} renewed, TTL {result.Ttl} s");
                        if (parsed.GetValue(once))
                        {
                            return ExitCodes.Success;
                        }

                        await Task.Delay(TimeSpan.FromSeconds(Math.Max(1, result.Ttl) / 3.0), token);
                        break;
                    case LeaseOutcome.NotFound:
                        return printer.Failure(ExitCodes.Unmet, "not found", result.StatusCode, $"lease {parsed.GetValue(id)} has ended");
                    case var _ when parsed.GetValue(once):
                        return printer.Failure(ExitCodes.NotApplied, "keep-alive failed", result.StatusCode, result.Detail);
                    default:
                        // Renewal is safe to repeat: try again soon, on the next node.
                        await connection.Console.Error.WriteLineAsync($"raftkv: keep-alive failed ({result.Detail}); retrying");
                        await Task.Delay(TimeSpan.FromMilliseconds(500), token);
                        break;
                }
            }
        }, id, once);
    }

    private static Command Revoke(CliRuntime runtime)
    {
        var id = LeaseId();
        var idempotencyKey = KvCommands.IdempotencyKey();
        return runtime.Command("revoke", "Revokes a lease, deleting its keys.", async (parsed, connection, printer, token) =>
        {
            var requestKey = KvCommands.KeyFor(parsed, idempotencyKey);
            var result = await connection.Client.RevokeLeaseAsync(parsed.GetValue(id), requestKey, token: token);
            if (result.Outcome == WriteOutcome.NotApplied && result.StatusCode == 404)
            {
                return printer.Failure(ExitCodes.Unmet, "not found", result.StatusCode, result.Detail);
            }

            if (result.Outcome != WriteOutcome.Applied)
            {
                return printer.WriteFailure(result.Outcome, result.StatusCode, result.Detail, requestKey);
            }

            printer.Result(new { revision = result.Revision, deleted = result.Deleted }, $"lease {parsed.GetValue(id)} revoked, {result.Deleted} keys deleted");
            return ExitCodes.Success;
        }, id, idempotencyKey);
    }

    private static Command TimeToLive(CliRuntime runtime)
    {
        var id = LeaseId();
        return runtime.Command("ttl", "Prints a lease's remaining and granted TTL and its keys (exit 1 if it does not exist).", async (parsed, connection, printer, token) =>
        {
            var result = await connection.Client.TimeToLiveAsync(parsed.GetValue(id), token: token);
            return result.Outcome switch
            {
                LeaseOutcome.Ok => Print(printer, result),
                LeaseOutcome.NotFound => printer.Failure(ExitCodes.Unmet, "not found", result.StatusCode, $"lease {parsed.GetValue(id)} does not exist"),
                _ => printer.Failure(ExitCodes.NotApplied, "read failed", result.StatusCode, result.Detail),
            };
        }, id);
    }

    private static int Print(Printer printer, LeaseTimeToLive lease)
    {
        printer.Result(
            new { id = lease.Id, ttl = lease.Ttl, grantedTtl = lease.GrantedTtl, keys = lease.Keys },
            $"lease {lease.Id}: {lease.Ttl} s left of {lease.GrantedTtl} s, {lease.Keys.Count} keys{string.Concat(lease.Keys.Select(k => "\n  " + k))}");
        return ExitCodes.Success;
    }

    private static Command List(CliRuntime runtime)
        => runtime.Command("list", "Lists the leases with their remaining TTL.", async (parsed, connection, printer, token) =>
        {
            var result = await connection.Client.ListLeasesAsync(token: token);
            if (result.Outcome != LeaseOutcome.Ok)
            {
                return printer.Failure(ExitCodes.NotApplied, "read failed", result.StatusCode, result.Detail);
            }

            printer.Result(
                new { leases = result.Leases.Select(l => new { id = l.Id, ttl = l.Ttl }) },
                result.Leases.Count == 0 ? "no leases" : string.Join('\n', result.Leases.Select(l => $"{l.Id}\t{l.Ttl} s")));
            return ExitCodes.Success;
        });
}
