using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;
using RaftKv.Node.Configuration;
using RaftKv.Store.Commands;

namespace RaftKv.Node.Cluster;

/// <summary>
/// What each member advertises in its DotNext member metadata, asked again every few seconds:
/// <list type="bullet">
/// <item>The command format it reads, as etcd's cluster version: the leader proposes a request only
/// if its format is at most the lowest advertised, so during a rolling upgrade no member is sent an
/// entry it cannot decode. (DotNext adds its own check: a follower refuses entries from a leader of
/// a newer state-machine version, see <c>KvStateMachine</c>.)</item>
/// <item>The settings safety depends on (<see cref="ClusterDefinition.SharedSettingNames"/>), so that
/// members started from cluster files that differ are found: such a node is not ready, says which
/// setting differs, and serves no lease reads, which rest on every member's election timeout.</item>
/// </list>
/// </summary>
/// <remarks>A member whose format is not known yet (unreachable since this node started) counts as the oldest format of this store, <see cref="CommandCodec.BaseFormatVersion"/>.</remarks>
public sealed partial class MemberAdvertisements(ClusterView view, IOptions<RaftKvOptions> options, TimeProvider time, ILogger<MemberAdvertisements> logger) : BackgroundService
{
    public const string CommandFormatKey = "raftkv-command-format";

    public const string SettingsKey = "raftkv-settings";

    /// <summary>How often every member is asked again: one may have been restarted on another version.</summary>
    private static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<string, int> known = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> settings = new(StringComparer.Ordinal);
    private volatile string? settingsDisagreement;

    /// <summary>This node's settings as it advertises them.</summary>
    public string OwnSettings { get; } = ClusterDefinition.DescribeSharedSettings(options.Value);

    /// <summary>
    /// The first shared setting some member holds at another value than this node, or null if all it
    /// asked agree; worked out once per refresh, as lease reads ask on every read.
    /// </summary>
    public string? SettingsDisagreement => settingsDisagreement;

    /// <summary>The lowest format any member reads, as last asked; read on the write path, so never waits.</summary>
    public int ClusterFormat => Lowest(ByMember.Values);

    /// <summary>The format each voter advertised when last asked, by member id; null for a member never reached.</summary>
    public IReadOnlyDictionary<string, int?> ByMember
        => view.Raft.Members.Select(m => (Id: IdOf(m), m.IsRemote))
            .ToDictionary(m => m.Id, m => !m.IsRemote ? CommandCodec.FormatVersion : known.TryGetValue(m.Id, out var format) ? format : (int?)null);

    /// <summary>A voter's id in the directory, or its address if the directory does not name it (yet).</summary>
    private string IdOf(DotNext.Net.Cluster.IClusterMember member)
        => member.EndPoint is UriEndPoint endpoint && view.Directory.FindByPeerUrl(endpoint.Uri) is { } known ? known.Id : member.EndPoint.ToString() ?? "";

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
            var id = IdOf(member);

            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
                timeout.CancelAfter(TimeSpan.FromSeconds(1));
                var metadata = await member.GetMetadataAsync(refresh: true, timeout.Token);
                if (metadata.TryGetValue(CommandFormatKey, out var advertised) && int.TryParse(advertised, NumberStyles.None, CultureInfo.InvariantCulture, out var format))
                {
                    known[id] = format;
                }

                if (metadata.TryGetValue(SettingsKey, out var theirs))
                {
                    settings[id] = theirs;
                }
            }
            catch (Exception e) when (!token.IsCancellationRequested)
            {
                // Whatever the transport threw (a SocketException escapes DotNext's HTTP client as
                // it is), a member that cannot be asked keeps its last known format, or the base one.
                LogNotAsked(logger, id, e.Message);
            }
        }

        settingsDisagreement = settings.OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => ClusterDefinition.FirstDifference(OwnSettings, p.Value) is { } difference
                ? $"member {p.Key} has {difference.Name} {difference.Theirs}, this node {difference.Mine}: start every member from the same cluster file"
                : null)
            .FirstOrDefault(difference => difference is not null);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Could not ask member {MemberId} for its command format: {Reason}")]
    private static partial void LogNotAsked(ILogger logger, string memberId, string reason);

    /// <summary>The lowest of the advertised formats, an unknown one counting as the base format.</summary>
    public static int Lowest(IEnumerable<int?> formats) => formats.Select(f => f ?? CommandCodec.BaseFormatVersion).DefaultIfEmpty(CommandCodec.FormatVersion).Min();
}
