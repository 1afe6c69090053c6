using RaftKv.LoadGen;

var root = LoadCommand.Create(LoadRun.RunAsync);
root.Subcommands.Add(ChartCommand.Create());
var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    foreach (var error in parsed.Errors)
    {
        await Console.Error.WriteLineAsync($"loadgen: {error.Message}");
    }

    await Console.Error.WriteLineAsync("Run with --help for the options.");
    return 2;
}

return await parsed.InvokeAsync();
