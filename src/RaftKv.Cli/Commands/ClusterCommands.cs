using System.CommandLine;
using RaftKv.Client;

namespace RaftKv.Cli.Commands;

/// <summary><c>status</c>, <c>members list|add|remove</c> and <c>snapshot save</c>.</summary>
internal static class ClusterCommands
{
    private static readonly string[] StatusColumns = ["ENDPOINT", "ID", "ROLE", "TERM", "COMMIT", "APPLIED", "LAG", "LEADER", "REVISION", "KEYS"];

    public static IEnumerable<Command> Build(CliRuntime runtime)
    {
        yield return Status(runtime);
        var members = new Command("members", "The cluster's members: list, add, remove.");
        members.Subcommands.Add(ListMembers(runtime));
        members.Subcommands.Add(AddMember(runtime));
        members.Subcommands.Add(RemoveMember(runtime));
        yield return members;
        var snapshot = new Command("snapshot", "Backups of every key.");
        snapshot.Subcommands.Add(SaveSnapshot(runtime));
        yield return snapshot;
    }

    private static Command Status(CliRuntime runtime)
        => runtime.Command("status", "Shows every endpoint's member: role, term, commit and applied index, lag behind the highest commit, leader (exit 2 if one did not answer).", async (parsed, connection, printer, token) =>
        {
            var answers = await Task.WhenAll(connection.Endpoints.Select((_, i) => connection.Client.StatusAsync(i, token)));
            var commit = answers.Max(a => a.Status?.CommitIndex ?? 0);
            var rows = connection.Endpoints.Zip(answers, (endpoint, answer) => (Endpoint: endpoint, Answer: answer)).ToList();
            if (printer.Json)
            {
                printer.Result(new
                {
                    members = rows.Select(r => r.Answer.Status is { } s
                        ? (object)new { endpoint = r.Endpoint, id = s.Id, role = s.Role, term = s.Term, commitIndex = s.CommitIndex, appliedIndex = s.AppliedIndex, lag = commit - s.AppliedIndex, leader = s.LeaderId, revision = s.Revision, keys = s.Keys, diskLow = s.DiskLow }
                        : new { endpoint = r.Endpoint, error = r.Answer.Detail ?? $"HTTP {r.Answer.StatusCode}" }),
                }, "");
            }
            else
            {
                var table = new List<string[]> { StatusColumns };
                table.AddRange(rows.Select(r => r.Answer.Status is { } s
                    ? [r.Endpoint.ToString(), s.Id, s.Role, $"{s.Term}", $"{s.CommitIndex}", $"{s.AppliedIndex}", $"{commit - s.AppliedIndex}", s.LeaderId ?? "(none)", $"{s.Revision}", $"{s.Keys}"]
                    : new[] { r.Endpoint.ToString(), "unreachable: " + (r.Answer.Detail ?? $"HTTP {r.Answer.StatusCode}") }));
                await connection.Console.Out.WriteLineAsync(Table(table));
            }

            return answers.All(a => a.Status is not null) ? ExitCodes.Success : ExitCodes.NotApplied;
        });

    /// <summary>Columns padded to their widest cell; a short row (an unreachable member) runs on past the columns.</summary>
    private static string Table(List<string[]> rows)
    {
        var columns = rows[0].Length;
        var widths = Enumerable.Range(0, columns).Select(c => rows.Where(r => r.Length == columns).Max(r => r[c].Length)).ToArray();
        return string.Join('\n', rows.Select(r => string.Join("  ", r.Select((cell, c) => r.Length == columns && c < columns - 1 ? cell.PadRight(widths[c]) : cell)).TrimEnd()));
    }

    private static Command ListMembers(CliRuntime runtime)
        => runtime.Command("list", "Lists the members: id, client, peer and gRPC URLs, whether started and voting.", async (parsed, connection, printer, token) =>
        {
            var result = await connection.Client.MembersAsync(token: token);
            if (result.Members is not { } members)
            {
                return printer.Failure(ExitCodes.NotApplied, "read failed", result.StatusCode, result.Detail);
            }

            printer.Result(
                new { leader = result.LeaderId, members = members.Select(Describe) },
                string.Join('\n', members.Select(m => $"{m.Id}\t{m.Url?.ToString() ?? "(unstarted)"}\tpeer {m.PeerUrl}\t{(m.GrpcUrl is null ? "" : "grpc " + m.GrpcUrl + "\t")}{(m.Voting ? "voting" : "not voting")}{(m.Id == result.LeaderId ? "\tleader" : "")}")));
            return ExitCodes.Success;
        });

    private static object Describe(Member m) => new { id = m.Id, url = m.Url, peerUrl = m.PeerUrl, grpcUrl = m.GrpcUrl, started = m.Started, voting = m.Voting };

    private static Command AddMember(CliRuntime runtime)
    {
        var id = new Argument<string>("id") { Description = "The new member's id." };
        var peerUrl = new Option<string>("--peer-url") { Description = "Its peer URL.", Required = true };
        var url = new Option<string>("--url") { Description = "Its client URL.", Required = true };
        var grpcUrl = new Option<string?>("--grpc-url") { Description = "Its gRPC URL." };
        var idempotencyKey = KvCommands.IdempotencyKey();
        return runtime.Command("add", "Adds a member; start it with --join on an empty data folder.", async (parsed, connection, printer, token) =>
        {
            var requestKey = KvCommands.KeyFor(parsed, idempotencyKey);
            var member = new Member(parsed.GetValue(id)!, UrlOf(parsed.GetValue(url), "--url"), UrlOf(parsed.GetValue(peerUrl), "--peer-url")!, UrlOf(parsed.GetValue(grpcUrl), "--grpc-url"), Started: false, Voting: false);
            var result = await connection.Client.AddMemberAsync(member, requestKey, token: token);
            if (result.Outcome != WriteOutcome.Applied)
            {
                return printer.WriteFailure(result.Outcome, result.StatusCode, result.Detail, requestKey);
            }

            printer.Result(
                new { member = result.Member is null ? null : Describe(result.Member), voting = result.ReachedVoters },
                result.ReachedVoters ? $"member {member.Id} added, and votes" : $"member {member.Id} added; it votes once it runs and catches up");
            return ExitCodes.Success;
        }, id, peerUrl, url, grpcUrl, idempotencyKey);
    }

    /// <exception cref="UsageException">The text is not an absolute URL.</exception>
    private static Uri? UrlOf(string? text, string option)
        => text is null ? null
        : Uri.TryCreate(text, UriKind.Absolute, out var url) ? url
        : throw new UsageException($"{option} '{text}' is not an absolute URL.");

    private static Command RemoveMember(CliRuntime runtime)
    {
        var id = new Argument<string>("id") { Description = "The member's id." };
        var idempotencyKey = KvCommands.IdempotencyKey();
        return runtime.Command("remove", "Removes a member; it shuts itself down.", async (parsed, connection, printer, token) =>
        {
            var requestKey = KvCommands.KeyFor(parsed, idempotencyKey);
            var result = await connection.Client.RemoveMemberAsync(parsed.GetValue(id)!, requestKey, token: token);
            if (result.Outcome == WriteOutcome.NotApplied && result.StatusCode == 404)
            {
                return printer.Failure(ExitCodes.Unmet, "not found", result.StatusCode, result.Detail);
            }

            if (result.Outcome != WriteOutcome.Applied)
            {
                return printer.WriteFailure(result.Outcome, result.StatusCode, result.Detail, requestKey);
            }

            printer.Result(new { removed = parsed.GetValue(id), voting = !result.ReachedVoters },
                result.ReachedVoters ? $"member {parsed.GetValue(id)} removed" : $"member {parsed.GetValue(id)} removed; it still votes until the change reaches the voters");
            return ExitCodes.Success;
        }, id, idempotencyKey);
    }

    private static Command SaveSnapshot(CliRuntime runtime)
    {
        var file = new Argument<FileInfo>("file") { Description = "Where to write the backup (written whole, then renamed into place)." };
        return runtime.Command("save", "Saves a backup of every key (root only with auth on); RaftKv.Node restore seeds a new cluster from it.", async (parsed, connection, printer, token) =>
        {
            var target = parsed.GetValue(file)!;
            var partial = target.FullName + ".part";
            SnapshotResult result;
            await using (var output = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                result = await connection.Client.SaveSnapshotAsync(output, token: token);
                await output.FlushAsync(token);
                output.Flush(flushToDisk: true);
            }

            if (!result.Saved)
            {
                File.Delete(partial);
                return printer.Failure(ExitCodes.NotApplied, "snapshot failed", result.StatusCode, result.Detail);
            }

            File.Move(partial, target.FullName, overwrite: true);
            printer.Result(new { file = target.FullName, revision = result.Revision, bytes = result.Bytes }, $"saved {result.Bytes} bytes at revision {result.Revision} to {target.FullName}");
            return ExitCodes.Success;
        }, file);
    }
}
