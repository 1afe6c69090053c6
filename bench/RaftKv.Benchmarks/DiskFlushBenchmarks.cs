using BenchmarkDotNet.Attributes;
using DotNext.IO.Log;
using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Win32.SafeHandles;
using RaftKv.Node.Raft;
using RaftKv.Store.Commands;

namespace RaftKv.Benchmarks;

/// <summary>
/// What making one write durable costs on this disk: the floor (one 4 KiB synchronous write) against
/// a follower's append of one log entry to DotNext's write-ahead log, flushed before it is
/// acknowledged, as <see cref="DurableWriteAheadLog"/> does for every AppendEntries it receives, with each of
/// the log's ways of keeping its pages: memory-mapped (DotNext's default), private memory written back with
/// <c>O_SYNC</c> writes, and private memory written back with <c>O_DSYNC|O_DIRECT</c> writes.
/// </summary>
[MemoryDiagnoser]
public class DiskFlushBenchmarks : IAsyncDisposable
{
    private const long FileBytes = 64L * 1024 * 1024;

    private readonly byte[] block = new byte[4096];
    private DirectoryInfo directory = null!;
    private SafeFileHandle dsyncFile = null!;
    private long offset;
    private DurableWriteAheadLog log = null!;
    private KvStateMachine stateMachine = null!;
    private byte[] payload = null!;

    public enum LogPages
    {
        SharedMemory,
        PrivateMemory,
        PrivateMemoryNoBuffering,
    }

    [Params(LogPages.SharedMemory, LogPages.PrivateMemory, LogPages.PrivateMemoryNoBuffering)]
    public LogPages Pages { get; set; }

    [GlobalSetup]
    public async Task SetUpAsync()
    {
        directory = Directory.CreateTempSubdirectory("raftkv-bench-flush-");

        // O_DSYNC: each write returns once its data is on disk, like write + fdatasync. Preallocated,
        // so that no write extends the file and the flush stays a data-only one.
        dsyncFile = File.OpenHandle(Path.Combine(directory.FullName, "dsync"), FileMode.Create, FileAccess.Write, FileShare.None, FileOptions.WriteThrough, FileBytes);
        Random.Shared.NextBytes(block);

        stateMachine = new KvStateMachine(directory.CreateSubdirectory("snapshots"), new SnapshotPolicy(1_000_000, long.MaxValue, 0), new FatalStop(new ApplicationLifetime(NullLogger<ApplicationLifetime>.Instance), NullLogger<FatalStop>.Instance), BenchMetrics.Create(), NullLogger<KvStateMachine>.Instance);
        log = new DurableWriteAheadLog(
            new WriteAheadLog.Options
            {
                Location = Path.Combine(directory.FullName, "wal"),
                ChunkSize = 16 * 1024 * 1024,
                HashAlgorithm = WriteAheadLog.IntegrityHashAlgorithm.XxHash3,
                MemoryManagement = Pages == LogPages.SharedMemory ? WriteAheadLog.MemoryManagementStrategy.SharedMemory : WriteAheadLog.MemoryManagementStrategy.PrivateMemory,
                NoBuffering = Pages == LogPages.PrivateMemoryNoBuffering,
            },
            stateMachine,
            new DiskSpace(directory.FullName, minFreeBytes: 0));
        await log.InitializeAsync();

        // One put as the node encodes it: a 16-byte key, a 100-byte value and a request id.
        payload = CommandCodec.Encode(WriteCommand.Put("0123456789abcdef0123456789abcdef00", "bench/0000000001", new byte[100]));
    }

    [GlobalCleanup]
    public async Task CleanUpAsync()
    {
        await DisposeAsync();
        directory.Delete(recursive: true);
    }

    public async ValueTask DisposeAsync()
    {
        dsyncFile.Dispose();
        await log.DisposeAsync();
        await stateMachine.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    [Benchmark(Baseline = true)]
    public void DsyncWrite4K()
    {
        RandomAccess.Write(dsyncFile, block, offset);
        offset = (offset + block.Length) % FileBytes;
    }

    [Benchmark]
    public async Task FollowerAppendAndFlush()
    {
        var entries = new LogEntryProducer<BinaryLogEntry>(new BinaryLogEntry { Term = 1, Content = payload });
        await ((IAuditTrail<IRaftLogEntry>)log).AppendAsync(entries, log.LastEntryIndex + 1, skipCommitted: false, CancellationToken.None);
    }
}
