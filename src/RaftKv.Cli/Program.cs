using RaftKv.Cli;

return await RaftKvCli.RunAsync(args, new CliConsole(Console.Out, Console.Error, Console.OpenStandardInput()), Environment.GetEnvironmentVariable);
