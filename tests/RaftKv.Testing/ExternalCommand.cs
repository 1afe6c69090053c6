using System.Diagnostics;

namespace RaftKv.Testing;

/// <summary>Runs a program (mount, ip, the node's own commands) to completion: its exit code, its output and its errors.</summary>
public static class ExternalCommand
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <returns>-1 with the reason as the error when the program cannot be started or does not finish.</returns>
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        try
        {
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(Timeout);
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                return (-1, "", $"{program} did not finish within {Timeout.TotalSeconds} s");
            }

            return (process.ExitCode, await output, await error);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, "", e.Message);
        }
    }
}
