using System.Net;
using System.Net.Sockets;

namespace RaftKv.Testing;

/// <summary>
/// Loopback ports for the nodes tests start, each handed out once. Asking the kernel for port 0 and
/// releasing it does not do: it hands the same port out again (two members of one cluster got one
/// address), and an outgoing connection of any process may take it before the node binds it. So ports
/// come from below the kernel's ephemeral range, where no outgoing connection goes, in blocks: each test
/// process locks a block of its own with a lock file, so that test assemblies running side by side
/// never pick the same port.
/// </summary>
public static class LoopbackPorts
{
    private const int BlockSize = 200;
    private const int Blocks = 50;

    private static readonly Lock Gate = new();
    private static readonly List<FileStream> LockedBlocks = [];
    private static int next;
    private static int end;

    /// <exception cref="InvalidOperationException">Every block is locked by other processes or used up.</exception>
    public static int Next()
    {
        lock (Gate)
        {
            while (true)
            {
                if (next == end)
                {
                    LockNextBlock();
                }

                var port = next++;
                if (IsFree(port))
                {
                    return port;
                }
            }
        }
    }

    private static void LockNextBlock()
    {
        var lowest = EphemeralRangeStart() - (Blocks * BlockSize);
        var directory = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "raftkv-test-ports"));
        for (var block = LockedBlocks.Count == 0 ? 0 : BlockOf(end - 1, lowest) + 1; block < Blocks; block++)
        {
            try
            {
                // FileShare.None takes an exclusive flock on Unix; it goes with the process.
                LockedBlocks.Add(new FileStream(Path.Combine(directory.FullName, $"block-{block}.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
                next = lowest + (block * BlockSize);
                end = next + BlockSize;
                return;
            }
            catch (IOException)
            {
                // Another test process holds this block.
            }
        }

        throw new InvalidOperationException($"No free block of test ports under {lowest + (Blocks * BlockSize)}: other test processes hold them all.");
    }

    private static int BlockOf(int port, int lowest) => (port - lowest) / BlockSize;

    /// <summary>Whether nothing else (an etcd, a local cluster) listens there now.</summary>
    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>The first port the kernel hands out for outgoing connections (32768 unless configured).</summary>
    private static int EphemeralRangeStart()
    {
        const string Range = "/proc/sys/net/ipv4/ip_local_port_range";
        return File.Exists(Range) && int.TryParse(File.ReadAllText(Range).Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries)[0], out var start)
            ? start
            : 32768;
    }
}
