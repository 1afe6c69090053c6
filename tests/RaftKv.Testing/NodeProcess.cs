using System.Diagnostics;

namespace RaftKv.Testing;

/// <summary>One node process, its log file, and an HTTP client for its API.</summary>
/// <param name="grpcUrl">Where it serves the etcd v3 gRPC API.</param>
/// <param name="handler">The client's handler, for https URLs: one that trusts the node's CA, and may present a client certificate.</param>
public sealed class NodeProcess(string id, Uri url, Uri grpcUrl, string directory, HttpMessageHandler? handler = null) : IDisposable
{
    private Process? process;
    private StreamWriter? log;

    public string Id => id;

    public Uri Url => url;

    public Uri GrpcUrl => grpcUrl;

    public string LogFile => Path.Combine(directory, "node.log");

    public HttpClient Client { get; } = new(handler ?? new SocketsHttpHandler()) { BaseAddress = url, Timeout = TimeSpan.FromSeconds(30) };

    public bool IsRunning => process is { HasExited: false };

    /// <summary>The running process's id, for reading its memory from /proc.</summary>
    public int ProcessId => process?.Id ?? throw new InvalidOperationException($"Node {id} is not running.");

    /// <summary>Stopped with SIGSTOP: alive, but answering nothing.</summary>
    public bool IsPaused { get; private set; }

    /// <param name="launcher">A program and arguments that run the node, such as <c>ip netns exec NAME</c>; it must exec the node, so that the process is the node's.</param>
    public void Start(string dll, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null, IReadOnlyList<string>? launcher = null)
    {
        if (IsRunning)
        {
            throw new InvalidOperationException($"{id} is already running.");
        }

        Directory.CreateDirectory(directory);
        var start = new ProcessStartInfo(launcher is { Count: > 0 } ? launcher[0] : "dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = directory };
        if (launcher is { Count: > 0 })
        {
            foreach (var argument in launcher.Skip(1))
            {
                start.ArgumentList.Add(argument);
            }

            start.ArgumentList.Add("dotnet");
        }

        start.ArgumentList.Add(dll);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        log?.Dispose();
        log = new StreamWriter(LogFile, append: true) { AutoFlush = true };
        var writer = log;
        process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Write(writer, e.Data);
        process.ErrorDataReceived += (_, e) => Write(writer, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>SIGKILL: no shutdown, no flush; exactly a crash.</summary>
    public void Kill()
    {
        if (process is { HasExited: false })
        {
            Signal("CONT");
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
    }

    /// <summary>Waits for the process to exit by itself; returns its exit code.</summary>
    public Task<int> WaitForExitAsync(TimeSpan timeout)
        => WaitForExitAsync(process ?? throw new InvalidOperationException($"{id} was never started."), timeout, "by itself");

    /// <summary>SIGTERM, the way an orchestrator stops a node, and waits for it to exit; returns its exit code.</summary>
    public Task<int> StopAsync(TimeSpan timeout)
    {
        if (process is not { HasExited: false } running)
        {
            throw new InvalidOperationException($"{id} is not running.");
        }

        Signal("TERM");
        return WaitForExitAsync(running, timeout, "after SIGTERM");
    }

    private async Task<int> WaitForExitAsync(Process running, TimeSpan timeout, string after)
    {
        using var patience = new CancellationTokenSource(timeout);
        try
        {
            await running.WaitForExitAsync(patience.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{id} did not exit {after} within {timeout.TotalSeconds:0} s.");
        }

        return running.ExitCode;
    }

    public void Signal(string signal)
    {
        if (process is { HasExited: false })
        {
            using var kill = Process.Start("kill", ["-" + signal, process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            kill.WaitForExit();
            IsPaused = signal == "STOP";
        }
    }

    public void Dispose()
    {
        Kill();
        process?.Dispose();
        Client.Dispose();
        log?.Dispose();
    }

    private static void Write(StreamWriter writer, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (writer)
        {
            try
            {
                writer.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
                // The node is being torn down; its last lines do not matter.
            }
        }
    }
}
