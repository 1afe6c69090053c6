using RaftKv.Robustness.Checking;
using RaftKv.Robustness.Fuzzing;
using RaftKv.Robustness.Harness;

// jepsen.sh runs `run`; check-history.sh runs `check`; fuzz-api.sh runs `fuzz-api`.
switch (args.FirstOrDefault())
{
    case "check":
        return CheckCommand.Run(args[1..], Console.Out, Console.Error);
    case "run":
        RunOptions options;
        try
        {
            options = RunOptions.Parse(args[1..]);
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync($"jepsen: {e.Message}\n{RunOptions.Usage}");
            return 64;
        }

        var check = await new Runner(options, Console.Out).RunAsync();
        return Runner.ExitCode(check);
    case "fuzz-api":
        return await ApiFuzzCommand.RunAsync(args[1..], Console.Out, Console.Error);
    default:
        await Console.Error.WriteLineAsync("usage: RaftKv.Robustness run [options] | check HISTORY.jsonl | fuzz-api [--seed N] [--seconds S]");
        return 64;
}
