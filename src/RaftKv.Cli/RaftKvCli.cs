using System.CommandLine;
using RaftKv.Cli.Commands;
using RaftKv.Client;

namespace RaftKv.Cli;

/// <summary><c>raftkv</c>: the command line over <see cref="RaftKvClient"/>. Each command lives in <c>Commands/</c>.</summary>
internal static class RaftKvCli
{
    public static async Task<int> RunAsync(string[] args, CliConsole console, Func<string, string?> environment, CancellationToken token = default)
    {
        var runtime = new CliRuntime(new GlobalOptions(), console, environment);
        var root = new RootCommand("raftkv: reads, writes, watches, leases and operations on a RaftKv cluster.");
        foreach (var option in runtime.Options.All)
        {
            root.Options.Add(option);
        }

        foreach (var command in KvCommands.Build(runtime).Append(WatchCommand.Build(runtime)).Concat(LeaseCommands.Build(runtime)).Concat(ClusterCommands.Build(runtime)).Concat(ToolCommands.Build(runtime)))
        {
            root.Subcommands.Add(command);
        }

        var parsed = root.Parse(args);
        var configuration = new InvocationConfiguration { Output = console.Out, Error = console.Error };
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors)
            {
                await console.Error.WriteLineAsync($"raftkv: {error.Message}");
            }

            await console.Error.WriteLineAsync("Run 'raftkv --help' for usage.");
            return ExitCodes.Usage;
        }

        return await parsed.InvokeAsync(configuration, token);
    }
}

/// <summary>What every command's action needs: the shared options, the console, the environment.</summary>
internal sealed class CliRuntime(GlobalOptions options, CliConsole console, Func<string, string?> environment)
{
    public GlobalOptions Options => options;

    public CliConsole Console => console;

    public Func<string, string?> Environment => environment;

    /// <summary>Runs <paramref name="action"/> with a connection, turning a bad command line into exit 64 and a failed listing into exit 2.</summary>
    public async Task<int> RunAsync(ParseResult parsed, Func<Connection, Printer, CancellationToken, Task<int>> action, CancellationToken token)
    {
        try
        {
            using var connection = Connection.Open(parsed, options, console, environment);
            return await action(connection, new Printer(console, connection.Json), token);
        }
        catch (UsageException e)
        {
            await console.Error.WriteLineAsync($"raftkv: {e.Message}");
            return ExitCodes.Usage;
        }
        catch (RangeFailedException e)
        {
            return new Printer(console, parsed.GetValue(options.Output) == "json").Failure(ExitCodes.NotApplied, "read failed", e.Result.StatusCode, e.Result.Detail);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Ctrl-C: a watch or a keep-alive loop ends as asked.
            return ExitCodes.Success;
        }
    }

    /// <summary>A command whose action runs with a connection.</summary>
    public Command Command(string name, string description, Func<ParseResult, Connection, Printer, CancellationToken, Task<int>> action, params Symbol[] symbols)
    {
        var command = new Command(name, description);
        foreach (var symbol in symbols)
        {
            switch (symbol)
            {
                case Argument argument:
                    command.Arguments.Add(argument);
                    break;
                case Option option:
                    command.Options.Add(option);
                    break;
            }
        }

        command.SetAction((parsed, token) => RunAsync(parsed, (connection, printer, cancel) => action(parsed, connection, printer, cancel), token));
        return command;
    }

    /// <summary>Reads all of <c>-</c> (standard input) or a file.</summary>
    /// <exception cref="UsageException">The file cannot be read.</exception>
    public async Task<byte[]> ReadInputAsync(string? path, CancellationToken token)
    {
        if (path is null or "-")
        {
            using var buffer = new MemoryStream();
            await console.In.CopyToAsync(buffer, token);
            return buffer.ToArray();
        }

        try
        {
            return await File.ReadAllBytesAsync(path, token);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"'{path}' cannot be read: {e.Message}");
        }
    }
}
