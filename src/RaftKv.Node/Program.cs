using RaftKv.Node;
using RaftKv.Node.Configuration;

try
{
    var builder = WebApplication.CreateBuilder(args);
    builder.Configuration.AddCommandLine(args, NodeSetup.SwitchMappings);
    builder.AddRaftKvNode();

    await using var app = builder.Build();
    await app.UseRaftKvNodeAsync();
    await app.RunAsync();
    return 0;
}
catch (NodeConfigurationException e)
{
    await Console.Error.WriteLineAsync($"raftkv: configuration error: {e.Message}");
    return 2;
}
