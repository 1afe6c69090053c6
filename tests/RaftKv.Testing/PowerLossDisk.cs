using System.Diagnostics;
using System.Globalization;

namespace RaftKv.Testing;

/// <summary>
/// A folder on powerloss-fs (<c>tests/PowerLossFs</c>): a FUSE file system that can lose every
/// write not yet fsynced, as a power cut would, which kill -9 cannot (the page cache survives it).
/// Files live in a backing folder; <see cref="CutPower"/> puts each file back to what it held at its
/// last sync, and <see cref="MountAsync"/> on the same backing folder is the power coming back.
/// </summary>
public sealed class PowerLossDisk : IAsyncDisposable
{
    private readonly Process process;
    private readonly string mountPoint;
    private readonly string controlFile;

    private PowerLossDisk(Process process, string mountPoint)
    {
        this.process = process;
        this.mountPoint = mountPoint;
        controlFile = Path.Combine(mountPoint, ".powerloss");
    }

    /// <summary>The file system program, built by <c>make -C tests/PowerLossFs</c> (scripts/test.sh does it).</summary>
    public static string Program => Path.Combine(RepositoryRoot.Path, "tests", "PowerLossFs", "powerloss-fs");

    /// <summary>Why these disks cannot be used here, or null if they can.</summary>
    public static string? Unavailable =>
        !File.Exists("/dev/fuse") ? "/dev/fuse is missing"
        : !OnPath("fusermount3") ? "fusermount3 is missing (Debian: apt-get install fuse3)"
        : !File.Exists(Program) ? $"{Program} is not built (Debian: apt-get install libfuse3-dev; then make -C tests/PowerLossFs)"
        : null;

    /// <summary>Mounts <paramref name="backing"/> at <paramref name="mountPoint"/>, creating both, and waits until the mount is live.</summary>
    /// <param name="fsyncDelay">How long each fsync takes to become durable: a slow disk.</param>
    public static async Task<PowerLossDisk> MountAsync(string backing, string mountPoint, TimeSpan fsyncDelay = default)
    {
        Directory.CreateDirectory(backing);
        Directory.CreateDirectory(mountPoint);
        var options = $"fsync_delay_ms={(long)fsyncDelay.TotalMilliseconds},max_threads=64" + (Environment.GetEnvironmentVariable("POWERLOSS_TRACE") == "1" ? ",trace" : "");
        var start = new ProcessStartInfo(Program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { backing, mountPoint, "-f", "-o", options })
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"{Program} did not start.");
        var disk = new PowerLossDisk(process, mountPoint);

        // Beside the backing folder: what the file system printed (with POWERLOSS_TRACE=1, every write and fsync).
        var log = new StreamWriter(backing.TrimEnd('/') + ".log", append: true) { AutoFlush = true };
        process.OutputDataReceived += (_, e) => Write(log, e.Data);
        process.ErrorDataReceived += (_, e) => Write(log, e.Data);
        process.Exited += (_, _) => { lock (log) { log.Dispose(); } };
        process.EnableRaisingEvents = true;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await TestCluster.WaitUntilAsync($"{mountPoint} to be mounted", () => Task.FromResult(process.HasExited
                ? throw new InvalidOperationException($"{Program} exited with {process.ExitCode} before mounting {mountPoint}.")
                : IsMounted(mountPoint)), TimeSpan.FromSeconds(20));
            return disk;
        }
        catch
        {
            await disk.DisposeAsync();
            throw;
        }
    }

    /// <summary>From now on, each fsync waits this long before it makes anything durable.</summary>
    public void SetFsyncDelay(TimeSpan delay) => Command($"fsync-delay-ms {(long)delay.TotalMilliseconds}");

    /// <summary>
    /// The power cut: every write since its file's last sync is undone in the backing folder, and the
    /// mount fails every later operation. Stop the processes using it first; then <see cref="DisposeAsync"/>.
    /// </summary>
    public void CutPower() => Command("cut");

    /// <summary>What the file system counts: unsynced and dropped undo records and bytes, syncs.</summary>
    public IReadOnlyDictionary<string, long> Counters()
        => File.ReadAllLines(controlFile)
            .Select(line => line.Split(' '))
            .ToDictionary(parts => parts[0], parts => long.Parse(parts[1], CultureInfo.InvariantCulture));

    /// <summary>Unmounts (lazily, so a dead mount cannot block) and waits for the file system to exit.</summary>
    public async ValueTask DisposeAsync()
    {
        if (IsMounted(mountPoint))
        {
            using var unmount = System.Diagnostics.Process.Start("fusermount3", ["-u", "-z", mountPoint]);
            await unmount.WaitForExitAsync();
        }

        using var exited = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            await process.WaitForExitAsync(exited.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
        }

        process.Dispose();
    }

    private void Command(string command)
    {
        // One write per command; the file system acts on it before the write returns.
        using var control = new FileStream(controlFile, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, bufferSize: 0);
        control.Write(System.Text.Encoding.ASCII.GetBytes(command));
    }

    private static void Write(StreamWriter log, string? line)
    {
        lock (log)
        {
            try
            {
                if (line is not null)
                {
                    log.WriteLine(line);
                }
            }
            catch (ObjectDisposedException)
            {
                // The file system has exited.
            }
        }
    }

    private static bool IsMounted(string mountPoint)
    {
        var full = Path.GetFullPath(mountPoint).TrimEnd('/');
        return File.ReadLines("/proc/self/mountinfo").Any(line => line.Split(' ')[4] == full);
    }

    private static bool OnPath(string program)
        => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(directory => File.Exists(Path.Combine(directory, program)));
}
