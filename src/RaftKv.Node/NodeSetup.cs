using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Net;
using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Net.Cluster.Consensus.Raft.Http;
using DotNext.Net.Cluster.Consensus.Raft.Membership;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using RaftKv.Node.Api;
using RaftKv.Node.Auth;
using RaftKv.Node.Cluster;
using RaftKv.Node.Configuration;
using RaftKv.Node.Etcd;
using RaftKv.Node.Health;
using RaftKv.Node.Leases;
using RaftKv.Node.Metrics;
using RaftKv.Node.Raft;
using RaftKv.Node.Security;
using RaftKv.Node.Shutdown;
using RaftKv.Node.Watch;
using RaftKv.Node.WebConsole;

namespace RaftKv.Node;

/// <summary>Wires a RaftKv node: configuration, the DotNext Raft cluster, and the HTTP endpoints.</summary>
public static partial class NodeSetup
{
    /// <summary>Command-line switches that are shorthands for configuration keys.</summary>
    public static readonly Dictionary<string, string> SwitchMappings = new(StringComparer.Ordinal)
    {
        ["--node"] = "RaftKv:NodeId",
        ["--cluster"] = "RaftKv:ClusterFile",
        ["--data"] = "RaftKv:DataDirectory",
        ["--join"] = "RaftKv:Join",
        ["--log-format"] = "RaftKv:LogFormat",
    };

    /// <summary>The switches that may stand alone, meaning true.</summary>
    private static readonly string[] Flags = ["--join"];

    /// <summary>The command line with every standalone flag given its value, as the configuration's command-line source needs.</summary>
    public static string[] ExpandFlags(string[] args)
    {
        var expanded = new List<string>(args.Length + 1);
        for (var i = 0; i < args.Length; i++)
        {
            expanded.Add(args[i]);
            var next = i + 1 < args.Length ? args[i + 1] : null;
            if (Flags.Contains(args[i], StringComparer.Ordinal) && next is not ("true" or "false"))
            {
                expanded.Add("true");
            }
        }

        return [.. expanded];
    }

    /// <exception cref="NodeConfigurationException">The configuration is invalid.</exception>
    public static void AddRaftKvNode(this WebApplicationBuilder builder)
    {
        var local = builder.Configuration.GetSection(RaftKvOptions.Section).Get<RaftKvOptions>() ?? new RaftKvOptions();
        var cluster = ClusterDefinition.Load(local.ClusterFile);
        var options = ApplySharedSettings(builder.Configuration, local, cluster.Settings);
        Validate(options);
        var self = cluster[options.NodeId];
        var dataDirectory = PrepareDataDirectory(options.ResolveDataDirectory());
        var peerListenUrl = options.PeerListenUrl ?? self.PeerUrl;
        var peerTrust = PeerTrust.Load(options.PeerTls, cluster);
        var peerHandler = PeerConnections.HandlerFactory(options, peerTrust);
        var clientTrust = ClientTrust.Load(options.ClientTls, self, peerListenUrl);
        var metricsUrl = CheckMetricsUrl(options.MetricsUrl, [self.Url, peerListenUrl, .. self.GrpcUrl is { } g ? [g] : Array.Empty<Uri>()]);
        if (options.LogFormat == "json")
        {
            builder.Logging.AddJsonConsole(json =>
            {
                json.UseUtcTimestamp = true;
                json.TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'";
            });
        }

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // Bodies are bounded where they are read: PUT values by RaftKv:MaxValueBytes, and Raft
            // messages by DotNext. A server-wide cap would turn a large AppendEntries into a failure.
            kestrel.Limits.MaxRequestBodySize = null;

            // A client cannot hold a connection, or memory, for long by being slow: see RequestBodies for the bytes in flight.
            kestrel.Limits.MaxRequestBufferSize = RequestBodies.ConnectionBufferBytes;
            kestrel.Limits.MaxConcurrentConnections = options.MaxConnections;
            kestrel.Limits.MaxConcurrentUpgradedConnections = options.MaxConnections;
            kestrel.Limits.RequestHeadersTimeout = options.RequestHeadersTimeout;
            kestrel.Limits.MinRequestBodyDataRate = new MinDataRate(options.MinRequestBodyBytesPerSecond, TimeSpan.FromSeconds(5));
            var sharedPort = self.Url.Port == peerListenUrl.Port;
            var clients = kestrel.ApplicationServices.GetRequiredService<ClientListeners>();
            foreach (var url in new[] { self.Url, peerListenUrl }.Distinct())
            {
                Listen(kestrel, url, HttpProtocols.Http1AndHttp2, url.Port == peerListenUrl.Port ? peerTrust : null, sharedPort, url.Port == peerListenUrl.Port ? null : clients, url == self.Url ? clientTrust : null);
            }

            if (self.GrpcUrl is { } grpcUrl)
            {
                // etcd's clients speak HTTP/2 without TLS from the first byte, which Kestrel serves only on a port that speaks nothing else.
                Listen(kestrel, grpcUrl, HttpProtocols.Http2, peerTrust: null, sharedPort: false, clients, clientTrust);
            }

            if (metricsUrl is not null)
            {
                Listen(kestrel, metricsUrl, HttpProtocols.Http1, peerTrust: null, sharedPort: false, clients: null, clientTrust: null);
            }
        });

        // Kestrel's socket transport, wrapped so that a draining node can close its client ports alone.
        HashSet<int> clientPorts = [self.Url.Port, .. self.GrpcUrl is { } grpc ? [grpc.Port] : Array.Empty<int>()];
        clientPorts.Remove(peerListenUrl.Port);
        builder.Services.RemoveAll<IConnectionListenerFactory>();
        builder.Services.AddSingleton(sp => new ClientListeners(
            new SocketTransportFactory(sp.GetRequiredService<IOptions<SocketTransportOptions>>(), sp.GetRequiredService<ILoggerFactory>()), clientPorts));
        builder.Services.AddSingleton<IConnectionListenerFactory>(sp => sp.GetRequiredService<ClientListeners>());
        builder.Services.AddSingleton<GracefulShutdown>();
        builder.Services.AddSingleton<IHostLifetime>(sp => sp.GetRequiredService<GracefulShutdown>());
        builder.Services.AddSingleton(Options.Create(options));
        builder.Services.AddSingleton(new PeerAccess(requiresMembers: peerTrust is not null));
        if (peerTrust is not null)
        {
            builder.Services.AddSingleton(peerTrust);
        }

        if (clientTrust is not null)
        {
            builder.Services.AddSingleton(clientTrust);
        }

        builder.Services.AddSingleton<Authenticator>();
        builder.Services.AddRaftKvMetrics();
        builder.Services.AddSingleton(cluster);
        builder.Services.AddSingleton<MemberDirectory>();
        builder.Services.AddSingleton(sp => new ClusterView(sp, sp.GetRequiredService<MemberDirectory>(), self, peerListenUrl));
        builder.Services.AddSingleton<ClusterIdentity>();
        builder.Services.AddSingleton<MembershipChanges>();

        AddRaft(builder, options, cluster, self, dataDirectory);

        builder.Services.AddHttpClient(PeerConnections.RaftHandlerName)
            .ConfigurePrimaryHttpMessageHandler(peerHandler)
            .AddHttpMessageHandler(sp => new SnapshotTransferHandler(
                options.SnapshotTransferTimeout,
                sp.GetRequiredService<ILogger<SnapshotTransferHandler>>(),
                sp.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping));
        builder.Services.AddHttpClient<PeerClient>(PeerClient.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(peerHandler)
            .ConfigureHttpClient(http => http.Timeout = Timeout.InfiniteTimeSpan);
        builder.Services.AddSingleton<RequestBodies>();
        builder.Services.AddSingleton<IProposer, RaftProposer>();
        builder.Services.AddSingleton<WriteCoordinator>();
        builder.Services.AddSingleton<LinearizableReads>();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<MemberAdvertisements>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<MemberAdvertisements>());
        builder.Services.AddHostedService<HistoryCompactor>();
        builder.Services.AddHostedService<MembershipReconciler>();
        builder.Services.AddHostedService<MemberPublisher>();
        builder.Services.AddHostedService<RemovalWatch>();
        builder.Services.AddHostedService<DiskSpaceMonitor>();
        builder.Services.AddSingleton(sp => new WatchHub(sp.GetRequiredService<KvStateMachine>().Store, sp.GetRequiredService<TimeProvider>(), options.WatchProgressInterval, sp.GetRequiredService<NodeMetrics>()));
        builder.Services.AddSingleton<LeaseKeeper>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<LeaseKeeper>());
        builder.Services.AddEtcdApi(options.MaxValueBytes);
        builder.Services.AddProblemDetails();
        builder.Services.AddRaftKvOpenApi();
        builder.Services.AddHealthChecks().AddCheck<ReadinessCheck>("raft", tags: ["ready"]);
    }

    private static void AddRaft(WebApplicationBuilder builder, RaftKvOptions options, ClusterDefinition cluster, ClusterMember self, string dataDirectory)
    {
        var raftSettings = new Dictionary<string, string?>
        {
            ["publicEndPoint"] = self.PeerUrl.ToString(),
            // The voters come from the data directory (seeded from the cluster file, see SeedVotersAsync): none starts a cluster of its own.
            ["coldStart"] = "false",
            ["lowerElectionTimeout"] = options.ElectionTimeoutMs.ToString(CultureInfo.InvariantCulture),
            ["upperElectionTimeout"] = (2 * options.ElectionTimeoutMs).ToString(CultureInfo.InvariantCulture),
            // Heartbeats every tenth of the election timeout, as etcd does (100 ms of 1 s).
            ["heartbeatThreshold"] = "0.1",
            // Under load the leader starts a round as soon as the last one reached a majority, so a
            // follower slower than the majority (two cores shared by five nodes) queues one request per
            // round. Past this many, DotNext counts it unavailable; 16 was too few here.
            ["maxReplicationLag"] = "256",
        };
        var raftConfiguration = new ConfigurationBuilder().AddInMemoryCollection(raftSettings).Build();
        builder.Services.AddHostedService<JoinDelay>();
        builder.JoinCluster((_, _) => raftConfiguration);

        // Who votes, as DotNext's configuration entries last applied say: kept in the data directory, so that a change outlives a restart.
        builder.Services.UsePersistentConfigurationStorage(Path.Combine(dataDirectory, VotersFileName));
        builder.Services.AddSingleton<LeaderTerm>();
        builder.Services.ConfigureCluster<ClusterLifetime>();

        // In place of UseStateMachine<T>: the same registrations, with the log that flushes follower appends.
        var snapshotPolicy = new SnapshotPolicy(options.SnapshotEntryInterval, options.SnapshotByteInterval, options.SnapshotCatchUpEntries);
        builder.Services.AddSingleton<FatalStop>();
        builder.Services.AddSingleton(sp => new KvStateMachine(new DirectoryInfo(Path.Combine(dataDirectory, "snapshots")), snapshotPolicy, sp.GetRequiredService<FatalStop>(), sp.GetRequiredService<NodeMetrics>(), sp.GetRequiredService<ILogger<KvStateMachine>>()));
        builder.Services.AddSingleton<IStateMachine>(sp => sp.GetRequiredService<KvStateMachine>());
        var logOptions = new WriteAheadLog.Options
        {
            Location = Path.Combine(dataDirectory, "wal"),
            ChunkSize = options.LogChunkBytes,
            HashAlgorithm = WriteAheadLog.IntegrityHashAlgorithm.XxHash3,
        };
        builder.Services.AddSingleton(new DiskSpace(dataDirectory, options.MinFreeDiskBytes));
        builder.Services.AddSingleton<IPersistentState>(sp => new DurableWriteAheadLog(logOptions, sp.GetRequiredService<KvStateMachine>(), sp.GetRequiredService<DiskSpace>()));
        builder.Services.AddSingleton<DotNext.IO.Log.IAuditTrail<IRaftLogEntry>>(sp => sp.GetRequiredService<IPersistentState>());
    }

    /// <summary>DotNext's list of voters in the data directory.</summary>
    public const string VotersFileName = "voters";

    /// <summary>
    /// Writes the cluster file's members as the voters into a data directory that has no list of them: a new
    /// cluster's first start, or a data directory from before membership changes, whose members were the
    /// cluster file's. A member started to join (<see cref="RaftKvOptions.Join"/>) gets none, and waits for
    /// the leader's configuration. The list's version is 0, below every configuration entry, so any change
    /// in the log replaces it.
    /// </summary>
    private static async Task SeedVotersAsync(IServiceProvider services, CancellationToken token)
    {
        var storage = services.GetRequiredService<IClusterConfigurationStorage<UriEndPoint>>();
        var current = await storage.LoadConfigurationAsync(token);
        if (current.Members.Count > 0 || services.GetRequiredService<IOptions<RaftKvOptions>>().Value.Join)
        {
            return;
        }

        var seeded = services.GetRequiredService<ClusterDefinition>().Members.Aggregate(current, (configuration, member) => configuration.Add(new UriEndPoint(member.PeerUrl)));
        await storage.SaveConfigurationAsync(seeded, 0, token);
    }

    /// <summary>
    /// Restores the state from the snapshot and the log, then maps the Raft endpoint on the peer URL
    /// and the API on the client URL. Returns false if the node stopped itself meanwhile
    /// (<see cref="FatalStop"/> said why): a corrupt log, or a committed entry it cannot apply.
    /// </summary>
    /// <exception cref="NodeStartupException">The latest snapshot is unreadable, or the log cannot be opened.</exception>
    public static async Task<bool> UseRaftKvNodeAsync(this WebApplication app)
    {
        await SeedVotersAsync(app.Services, app.Lifetime.ApplicationStopping);

        // Before anything resolves the cluster: the log must start from the restored snapshot.
        try
        {
            await app.Services.GetRequiredService<KvStateMachine>().RestoreAsync(app.Lifetime.ApplicationStopping);
        }
        catch (InvalidDataException e)
        {
            throw new NodeStartupException(FatalStop.UnreadableSnapshotExitCode, $"the latest snapshot is unreadable: {e.Message}");
        }

        // Before the cluster starts (which does the same again): the log's checksums are checked and its
        // committed entries applied, so that a node that cannot use its log stops before serving anything.
        WriteAheadLog log;
        try
        {
            log = (WriteAheadLog)app.Services.GetRequiredService<IPersistentState>();
        }
        catch (DotNext.IO.Log.IntegrityException e)
        {
            // The log's own files fail its consistency checks as it opens them (its checkpoint, say).
            throw new NodeStartupException(FatalStop.CorruptLogExitCode, KvStateMachine.CorruptLogMessage(e.Message));
        }

        try
        {
            await log.InitializeAsync(app.Lifetime.ApplicationStopping);
        }
        catch (OperationCanceledException) when (app.Services.GetRequiredService<FatalStop>().ExitCode != 0)
        {
            return false;
        }

        var view = app.Services.GetRequiredService<ClusterView>();
        app.Services.GetService<PeerTrust>()?.Include(() => view.Directory.Members.Select(m => m.PeerUrl));
        var apiPort = view.Self.Url.Port;
        var peerPort = view.PeerListenUrl.Port;
        var access = app.Services.GetRequiredService<PeerAccess>();
        var shutdown = app.Services.GetRequiredService<GracefulShutdown>();
        ObserveNode(app.Services);
        app.UseRequestMetrics(apiPort == peerPort ? null : peerPort);

        // A draining node's answers close their HTTP/1.1 connections, so that each client's next request goes to another member.
        app.Use((context, next) =>
        {
            if (shutdown.IsDraining && HttpProtocol.IsHttp11(context.Request.Protocol) && context.Connection.LocalPort != peerPort)
            {
                context.Response.Headers.Connection = "close";
            }

            return next(context);
        });

        // With peer TLS, only a member's certificate reaches Raft or /internal, whichever port serves them.
        app.Use((context, next) => context.Connection.LocalPort == peerPort && !access.Allows(context)
            ? Problems.Forbidden("The peer endpoints serve only members of the cluster, which present a certificate from its CA.").ExecuteAsync(context)
            : next(context));
        app.UseWhen(context => context.Connection.LocalPort == peerPort, peer => peer.UseConsensusProtocolHandler());
        if (view.Self.GrpcUrl is { } grpcUrl)
        {
            // The gRPC port serves etcd's API and nothing else; the other ports never serve it.
            app.Use((context, next) =>
            {
                if (EtcdApi.IsEtcdPath(context.Request.Path) != (context.Connection.LocalPort == grpcUrl.Port))
                {
                    context.Response.StatusCode = StatusCodes.Status404NotFound;
                    return Task.CompletedTask;
                }

                return next(context);
            });
        }

        if (apiPort == peerPort)
        {
            if (!access.RequiresMembers)
            {
                LogSharedPeerPort(app.Logger, view.Self.Url);
            }
        }
        else
        {
            // The client port serves only the API and the peer port only cluster traffic, so a
            // fault injector can cut one without the other.
            app.Use((context, next) =>
            {
                var isInternal = context.Request.Path.StartsWithSegments(InternalApi.Prefix, StringComparison.Ordinal);
                var onPeerPort = context.Connection.LocalPort == peerPort;
                if (isInternal != onPeerPort)
                {
                    context.Response.StatusCode = StatusCodes.Status404NotFound;
                    return Task.CompletedTask;
                }

                return next(context);
            });
        }

        app.Use((context, next) =>
            context.Connection.LocalPort == apiPort && KeyPath.HasDotSegment(context.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget)
                ? Problems.BadRequest("The path has a '.' or '..' segment, which the server would remove before routing; keys are read as sent, so such a path is refused. A key may contain dots, but not as a whole segment.").ExecuteAsync(context)
                : next(context));

        app.MapRaftKvMetrics(app.Services.GetRequiredService<IOptions<RaftKvOptions>>().Value.MetricsUrl?.Port);
        app.UseStatusCodePages();
        app.UseWebConsole();
        app.UseRaftKvAuthentication(app.Services.GetService<ClientTrust>());
        app.MapInternalApi();
        app.MapKvApi();
        app.MapTxnApi();
        app.MapLeaseApi();
        app.MapWatchApi();
        app.MapStatusApi();
        app.MapSnapshotApi();
        app.MapAuthApi();
        app.MapMembersApi();
        app.MapEtcdApi();
        app.MapRaftKvOpenApi(app.Services.GetRequiredService<IOptions<RaftKvOptions>>().Value.ApiReference);
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready") });
        return true;
    }

    private static void ObserveNode(IServiceProvider services)
    {
        var view = services.GetRequiredService<ClusterView>();
        var writes = services.GetRequiredService<WriteCoordinator>();
        var store = services.GetRequiredService<KvStateMachine>().Store;
        var watches = services.GetRequiredService<WatchHub>();
        services.GetRequiredService<NodeMetrics>().Observe(new NodeGauges(
            QueuedWrites: () => writes.QueuedWrites,
            ApplyLag: () => Math.Max(0, view.Log.LastCommittedEntryIndex - view.Log.LastAppliedIndex),
            RememberedRequestIds: () => store.RememberedRequestIds.All,
            Watchers: () => watches.Watchers,
            Leases: () => store.View.Leases.Count));
    }

    /// <summary>The metrics URL, if set: plain HTTP, on a port of its own.</summary>
    /// <exception cref="NodeConfigurationException">It is not plain HTTP, or its port serves something else.</exception>
    private static Uri? CheckMetricsUrl(Uri? metricsUrl, IEnumerable<Uri> taken)
    {
        if (metricsUrl is null)
        {
            return null;
        }

        if (metricsUrl.Scheme != Uri.UriSchemeHttp || metricsUrl.AbsolutePath != "/")
        {
            throw new NodeConfigurationException($"RaftKv:MetricsUrl must be a plain http:// address with no path, such as http://127.0.0.1:9100; it is '{metricsUrl}'.");
        }

        if (taken.Any(url => url.Port == metricsUrl.Port))
        {
            throw new NodeConfigurationException($"RaftKv:MetricsUrl uses port {metricsUrl.Port}, which this member's client, peer or gRPC URL already uses; give it a port of its own.");
        }

        return metricsUrl;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The client URL {Url} also serves Raft and /internal/v1: any client that reaches it can send Raft messages and propose commands. Give this member a peerUrl of its own in the cluster file, on a network clients cannot reach.")]
    private static partial void LogSharedPeerPort(ILogger logger, Uri url);

    /// <param name="peerTrust">For the peer listener with peer TLS on: TLS, with the members' certificates required (or allowed, on a port clients share).</param>
    /// <param name="clients">For a port that serves clients only: its connections are closed when the node drains.</param>
    /// <param name="clientTrust">For an https client URL or gRPC port: this node's certificate, and the client CA if client certificates are required.</param>
    private static void Listen(KestrelServerOptions kestrel, Uri url, HttpProtocols protocols, PeerTrust? peerTrust, bool sharedPort, ClientListeners? clients, ClientTrust? clientTrust)
    {
        Action<ListenOptions> configure = listen =>
        {
            listen.Protocols = protocols;
            clients?.Track(listen, http2Only: protocols == HttpProtocols.Http2);
            if (clientTrust is not null && url.Scheme == Uri.UriSchemeHttps && peerTrust is null)
            {
                listen.UseHttps(https =>
                {
                    https.ServerCertificate = clientTrust.Certificate;
                    if (clientTrust.RequiresClientCertificates)
                    {
                        https.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
                        https.ClientCertificateValidation = (certificate, _, _) => clientTrust.IsTrustedClient(certificate);
                    }
                });
            }
            else if (peerTrust is not null)
            {
                listen.UseHttps(https =>
                {
                    https.ServerCertificate = peerTrust.Certificate;
                    https.ClientCertificateMode = sharedPort ? ClientCertificateMode.AllowCertificate : ClientCertificateMode.RequireCertificate;
                    https.ClientCertificateValidation = (certificate, _, _) => peerTrust.IsMember(certificate);
                });
            }
        };
        if (url.Host == "localhost")
        {
            kestrel.ListenLocalhost(url.Port, configure);
        }
        else if (IPAddress.TryParse(url.DnsSafeHost, out var address))
        {
            kestrel.Listen(address, url.Port, configure);
        }
        else
        {
            kestrel.ListenAnyIP(url.Port, configure);
        }
    }

    /// <summary>
    /// The node's options with the cluster file's shared settings in force. A setting this node's own
    /// configuration gives a different value is refused by name: members must not disagree on it.
    /// </summary>
    /// <exception cref="NodeConfigurationException">This node's configuration contradicts the cluster file.</exception>
    private static RaftKvOptions ApplySharedSettings(ConfigurationManager configuration, RaftKvOptions local, IReadOnlyDictionary<string, string> shared)
    {
        if (shared.Count == 0)
        {
            return local;
        }

        var setHere = shared.Keys.Where(name => configuration.GetSection(RaftKvOptions.Section).GetSection(name).Exists()).ToList();
        configuration.AddInMemoryCollection(shared.Select(s => KeyValuePair.Create($"{RaftKvOptions.Section}:{s.Key}", (string?)s.Value)));
        var options = configuration.GetSection(RaftKvOptions.Section).Get<RaftKvOptions>() ?? new RaftKvOptions();
        foreach (var name in setHere)
        {
            var property = typeof(RaftKvOptions).GetProperty(name)!;
            var (mine, fixedValue) = (property.GetValue(local), property.GetValue(options));
            if (!Equals(mine, fixedValue))
            {
                throw new NodeConfigurationException(
                    $"RaftKv:{name} is {mine} on this node but {fixedValue} in the cluster file, which fixes it for every member: safety depends on their agreeing. Remove the node's own setting, or change the cluster file on every member.");
            }
        }

        return options;
    }

    private static void Validate(RaftKvOptions options)
    {
        var errors = new List<ValidationResult>();
        if (!Validator.TryValidateObject(options, new ValidationContext(options), errors, validateAllProperties: true))
        {
            throw new NodeConfigurationException(string.Join(" ", errors.Select(e => $"{string.Join(", ", e.MemberNames.Select(n => $"RaftKv:{n}"))}: {e.ErrorMessage}")));
        }
    }

    private static string PrepareDataDirectory(string path)
    {
        try
        {
            Directory.CreateDirectory(path);
            var probe = Path.Combine(path, ".write-probe");
            File.WriteAllText(probe, "");
            File.Delete(probe);
            return path;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new NodeConfigurationException($"Data directory '{path}' is not writable: {e.Message}");
        }
    }
}
