using System.Text.Json;
using System.Text.Json.Serialization;

namespace RaftKv.Node.Configuration;

/// <summary>One member of the cluster, as listed in the cluster file or the replicated directory of members.</summary>
/// <param name="Id">The member id, for example <c>n3</c>.</param>
/// <param name="Url">The client API URL.</param>
/// <param name="PeerUrl">The URL for Raft and intra-cluster traffic; the API URL when the file gives none.</param>
/// <param name="GrpcUrl">The etcd v3 gRPC API's URL (cleartext HTTP/2), or null if the member serves none.</param>
public sealed record ClusterMember(string Id, Uri Url, Uri PeerUrl, Uri? GrpcUrl = null)
{
    /// <summary>
    /// False for a member added by its peer URL alone (etcd's <c>member add</c>) that has not yet started and
    /// published its id and client URLs: until then <see cref="Url"/> is its peer URL, and it serves no client.
    /// </summary>
    public bool IsStarted { get; init; } = true;

    /// <summary>Every address the member listens on.</summary>
    public IEnumerable<Uri> Listeners => new[] { Url, PeerUrl, GrpcUrl }.OfType<Uri>().Distinct();
}

/// <summary>
/// The static membership read from the cluster file (<c>cluster.json</c>): every node has the
/// same list, so no node ever cold-starts a cluster of its own.
/// </summary>
public sealed class ClusterDefinition
{
    /// <summary>
    /// The settings the file may fix for every member, because safety depends on their agreeing:
    /// the election timeout behind lease reads, the request timeout behind the window of the node's
    /// own request ids, the idempotency retention and capacity, and the history retention.
    /// </summary>
    public static readonly IReadOnlySet<string> SharedSettingNames = new HashSet<string>(StringComparer.Ordinal)
    {
        nameof(RaftKvOptions.ElectionTimeoutMs),
        nameof(RaftKvOptions.RequestTimeout),
        nameof(RaftKvOptions.IdempotencyRetention),
        nameof(RaftKvOptions.IdempotencyCapacity),
        nameof(RaftKvOptions.HistoryRetentionRevisions),
        nameof(RaftKvOptions.HistoryRetentionPeriod),
    };

    /// <summary>The shared settings as a member advertises them: <c>Name=value</c> pairs in name order, separated by <c>;</c>.</summary>
    public static string DescribeSharedSettings(RaftKvOptions options)
        => string.Join(';', SharedSettingNames.Order(StringComparer.Ordinal).Select(name =>
            $"{name}={Convert.ToString(typeof(RaftKvOptions).GetProperty(name)!.GetValue(options), System.Globalization.CultureInfo.InvariantCulture)}"));

    /// <summary>The first setting two descriptions give different values, or null; a setting only one of them names is not compared (another version).</summary>
    public static (string Name, string Mine, string Theirs)? FirstDifference(string mine, string theirs)
    {
        var their = Parse(theirs);
        foreach (var (name, value) in Parse(mine))
        {
            if (their.TryGetValue(name, out var other) && other != value)
            {
                return (name, value, other);
            }
        }

        return null;

        static Dictionary<string, string> Parse(string description)
            => description.Split(';', StringSplitOptions.RemoveEmptyEntries).Select(pair => pair.Split('=', 2)).Where(pair => pair.Length == 2)
                .ToDictionary(pair => pair[0], pair => pair[1], StringComparer.Ordinal);
    }

    private ClusterDefinition(IReadOnlyList<ClusterMember> members, IReadOnlyDictionary<string, string> settings)
    {
        Members = members;
        Settings = settings;
    }

    public IReadOnlyList<ClusterMember> Members { get; }

    /// <summary>The shared settings the file fixes, by option name (<c>ElectionTimeoutMs</c>), as configuration strings.</summary>
    public IReadOnlyDictionary<string, string> Settings { get; }

    public ClusterMember this[string id]
        => Members.FirstOrDefault(m => m.Id == id)
           ?? throw new NodeConfigurationException($"Node id '{id}' is not a member of the cluster (members: {string.Join(", ", Members.Select(m => m.Id))}).");

    /// <exception cref="NodeConfigurationException">The file is missing or does not describe a valid cluster.</exception>
    public static ClusterDefinition Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new NodeConfigurationException($"Cluster file '{Path.GetFullPath(path)}' does not exist.");
        }

        ClusterFile? file;
        try
        {
            file = JsonSerializer.Deserialize(File.ReadAllText(path), ClusterFileJsonContext.Default.ClusterFile);
        }
        catch (JsonException e)
        {
            throw new NodeConfigurationException($"Cluster file '{path}' is not valid JSON: {e.Message}");
        }

        return Parse(file?.Members, path, file?.Settings);
    }

    internal static ClusterDefinition Parse(IReadOnlyList<ClusterFileMember>? entries, string source, IReadOnlyDictionary<string, JsonElement>? settings = null)
    {
        if (entries is null || entries.Count == 0)
        {
            throw new NodeConfigurationException($"Cluster file '{source}' lists no members.");
        }

        var members = new List<ClusterMember>();
        foreach (var entry in entries)
        {
            if (string.IsNullOrWhiteSpace(entry.Id))
            {
                throw new NodeConfigurationException($"Cluster file '{source}' has a member without an id.");
            }

            var url = ParseUrl(entry.Url, $"url of member '{entry.Id}'", source);
            var peerUrl = entry.PeerUrl is null ? url : ParseUrl(entry.PeerUrl, $"peerUrl of member '{entry.Id}'", source);
            var grpcUrl = entry.GrpcUrl is null ? null : ParseUrl(entry.GrpcUrl, $"grpcUrl of member '{entry.Id}'", source);
            if (grpcUrl is not null && (SameEndpoint(grpcUrl, url) || SameEndpoint(grpcUrl, peerUrl)))
            {
                // Kestrel cannot tell cleartext HTTP/2 from HTTP/1.1 on one port without TLS.
                throw new NodeConfigurationException($"Cluster file '{source}': the grpcUrl of member '{entry.Id}' needs a port of its own.");
            }

            var member = new ClusterMember(entry.Id, url, peerUrl, grpcUrl);

            if (members.Any(m => m.Id == member.Id))
            {
                throw new NodeConfigurationException($"Cluster file '{source}' lists member '{member.Id}' twice.");
            }

            foreach (var other in members)
            {
                if (member.Listeners.Any(l => other.Listeners.Any(o => SameEndpoint(l, o))))
                {
                    throw new NodeConfigurationException($"Cluster file '{source}': members '{other.Id}' and '{member.Id}' share an address.");
                }
            }

            members.Add(member);
        }

        return new ClusterDefinition(members, ParseSettings(settings, source));
    }

    private static Dictionary<string, string> ParseSettings(IReadOnlyDictionary<string, JsonElement>? settings, string source)
    {
        var parsed = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in settings ?? new Dictionary<string, JsonElement>())
        {
            if (SharedSettingNames.FirstOrDefault(known => string.Equals(known, name, StringComparison.OrdinalIgnoreCase)) is not { } canonical)
            {
                throw new NodeConfigurationException(
                    $"Cluster file '{source}': '{name}' is not a setting the cluster file fixes (it fixes {string.Join(", ", SharedSettingNames.Order(StringComparer.Ordinal))}).");
            }

            parsed[canonical] = value.ValueKind switch
            {
                JsonValueKind.String => value.GetString()!,
                JsonValueKind.Number => value.GetRawText(),
                _ => throw new NodeConfigurationException($"Cluster file '{source}': setting '{name}' must be a number or a string."),
            };
        }

        return parsed;
    }

    /// <summary>Whether two URLs name the same listener: the same host (in any case) and port.</summary>
    public static bool SameEndpoint(Uri a, Uri b)
        => a.Port == b.Port && string.Equals(a.Host, b.Host, StringComparison.OrdinalIgnoreCase);

    private static Uri ParseUrl(string? value, string what, string source)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https") || url.AbsolutePath != "/")
        {
            throw new NodeConfigurationException($"Cluster file '{source}': {what} must be an absolute http(s) URL with no path, not '{value}'.");
        }

        return url;
    }
}

public sealed record ClusterFile(IReadOnlyList<ClusterFileMember>? Members, Dictionary<string, JsonElement>? Settings = null);

public sealed record ClusterFileMember(string? Id, string? Url, string? PeerUrl, string? GrpcUrl);

[JsonSourceGenerationOptions(PropertyNameCaseInsensitive = true, ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true)]
[JsonSerializable(typeof(ClusterFile))]
internal sealed partial class ClusterFileJsonContext : JsonSerializerContext;
