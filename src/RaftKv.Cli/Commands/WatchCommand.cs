using System.CommandLine;
using RaftKv.Client;

namespace RaftKv.Cli.Commands;

/// <summary><c>watch</c>: follows changes until Ctrl-C, resuming on another node after any error, with no gap and no repeat.</summary>
internal static class WatchCommand
{
    public static Command Build(CliRuntime runtime)
    {
        var prefix = new Argument<string>("prefix") { Description = "The prefix (default: every key); with --key, one key." };
        prefix.DefaultValueFactory = _ => "";
        var key = new Option<bool>("--key") { Description = "Watch exactly PREFIX, as one key." };
        var fromRevision = new Option<long?>("--from-revision") { Description = "Start at this revision (default: now); past revisions are replayed first." };
        var prevKv = new Option<bool>("--prev-kv") { Description = "Also print each key's previous version." };
        var count = new Option<int?>("--count") { Description = "Stop after this many events (default: never)." };
        return runtime.Command("watch", "Prints every change to keys with a prefix: PUT/DELETE KEY VALUE per line (JSON: one object per event).", async (parsed, connection, printer, token) =>
        {
            var options = new WatchOptions { FromRevision = parsed.GetValue(fromRevision), PrevKv = parsed.GetValue(prevKv) };
            var watched = parsed.GetValue(prefix)!;
            var stream = parsed.GetValue(key)
                ? connection.Client.WatchKeyAsync(watched, options, token: token)
                : connection.Client.WatchAsync(watched.Length == 0 ? KeyRange.All : KeyRange.WithPrefix(watched), options, token: token);
            var left = parsed.GetValue(count);
            try
            {
                await foreach (var revision in stream)
                {
                    foreach (var change in revision.Events)
                    {
                        var type = change.Type == WatchEventType.Put ? "PUT" : "DELETE";
                        printer.Result(
                            new { type = type.ToLowerInvariant(), revision = revision.Revision, kv = Printer.Item(change.Kv), prevKv = change.PrevKv is null ? null : Printer.Item(change.PrevKv) },
                            $"{type} {change.Kv.Key}{(change.Type == WatchEventType.Put ? " " + Printer.Show(change.Kv.Value) : "")}");
                        if (left is { } remaining && (left = remaining - 1) <= 0)
                        {
                            return ExitCodes.Success;
                        }
                    }
                }
            }
            catch (Client.WatchCompactedException e)
            {
                return printer.Failure(ExitCodes.NotApplied, "compacted", 410, $"the history is compacted up to revision {e.CompactRevision}: watch from a later --from-revision");
            }

            return ExitCodes.Success;
        }, prefix, key, fromRevision, prevKv, count);
    }
}
