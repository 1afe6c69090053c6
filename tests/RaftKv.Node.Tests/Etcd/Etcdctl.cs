using System.Diagnostics;
using System.Text;

namespace RaftKv.Node.Tests.Etcd;

/// <summary>Runs etcd's own command-line client (Debian's <c>etcd-client</c>; <c>.ci/run</c> installs it).</summary>
internal sealed class Etcdctl(string endpoints)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public async Task<string> RunAsync(string arguments, string? input = null)
    {
        var (exitCode, output, error) = await TryRunAsync(arguments, input);
        Assert.True(exitCode == 0, $"etcdctl {arguments} exited with {exitCode}: {error}{output}");
        return output;
    }

    public async Task<(int ExitCode, string Output, string Error)> TryRunAsync(string arguments, string? input = null)
    {
        using var process = Start(arguments);
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(input);
        }

        process.StandardInput.Close();
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
            throw new TimeoutException($"etcdctl {arguments} did not finish within {Timeout.TotalSeconds} s.");
        }

        return (process.ExitCode, await output, await error);
    }

    /// <summary>Starts a long-running command (a watch, a held lock) whose output the caller reads line by line; disposing kills it.</summary>
    public Process Start(string arguments)
    {
        var start = new ProcessStartInfo("etcdctl", $"--endpoints={endpoints} --command-timeout=30s {arguments}")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
        };
        start.Environment["ETCDCTL_API"] = "3";
        try
        {
            return Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("etcdctl is not installed: install Debian's etcd-client (apt-get install etcd-client), as .ci/run does.", e);
        }
    }

    /// <summary>Reads lines from a running command until <paramref name="count"/> have come.</summary>
    public static async Task<List<string>> ReadLinesAsync(Process process, int count)
    {
        var lines = new List<string>();
        using var timeout = new CancellationTokenSource(Timeout);
        while (lines.Count < count)
        {
            var line = await process.StandardOutput.ReadLineAsync(timeout.Token) ?? throw new InvalidOperationException($"etcdctl ended after {lines.Count} lines: {string.Join('|', lines)} {await process.StandardError.ReadToEndAsync()}");
            lines.Add(line);
        }

        return lines;
    }
}
