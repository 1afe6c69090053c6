using System.Globalization;
using System.Text;
using System.Text.Json;

namespace RaftKv.LoadGen;

internal enum Outcome
{
    Ok,

    /// <summary>A read answered correctly that the key has no value.</summary>
    NotFound,

    Failed,
}

/// <summary>How one system's HTTP API spells a read and a write. Everything per key is encoded up front.</summary>
internal interface IKvProtocol
{
    HttpRequestMessage CreateRead(int target, int key);

    HttpRequestMessage CreateWrite(int target, int key);

    /// <param name="bodyStart">The first bytes of the response body (at most a few KiB).</param>
    Outcome Classify(bool isRead, int status, ReadOnlySpan<byte> bodyStart);
}

internal static class Protocols
{
    public static string KeyName(int key) => string.Create(CultureInfo.InvariantCulture, $"bench/{key:D6}");

    public static IKvProtocol Create(LoadOptions options, IReadOnlyList<string> targets, byte[] value) => options.System switch
    {
        KvSystem.RaftKv => new RaftKvProtocol(targets, options.Keys, value, options.LocalReads),
        _ => new EtcdProtocol(targets, options.Keys, value, options.LocalReads),
    };

    /// <summary>The client URL of the current leader, asked of each target in turn.</summary>
    public static async Task<string> FindLeaderAsync(HttpClient client, KvSystem system, IReadOnlyList<string> targets)
    {
        foreach (var target in targets)
        {
            try
            {
                var leader = system == KvSystem.RaftKv
                    ? await RaftKvProtocol.LeaderAsync(client, target)
                    : await EtcdProtocol.LeaderAsync(client, target);
                if (leader is not null)
                {
                    return leader;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException or InvalidOperationException)
            {
                await Console.Error.WriteLineAsync($"leader lookup on {target} failed: {e.Message}");
            }
        }

        throw new InvalidOperationException("no target named a leader");
    }
}

/// <summary>RaftKv: <c>PUT /v1/kv/{key}</c> with the value as body, <c>GET /v1/kv/{key}?consistency=...</c>.</summary>
internal sealed class RaftKvProtocol : IKvProtocol
{
    // One Uri per target and key, built once: parsing a URL per request would cost more than the rest of the client.
    private readonly Uri[][] _readUris;
    private readonly Uri[][] _writeUris;
    private readonly byte[] _value;

    public RaftKvProtocol(IReadOnlyList<string> targets, int keys, byte[] value, bool localReads)
    {
        var consistency = localReads ? "local" : "linearizable";
        _readUris = [.. targets.Select(t => Enumerable.Range(0, keys).Select(k => new Uri($"{t}/v1/kv/{Protocols.KeyName(k)}?consistency={consistency}")).ToArray())];
        _writeUris = [.. targets.Select(t => Enumerable.Range(0, keys).Select(k => new Uri($"{t}/v1/kv/{Protocols.KeyName(k)}")).ToArray())];
        _value = value;
    }

    public HttpRequestMessage CreateRead(int target, int key) => new(HttpMethod.Get, _readUris[target][key]);

    public HttpRequestMessage CreateWrite(int target, int key) =>
        new(HttpMethod.Put, _writeUris[target][key]) { Content = new ByteArrayContent(_value) };

    public Outcome Classify(bool isRead, int status, ReadOnlySpan<byte> bodyStart) => status switch
    {
        200 => Outcome.Ok,
        404 when isRead => Outcome.NotFound,
        _ => Outcome.Failed,
    };

    public static async Task<string?> LeaderAsync(HttpClient client, string target)
    {
        using var status = JsonDocument.Parse(await client.GetStringAsync(new Uri($"{target}/v1/status")));
        return status.RootElement.GetProperty("leader") is { ValueKind: JsonValueKind.Object } leader
            ? leader.GetProperty("url").GetString()?.TrimEnd('/')
            : null;
    }
}

/// <summary>
/// etcd 3.4's gRPC JSON gateway: <c>POST /v3/kv/put</c> and <c>POST /v3/kv/range</c>, keys and values in base64.
/// A range is linearizable unless <c>"serializable": true</c>, etcd's name for a local read.
/// </summary>
internal sealed class EtcdProtocol : IKvProtocol
{
    private static readonly byte[] KvsMarker = "\"kvs\""u8.ToArray();

    private readonly Uri[] _rangeUris;
    private readonly Uri[] _putUris;

    // JSON bodies per key, built once; the same bytes serve every target.
    private readonly byte[][] _rangeBodies;
    private readonly byte[][] _putBodies;

    public EtcdProtocol(IReadOnlyList<string> targets, int keys, byte[] value, bool serializable)
    {
        _rangeUris = [.. targets.Select(t => new Uri($"{t}/v3/kv/range"))];
        _putUris = [.. targets.Select(t => new Uri($"{t}/v3/kv/put"))];
        var value64 = Convert.ToBase64String(value);
        var extra = serializable ? ",\"serializable\":true" : "";
        _rangeBodies = [.. Enumerable.Range(0, keys).Select(k => Encoding.UTF8.GetBytes($"{{\"key\":\"{Key64(k)}\"{extra}}}"))];
        _putBodies = [.. Enumerable.Range(0, keys).Select(k => Encoding.UTF8.GetBytes($"{{\"key\":\"{Key64(k)}\",\"value\":\"{value64}\"}}"))];
    }

    public HttpRequestMessage CreateRead(int target, int key) => Post(_rangeUris[target], _rangeBodies[key]);

    public HttpRequestMessage CreateWrite(int target, int key) => Post(_putUris[target], _putBodies[key]);

    // A range that finds nothing is still 200, with no "kvs" field in the body.
    public Outcome Classify(bool isRead, int status, ReadOnlySpan<byte> bodyStart) =>
        status != 200 ? Outcome.Failed
        : isRead && bodyStart.IndexOf(KvsMarker) < 0 ? Outcome.NotFound
        : Outcome.Ok;

    public static async Task<string?> LeaderAsync(HttpClient client, string target)
    {
        using var response = await client.PostAsync(new Uri($"{target}/v3/maintenance/status"), Json("{}"u8.ToArray()));
        response.EnsureSuccessStatusCode();
        using var status = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = status.RootElement;
        return Id(root.GetProperty("header").GetProperty("member_id")) == Id(root.GetProperty("leader")) ? target : null;
    }

    private static string Key64(int key) => Convert.ToBase64String(Encoding.UTF8.GetBytes(Protocols.KeyName(key)));

    // The gateway writes 64-bit ids as JSON strings; accept numbers too.
    private static string Id(JsonElement id) => id.ValueKind == JsonValueKind.String ? id.GetString()! : id.GetRawText();

    private static HttpRequestMessage Post(Uri uri, byte[] body) => new(HttpMethod.Post, uri) { Content = Json(body) };

    private static ByteArrayContent Json(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
        return content;
    }
}
