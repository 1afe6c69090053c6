using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.AspNetCore.Connections;
using RaftKv.Store.Commands;

namespace RaftKv.Node.Cluster;

/// <summary>
/// The command format every member can read, as etcd's cluster version: each member advertises the
/// format it reads in its DotNext member metadata, and the leader proposes a request only if its
/// format is at most the lowest advertised. So during a rolling upgrade no member is sent an entry
/// it cannot decode. (DotNext adds its own check: a follower refuses entries from a leader of a
/// newer state-machine version, see <c>KvStateMachine</c>.)
/// </summary>
/// <remarks>A member whose format is not known yet (unreachable since this node started) counts as the oldest format of this store, <see cref="CommandCodec.BaseFormatVersion"/>.</remarks>
public sealed partial class CommandFormats(ClusterView view, TimeProvider time, ILogger<CommandFormats> logger) : BackgroundService
{
    public const string MetadataKey = "raftkv-command-format";

    /// <summary>How often every member is asked again: one may have been restarted on another version.</summary>
    private static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<string, int> known = new(StringComparer.Ordinal);

    /// <summary>The lowest format any member reads, as last asked; read on the write path, so never waits.</summary>
    public int ClusterFormat => Lowest(ByMember.Values);

    /// <summary>The format each member advertised when last asked; null for a member never reached.</summary>
    public IReadOnlyDictionary<string, int?> ByMember
        => view.Definition.Members.ToDictionary(m => m.Id, m => m.Id == view.Self.Id ? CommandCodec.FormatVersion : known.TryGetValue(m.Id, out var format) ? format : (int?)null);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(RefreshInterval, time);
        try
        {
            do
            {
                await RefreshAsync(stoppingToken);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Asks every other member for the format it advertises.</summary>
    public async Task RefreshAsync(CancellationToken token)
    {
        foreach (var member in view.Raft.Members.Where(m => m.IsRemote))
        {
            if (member.EndPoint is not UriEndPoint endpoint || view.Definition.FindByPeerUrl(endpoint.Uri) is not { } definition)
            {
                continue;
            }

            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
                timeout.CancelAfter(TimeSpan.FromSeconds(1));
                var metadata = await member.GetMetadataAsync(refresh: true, timeout.Token);
                if (metadata.TryGetValue(MetadataKey, out var advertised) && int.TryParse(advertised, NumberStyles.None, CultureInfo.InvariantCulture, out var format))
                {
                    known[definition.Id] = format;
                }
            }
            catch (Exception e) when (!token.IsCancellationRequested)
            {
                // Whatever the transport threw (a SocketException escapes DotNext's HTTP client as
                // it is), a member that cannot be asked keeps its last known format, or the base one.
                LogNotAsked(logger, definition.Id, e.Message);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Could not ask member {MemberId} for its command format: {Reason}")]
    private static partial void LogNotAsked(ILogger logger, string memberId, string reason);

    /// <summary>The lowest of the advertised formats, an unknown one counting as the base format.</summary>
    public static int Lowest(IEnumerable<int?> formats) => formats.Select(f => f ?? CommandCodec.BaseFormatVersion).DefaultIfEmpty(CommandCodec.FormatVersion).Min();
}
