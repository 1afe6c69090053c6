namespace RaftKv.Cli;

/// <summary>Where the tool reads and writes: the process's console, or a test's buffers.</summary>
/// <param name="Out">Results.</param>
/// <param name="Error">Errors and warnings.</param>
/// <param name="In">Standard input, for values and transactions given as <c>-</c> or left out.</param>
internal sealed record CliConsole(TextWriter Out, TextWriter Error, Stream In);
