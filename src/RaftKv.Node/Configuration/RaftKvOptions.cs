using System.ComponentModel.DataAnnotations;

namespace RaftKv.Node.Configuration;

/// <summary>
/// Node settings, bound from the <c>RaftKv</c> configuration section (appsettings, <c>RaftKv__*</c>
/// environment variables, or <c>--RaftKv:Key value</c> on the command line).
/// </summary>
public sealed class RaftKvOptions
{
    public const string Section = "RaftKv";

    /// <summary>This node's member id in the cluster file. Also <c>--node</c>.</summary>
    [Required(ErrorMessage = "RaftKv:NodeId is required (start the node with --node <id>).")]
    public string NodeId { get; set; } = "";

    /// <summary>The cluster file. Also <c>--cluster</c>.</summary>
    [Required]
    public string ClusterFile { get; set; } = "cluster.json";

    /// <summary>Where the Raft log and snapshots live; defaults to <c>data/&lt;NodeId&gt;</c>. Also <c>--data</c>.</summary>
    public string? DataDirectory { get; set; }

    /// <summary>
    /// Start with an empty data directory as a member to be added to a running cluster (<c>POST /v1/members</c>,
    /// <c>etcdctl member add</c>), as etcd's <c>--initial-cluster-state existing</c>: the node waits for the
    /// leader to bring it in, instead of taking the cluster file's members as the voters. Ignored once the
    /// data directory holds a list of voters. Also <c>--join</c>.
    /// </summary>
    public bool Join { get; set; }

    /// <summary>Serve Scalar's interactive page for the OpenAPI document at <c>/scalar</c> (the document itself, <c>/openapi/v1.json</c>, is always served).</summary>
    public bool ApiReference { get; set; }

    /// <summary>The largest value a PUT may carry, in bytes.</summary>
    [Range(1, 64 * 1024 * 1024)]
    public int MaxValueBytes { get; set; } = 1024 * 1024;

    /// <summary>How long a write or a linearizable read may take before the node gives up on it.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a client's <c>Idempotency-Key</c> is remembered after its write, measured on the
    /// leaders' clocks: a retry within it is answered with the first outcome, a later one is a new
    /// write. The leader writes it into every log entry, so all replicas age keys alike.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "30.00:00:00")]
    public TimeSpan IdempotencyRetention { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// How many client idempotency keys the cluster remembers at most (written into every log entry,
    /// like the retention): a write with a new key past it answers 503, and no key is forgotten early.
    /// </summary>
    [Range(1, 100_000_000)]
    public int IdempotencyCapacity { get; set; } = 1_000_000;

    /// <summary>Writes waiting to be proposed, on this node, past which a write is refused with 503 (not applied).</summary>
    [Range(1, 10_000_000)]
    public int MaxQueuedWrites { get; set; } = 20_000;

    /// <summary>Bytes of values waiting to be proposed, on this node, past which a write is refused with 503 (not applied).</summary>
    [Range(1024 * 1024, long.MaxValue)]
    public long MaxQueuedWriteBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>Linearizable reads waiting for a read index, on this node, past which a read is refused with 503.</summary>
    [Range(1, 10_000_000)]
    public int MaxPendingReads { get; set; } = 20_000;

    /// <summary>
    /// Bytes of request bodies being received at once, on this node, past which a request whose body
    /// is larger than <see cref="Api.RequestBody.SmallBodyBytes"/> is refused with 503.
    /// </summary>
    [Range(1024 * 1024, long.MaxValue)]
    public long MaxRequestBodyBytesInFlight { get; set; } = 256L * 1024 * 1024;

    /// <summary>Open client connections, per listening address, past which new ones are closed at once.</summary>
    [Range(100, 10_000_000)]
    public int MaxConnections { get; set; } = 10_000;

    /// <summary>
    /// The slowest a request body may arrive, in bytes per second after a 5 s grace period: a slower
    /// client is disconnected, so that it cannot hold a connection and its buffer for long.
    /// </summary>
    [Range(1, 1024 * 1024 * 1024)]
    public int MinRequestBodyBytesPerSecond { get; set; } = 16 * 1024;

    /// <summary>How long a client may take to send a request's headers.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan RequestHeadersTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a request waits for a leader to be known before it is refused with 503.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan LeaderWaitTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// On SIGTERM, how long keep-alive HTTP/1.1 connections stay open for their clients' next request,
    /// answered with <c>Connection: close</c>, before the idle ones are closed: closing an idle
    /// connection races with a request its client may be sending on it, which then has no answer.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan ShutdownConnectionGrace { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long the leader gives a follower to receive, save and load a snapshot, per try: long
    /// enough for the largest state over the slowest link. Other Raft messages time out after the
    /// election timeout.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan SnapshotTransferTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The shortest election timeout, in milliseconds; the longest is twice this.</summary>
    [Range(50, 60_000)]
    public int ElectionTimeoutMs { get; set; } = 1000;

    /// <summary>Take a snapshot after this many log entries.</summary>
    [Range(100, long.MaxValue)]
    public long SnapshotEntryInterval { get; set; } = 20_000;

    /// <summary>Take a snapshot after this many bytes of commands, whichever comes first.</summary>
    [Range(1024 * 1024, long.MaxValue)]
    public long SnapshotByteInterval { get; set; } = 256L * 1024 * 1024;

    /// <summary>
    /// How many entries the log keeps behind a snapshot (etcd's SnapshotCatchUpEntries): a written
    /// snapshot is handed to the log, which then drops the entries it covers, only once this many more
    /// are applied, so that a follower that lags briefly catches up from the log instead of receiving
    /// the whole state.
    /// </summary>
    [Range(0, long.MaxValue)]
    public long SnapshotCatchUpEntries { get; set; } = 5_000;

    /// <summary>Automatic compaction keeps at least this many revisions of history; 0 turns this mode off.</summary>
    [Range(0, long.MaxValue)]
    public long HistoryRetentionRevisions { get; set; } = 10_000;

    /// <summary>Automatic compaction keeps at least the history of this long a time; zero turns this mode off.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "3650.00:00:00")]
    public TimeSpan HistoryRetentionPeriod { get; set; } = TimeSpan.Zero;

    /// <summary>How often the leader considers an automatic compaction.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "1.00:00:00")]
    public TimeSpan HistoryCompactionInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>A watch that sent nothing for this long sends a progress event with the revision it reached.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "01:00:00")]
    public TimeSpan WatchProgressInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Below this much free space on the data volume the node takes no more writes (507), does not
    /// campaign, and steps down if it leads; below half of it, it also stops appending what the leader
    /// replicates. The log is written through memory-mapped files, where a full disk is a crash
    /// (SIGBUS), not an error, so the node stops well before the disk is full. 0 turns the check off.
    /// </summary>
    [Range(0, long.MaxValue)]
    public long MinFreeDiskBytes { get; set; } = 128L * 1024 * 1024;

    /// <summary>The size of one write-ahead log file. Fixed when the log is created.</summary>
    [Range(64 * 1024, 1024 * 1024 * 1024)]
    public int LogChunkBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>
    /// Where this node listens for cluster traffic, when that differs from the peer URL the other
    /// members use (behind a proxy, for example). Defaults to the member's peer URL.
    /// </summary>
    public Uri? PeerListenUrl { get; set; }

    /// <summary>
    /// An extra plain-HTTP address that serves only <c>/metrics</c> and <c>/health</c>, as etcd's
    /// <c>--listen-metrics-urls</c>: for a scraper kept off the client and peer networks. The client
    /// port serves <c>/metrics</c> either way.
    /// </summary>
    public Uri? MetricsUrl { get; set; }

    /// <summary>How the node writes its logs to the console: <c>text</c>, or <c>json</c> (one object per line) for log shippers. Also <c>--log-format</c>.</summary>
    [RegularExpression("^(text|json)$", ErrorMessage = "must be text or json.")]
    public string LogFormat { get; set; } = "text";

    /// <summary>A local IP address that this node's outgoing cluster connections come from (default: any).</summary>
    public string? PeerSourceAddress { get; set; }

    /// <summary>
    /// Mutual TLS between members (<c>RaftKv:PeerTls:CertificatePath</c>, <c>KeyPath</c>, <c>CaPath</c>):
    /// when set, every peer URL is https and only members presenting a certificate from the CA reach the peer endpoints.
    /// </summary>
    public PeerTlsOptions? PeerTls { get; set; }

    /// <summary>
    /// TLS on the client URL and the gRPC port (<c>RaftKv:ClientTls:CertificatePath</c>, <c>KeyPath</c>, and
    /// optionally <c>CaPath</c>): needed, and used, when those URLs are https. With <c>CaPath</c>, every client
    /// must present a certificate from that CA, and its common name authenticates it as that user.
    /// </summary>
    public ClientTlsOptions? ClientTls { get; set; }

    /// <summary>How long a token from <c>POST /v1/auth/token</c> or etcd's <c>Authenticate</c> is accepted (etcd's simple tokens: 5 minutes).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan AuthTokenTtl { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>PBKDF2-SHA256 iterations for a new password (OWASP's 2023 figure); a stored hash keeps the count it was made with.</summary>
    [Range(1000, 10_000_000)]
    public int PasswordHashIterations { get; set; } = 600_000;

    public string ResolveDataDirectory() => Path.GetFullPath(DataDirectory ?? Path.Combine("data", NodeId));
}
