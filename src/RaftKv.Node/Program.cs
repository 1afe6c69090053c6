using RaftKv.Node;
using RaftKv.Node.Backup;
using RaftKv.Node.Configuration;
using RaftKv.Node.Raft;

if (args is [RestoreCommand.Name, .. var restoreArguments])
{
    return await RestoreCommand.RunAsync(restoreArguments);
}

try
{
    // appsettings.json sits beside the binary, wherever the node is started from.
    var arguments = NodeSetup.ExpandFlags(args);
    var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = arguments, ContentRootPath = AppContext.BaseDirectory });
    builder.Configuration.AddCommandLine(arguments, NodeSetup.SwitchMappings);
    builder.AddRaftKvNode();

    await using var app = builder.Build();
    var fatal = app.Services.GetRequiredService<FatalStop>();
    if (!await app.UseRaftKvNodeAsync())
    {
        // Stopped while restoring its state; FatalStop said why.
        return fatal.ExitCode;
    }

    try
    {
        await app.RunAsync();
    }
    catch (OperationCanceledException) when (fatal.ExitCode != 0)
    {
        // Stopped while still starting: the replayed log held an entry this version cannot apply.
    }

    return fatal.ExitCode;
}
catch (NodeStartupException e)
{
    await Console.Error.WriteLineAsync($"raftkv: {e.Message}");
    return e.ExitCode;
}
catch (NodeConfigurationException e)
{
    await Console.Error.WriteLineAsync($"raftkv: configuration error: {e.Message}");
    return 2;
}
