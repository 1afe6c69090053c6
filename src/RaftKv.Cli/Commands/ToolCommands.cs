using System.CommandLine;
using System.Diagnostics;

namespace RaftKv.Cli.Commands;

/// <summary>
/// <c>check</c> and <c>bench</c>: the repository's history checker and load generator, run from the source
/// tree (the tool's own, or <c>$RAFTKV_SOURCE</c>), with their exit codes passed through.
/// </summary>
internal static class ToolCommands
{
    public static IEnumerable<Command> Build(CliRuntime runtime)
    {
        yield return Check(runtime);
        yield return Bench(runtime);
    }

    private static Command Check(CliRuntime runtime)
    {
        var history = new Argument<FileInfo>("history") { Description = "A recorded history (JSONL), from the robustness suite or your own client." };
        var timeLimit = new Option<int?>("--time-limit-seconds") { Description = "Search time per key (default 30)." };
        var command = new Command("check", "Checks a history for linearizability, one register per key (exit 0 valid, 1 violation, 2 unknown, 3 unusable input).") { history, timeLimit };
        command.SetAction((parsed, token) => RunFromSourceAsync(runtime, "scripts/check-history.sh", ["bash"],
            [parsed.GetValue(history)!.FullName, .. parsed.GetValue(timeLimit) is { } limit ? ["--time-limit-seconds", $"{limit}"] : Array.Empty<string>()], token));
        return command;
    }

    private static Command Bench(CliRuntime runtime)
    {
        var command = new Command("bench", "Runs the load generator (bench/RaftKv.LoadGen) against the endpoints; every other option goes to it (raftkv bench --help-load lists them).")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        command.SetAction(async (parsed, token) =>
        {
            var passed = parsed.UnmatchedTokens.Select(t => t == "--help-load" ? "--help" : t).ToList();
            if (!passed.Contains("--targets") && !passed.Contains("--help"))
            {
                IReadOnlyList<Uri> endpoints;
                try
                {
                    endpoints = Connection.ResolveEndpoints(parsed.GetValue(runtime.Options.Endpoints), runtime.Environment("RAFTKV_ENDPOINTS"), parsed.GetValue(runtime.Options.Cluster));
                }
                catch (UsageException e)
                {
                    await runtime.Console.Error.WriteLineAsync($"raftkv: {e.Message}");
                    return ExitCodes.Usage;
                }

                passed.InsertRange(0, ["--targets", string.Join(',', endpoints.Select(e => e.ToString().TrimEnd('/')))]);
            }

            return await RunFromSourceAsync(runtime, "bench/RaftKv.LoadGen", ["dotnet", "run", "-c", "Release", "--project"], ["--", .. passed], token);
        });
        return command;
    }

    /// <summary>Runs <paramref name="launcher"/> + the tree's <paramref name="path"/> + <paramref name="arguments"/>, copying its output.</summary>
    private static async Task<int> RunFromSourceAsync(CliRuntime runtime, string path, string[] launcher, string[] arguments, CancellationToken token)
    {
        if (SourceTree(runtime.Environment("RAFTKV_SOURCE")) is not { } root)
        {
            await runtime.Console.Error.WriteLineAsync($"raftkv: this command runs {path} from a RaftKv source tree: run raftkv from a checkout, or set $RAFTKV_SOURCE to one.");
            return ExitCodes.Usage;
        }

        var start = new ProcessStartInfo(launcher[0]) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = root };
        foreach (var argument in launcher.Skip(1).Append(Path.Combine(root, path)).Concat(arguments))
        {
            start.ArgumentList.Add(argument);
        }

        // Line by line, so that a test's buffer gets the child's output as the console would.
        using var process = new Process { StartInfo = start };
        var console = runtime.Console;
        process.OutputDataReceived += (_, line) => Copy(console.Out, line.Data);
        process.ErrorDataReceived += (_, line) => Copy(console.Error, line.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await process.WaitForExitAsync(token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return process.ExitCode;
    }

    private static void Copy(TextWriter writer, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (writer)
        {
            writer.WriteLine(line);
            writer.Flush();
        }
    }

    /// <summary>The checkout holding this tool (walking up from it, then from the current directory), or <paramref name="given"/>.</summary>
    private static string? SourceTree(string? given)
    {
        static bool IsTree(string? directory) => directory is not null && File.Exists(Path.Combine(directory, "RaftKv.sln"));
        if (!string.IsNullOrEmpty(given))
        {
            return IsTree(given) ? Path.GetFullPath(given) : null;
        }

        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                if (IsTree(directory.FullName))
                {
                    return directory.FullName;
                }
            }
        }

        return null;
    }
}
