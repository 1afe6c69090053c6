using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace RaftKv.LoadGen;

internal enum Outcome
{
    Ok,

    /// <summary>A read answered correctly that the key has no value.</summary>
    NotFound,

    /// <summary>A range answered correctly with fewer than the <see cref="Protocols.RangeSize"/> keys its prefix selects.</summary>
    Short,

    /// <summary>A transaction answered correctly whose compare did not hold: nothing was written.</summary>
    CompareFailed,

    Failed,
}

/// <summary>
/// How one system's HTTP API spells each operation. What is the same for every request of a key or a
/// range (URLs, bodies) is encoded once; a transaction's body, with its new value, is built per request.
/// </summary>
internal interface IKvProtocol
{
    HttpRequestMessage CreateRead(int target, int key);

    HttpRequestMessage CreateWrite(int target, int key);

    /// <summary>Keys <c>group * 100</c> to <c>group * 100 + 99</c>, as a prefix read of at most 100 keys.</summary>
    HttpRequestMessage CreateRange(int target, int group);

    /// <summary>If <paramref name="key"/> holds <paramref name="expected"/> (null: if it does not exist), put <paramref name="next"/>; otherwise read it.</summary>
    HttpRequestMessage CreateTxn(int target, int key, byte[]? expected, byte[] next);

    /// <param name="body">The response body, or its first <see cref="HttpTransport.KeptBodyBytes"/> bytes.</param>
    Outcome Classify(OpKind op, int status, ReadOnlySpan<byte> body);

    /// <summary>From the answer of a transaction whose compare failed, the value its failure branch read (null: no such key).</summary>
    /// <returns>False if the answer could not be read.</returns>
    bool TryReadFailedTxnValue(ReadOnlySpan<byte> body, out byte[]? value);
}

internal static class Protocols
{
    /// <summary>How many keys a range operation's prefix selects: "bench/0012" is bench/001200 to bench/001299.</summary>
    public const int RangeSize = 100;

    // Six digits: from a million keys on, "bench/1000" would also select bench/1000000 and on.
    private const int MaxRangeKeys = 1_000_000;

    public static string KeyName(int key) => string.Create(CultureInfo.InvariantCulture, $"bench/{key:D6}");

    /// <summary>How many whole groups of <see cref="RangeSize"/> keys the key space has.</summary>
    public static int RangeGroups(int keys) => Math.Min(keys, MaxRangeKeys) / RangeSize;

    public static string RangePrefix(int group) => string.Create(CultureInfo.InvariantCulture, $"bench/{group:D4}");

    /// <summary>How many key-value items a range answer holds: both systems write each item's key as <c>"key":</c>, and nothing else so.</summary>
    public static int CountItems(ReadOnlySpan<byte> body)
    {
        var count = 0;
        for (int at; (at = body.IndexOf("\"key\":"u8)) >= 0; body = body[(at + 6)..])
        {
            count++;
        }

        return count;
    }

    /// <summary>Both systems answer a transaction with <c>"succeeded":true</c> when its compare held (etcd leaves the field out when false).</summary>
    public static bool TxnSucceeded(ReadOnlySpan<byte> body) => body.IndexOf("\"succeeded\":true"u8) >= 0;

    public static ByteArrayContent JsonContent(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
        return content;
    }

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

/// <summary>
/// RaftKv: <c>PUT /v1/kv/{key}</c> with the value as body, <c>GET /v1/kv/{key}?consistency=...</c>,
/// <c>GET /v1/kv?prefix=P&amp;limit=100</c> and <c>POST /v1/txn</c>.
/// </summary>
internal sealed class RaftKvProtocol : IKvProtocol
{
    // One Uri per target and key, built on first use (so a large key space costs nothing up front) and kept:
    // parsing a URL per request would cost more than the rest of the client. Racing workers build equal ones.
    private readonly Uri?[][] _readUris;
    private readonly Uri?[][] _writeUris;
    private readonly Uri[][] _rangeUris;
    private readonly Uri[] _txnUris;
    private readonly IReadOnlyList<string> _targets;
    private readonly string _consistency;
    private readonly byte[] _value;

    public RaftKvProtocol(IReadOnlyList<string> targets, int keys, byte[] value, bool localReads)
    {
        _targets = targets;
        _consistency = localReads ? "local" : "linearizable";
        _readUris = [.. targets.Select(_ => new Uri?[keys])];
        _writeUris = [.. targets.Select(_ => new Uri?[keys])];
        _rangeUris = [.. targets.Select(t => Enumerable.Range(0, Protocols.RangeGroups(keys))
            .Select(g => new Uri($"{t}/v1/kv?prefix={Uri.EscapeDataString(Protocols.RangePrefix(g))}&limit={Protocols.RangeSize}&consistency={_consistency}")).ToArray())];
        _txnUris = [.. targets.Select(t => new Uri($"{t}/v1/txn"))];
        _value = value;
    }

    public HttpRequestMessage CreateRead(int target, int key) =>
        new(HttpMethod.Get, _readUris[target][key] ??= new Uri($"{_targets[target]}/v1/kv/{Protocols.KeyName(key)}?consistency={_consistency}"));

    public HttpRequestMessage CreateWrite(int target, int key) =>
        new(HttpMethod.Put, _writeUris[target][key] ??= new Uri($"{_targets[target]}/v1/kv/{Protocols.KeyName(key)}")) { Content = new ByteArrayContent(_value) };

    public HttpRequestMessage CreateRange(int target, int group) => new(HttpMethod.Get, _rangeUris[target][group]);

    // {"compare":[{"key":K,"target":"value","result":"==","value":E}],"success":[{"put":{"key":K,"value":N}}],"failure":[{"get":{"key":K}}]}
    public HttpRequestMessage CreateTxn(int target, int key, byte[]? expected, byte[] next)
    {
        var name = Protocols.KeyName(key);
        var body = new ArrayBufferWriter<byte>(256 + (2 * next.Length));
        using (var json = new Utf8JsonWriter(body))
        {
            json.WriteStartObject();
            json.WriteStartArray("compare");
            json.WriteStartObject();
            json.WriteString("key", name);
            if (expected is null)
            {
                // A value compare on a missing key is false: "absent" is createRevision == 0.
                json.WriteString("target", "createRevision");
                json.WriteString("result", "==");
                json.WriteNumber("value", 0);
            }
            else
            {
                json.WriteString("target", "value");
                json.WriteString("result", "==");
                WriteValue(json, expected);
            }

            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteStartArray("success");
            json.WriteStartObject();
            json.WriteStartObject("put");
            json.WriteString("key", name);
            WriteValue(json, next);
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteStartArray("failure");
            json.WriteStartObject();
            json.WriteStartObject("get");
            json.WriteString("key", name);
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteEndObject();
        }

        return new HttpRequestMessage(HttpMethod.Post, _txnUris[target]) { Content = Protocols.JsonContent(body.WrittenMemory.ToArray()) };
    }

    public Outcome Classify(OpKind op, int status, ReadOnlySpan<byte> body) => status switch
    {
        200 => op switch
        {
            OpKind.Range => Protocols.CountItems(body) == Protocols.RangeSize ? Outcome.Ok : Outcome.Short,
            OpKind.Txn => Protocols.TxnSucceeded(body) ? Outcome.Ok : Outcome.CompareFailed,
            _ => Outcome.Ok,
        },
        404 when op == OpKind.Read => Outcome.NotFound,
        _ => Outcome.Failed,
    };

    // {"succeeded":false,"revision":R,"results":[{"get":{"revision":R,"kv":{"key":K,"value":V,...} or null}}]}
    public bool TryReadFailedTxnValue(ReadOnlySpan<byte> body, out byte[]? value)
    {
        value = null;
        try
        {
            var reader = new Utf8JsonReader(body);
            using var answer = JsonDocument.ParseValue(ref reader);
            var kv = answer.RootElement.GetProperty("results")[0].GetProperty("get").GetProperty("kv");
            if (kv.ValueKind == JsonValueKind.Object)
            {
                var text = kv.GetProperty("value");
                value = kv.TryGetProperty("valueEncoding", out _) ? text.GetBytesFromBase64() : Encoding.UTF8.GetBytes(text.GetString()!);
            }

            return true;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or IndexOutOfRangeException or FormatException)
        {
            return false;
        }
    }

    public static async Task<string?> LeaderAsync(HttpClient client, string target)
    {
        using var status = JsonDocument.Parse(await client.GetStringAsync(new Uri($"{target}/v1/status")));
        return status.RootElement.GetProperty("leader") is { ValueKind: JsonValueKind.Object } leader
            ? leader.GetProperty("url").GetString()?.TrimEnd('/')
            : null;
    }

    // As the API answers it: a string when the bytes are UTF-8, base64 otherwise.
    private static void WriteValue(Utf8JsonWriter json, byte[] value)
    {
        if (Utf8.IsValid(value))
        {
            json.WriteString("value", value);
        }
        else
        {
            json.WriteBase64String("valueBase64", value);
        }
    }
}

/// <summary>
/// etcd 3.4's gRPC JSON gateway: <c>POST /v3/kv/put</c>, <c>POST /v3/kv/range</c> and <c>POST /v3/kv/txn</c>,
/// keys and values in base64. A range is linearizable unless <c>"serializable": true</c>, etcd's name for a local read.
/// </summary>
internal sealed class EtcdProtocol : IKvProtocol
{
    private static readonly byte[] KvsMarker = "\"kvs\""u8.ToArray();

    private readonly Uri[] _rangeUris;
    private readonly Uri[] _putUris;
    private readonly Uri[] _txnUris;
    private readonly string _value64;
    private readonly string _serializable;

    // JSON bodies per key (built on first use) or group; the same bytes serve every target.
    private readonly byte[]?[] _rangeBodies;
    private readonly byte[]?[] _putBodies;
    private readonly byte[][] _prefixRangeBodies;

    public EtcdProtocol(IReadOnlyList<string> targets, int keys, byte[] value, bool serializable)
    {
        _rangeUris = [.. targets.Select(t => new Uri($"{t}/v3/kv/range"))];
        _putUris = [.. targets.Select(t => new Uri($"{t}/v3/kv/put"))];
        _txnUris = [.. targets.Select(t => new Uri($"{t}/v3/kv/txn"))];
        _value64 = Convert.ToBase64String(value);
        _serializable = serializable ? ",\"serializable\":true" : "";
        _rangeBodies = new byte[]?[keys];
        _putBodies = new byte[]?[keys];
        _prefixRangeBodies = [.. Enumerable.Range(0, Protocols.RangeGroups(keys)).Select(g =>
        {
            var prefix = Encoding.UTF8.GetBytes(Protocols.RangePrefix(g));
            var end = prefix.ToArray();
            end[^1]++; // etcd's prefix end: the last byte plus one (an ASCII digit here, never 0xFF)
            return Encoding.UTF8.GetBytes($"{{\"key\":\"{Convert.ToBase64String(prefix)}\",\"range_end\":\"{Convert.ToBase64String(end)}\",\"limit\":{Protocols.RangeSize}{_serializable}}}");
        })];
    }

    public HttpRequestMessage CreateRead(int target, int key) =>
        Post(_rangeUris[target], _rangeBodies[key] ??= Encoding.UTF8.GetBytes($"{{\"key\":\"{Key64(key)}\"{_serializable}}}"));

    public HttpRequestMessage CreateWrite(int target, int key) =>
        Post(_putUris[target], _putBodies[key] ??= Encoding.UTF8.GetBytes($"{{\"key\":\"{Key64(key)}\",\"value\":\"{_value64}\"}}"));

    public HttpRequestMessage CreateRange(int target, int group) => Post(_rangeUris[target], _prefixRangeBodies[group]);

    public HttpRequestMessage CreateTxn(int target, int key, byte[]? expected, byte[] next)
    {
        var key64 = Key64(key);

        // Absent is create_revision 0, as in etcd's own concurrency recipes; proto3 JSON writes an int64 as a string.
        var compare = expected is null
            ? $"{{\"key\":\"{key64}\",\"target\":\"CREATE\",\"result\":\"EQUAL\",\"create_revision\":\"0\"}}"
            : $"{{\"key\":\"{key64}\",\"target\":\"VALUE\",\"result\":\"EQUAL\",\"value\":\"{Convert.ToBase64String(expected)}\"}}";
        var body = $"{{\"compare\":[{compare}],\"success\":[{{\"request_put\":{{\"key\":\"{key64}\",\"value\":\"{Convert.ToBase64String(next)}\"}}}}],"
            + $"\"failure\":[{{\"request_range\":{{\"key\":\"{key64}\"}}}}]}}";
        return Post(_txnUris[target], Encoding.UTF8.GetBytes(body));
    }

    // A range that finds nothing is still 200, with no "kvs" field in the body.
    public Outcome Classify(OpKind op, int status, ReadOnlySpan<byte> body) =>
        status != 200 ? Outcome.Failed
        : op switch
        {
            OpKind.Read => body.IndexOf(KvsMarker) < 0 ? Outcome.NotFound : Outcome.Ok,
            OpKind.Range => Protocols.CountItems(body) == Protocols.RangeSize ? Outcome.Ok : Outcome.Short,
            OpKind.Txn => Protocols.TxnSucceeded(body) ? Outcome.Ok : Outcome.CompareFailed,
            _ => Outcome.Ok,
        };

    // {"header":{...},"responses":[{"response_range":{"header":{...},"kvs":[{"key":K,...,"value":V}],"count":"1"}}]}:
    // zero values are left out, so no "kvs" for a missing key and no "value" for an empty one.
    public bool TryReadFailedTxnValue(ReadOnlySpan<byte> body, out byte[]? value)
    {
        value = null;
        try
        {
            var reader = new Utf8JsonReader(body);
            using var answer = JsonDocument.ParseValue(ref reader);
            var range = answer.RootElement.GetProperty("responses")[0].GetProperty("response_range");
            if (range.TryGetProperty("kvs", out var kvs) && kvs.GetArrayLength() > 0)
            {
                value = kvs[0].TryGetProperty("value", out var value64) ? value64.GetBytesFromBase64() : [];
            }

            return true;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or IndexOutOfRangeException or FormatException)
        {
            return false;
        }
    }

    public static async Task<string?> LeaderAsync(HttpClient client, string target)
    {
        using var response = await client.PostAsync(new Uri($"{target}/v3/maintenance/status"), Protocols.JsonContent("{}"u8.ToArray()));
        response.EnsureSuccessStatusCode();
        using var status = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = status.RootElement;
        return Id(root.GetProperty("header").GetProperty("member_id")) == Id(root.GetProperty("leader")) ? target : null;
    }

    private static string Key64(int key) => Convert.ToBase64String(Encoding.UTF8.GetBytes(Protocols.KeyName(key)));

    // The gateway writes 64-bit ids as JSON strings; accept numbers too.
    private static string Id(JsonElement id) => id.ValueKind == JsonValueKind.String ? id.GetString()! : id.GetRawText();

    private static HttpRequestMessage Post(Uri uri, byte[] body) => new(HttpMethod.Post, uri) { Content = Protocols.JsonContent(body) };
}
