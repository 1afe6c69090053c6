using System.Text;
using Etcdserverpb;
using Google.Protobuf;

namespace RaftKv.Robustness.Fuzzing;

/// <summary>One HTTP request the fuzzer sends: everything needed to send it again, and to show it.</summary>
public sealed record FuzzHttpRequest(string Method, string PathAndQuery, IReadOnlyList<(string Name, string Value)> Headers, byte[]? Body, string? ContentType, bool IsWatch)
{
    public override string ToString()
        => $"{Method} {PathAndQuery}{string.Concat(Headers.Select(h => $" [{h.Name}: {h.Value}]"))}"
            + (Body is null ? "" : $" body({Body.Length}) {Convert.ToBase64String(Body.AsSpan(0, Math.Min(Body.Length, 120)))}");
}

/// <summary>One gRPC call: an etcd method and the bytes of its request message, valid or mangled.</summary>
public sealed record FuzzGrpcRequest(string Service, string Method, byte[] Message)
{
    public override string ToString() => $"gRPC {Service}/{Method} message({Message.Length}) {Convert.ToBase64String(Message.AsSpan(0, Math.Min(Message.Length, 120)))}";
}

/// <summary>
/// Makes requests from a grammar of RaftKv's HTTP API and etcd's gRPC API, each part now well formed,
/// now broken: methods, paths and keys (raw bytes, bad escapes, dot segments, huge), query parameters
/// with wrong types and out-of-range numbers, conditional and idempotency headers, bodies of random
/// bytes and of JSON shaped like the API's, deeply nested or with absurd numbers, and protobuf
/// messages with flipped, cut or spliced bytes.
/// </summary>
public sealed class ApiRequests(Random random)
{
    private static readonly string[] Methods = ["GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS", "BREW"];

    private static readonly string[] QueryNames =
    [
        "prefix", "from", "to", "limit", "revision", "keysOnly", "countOnly", "encoding", "consistency", "prevValue",
        "fromRevision", "prevKv", "all", "lease", "key", "ttl", "physical", "x",
    ];

    private static readonly (string Service, string Method)[] GrpcMethods =
    [
        ("etcdserverpb.KV", "Range"), ("etcdserverpb.KV", "Put"), ("etcdserverpb.KV", "DeleteRange"), ("etcdserverpb.KV", "Txn"),
        ("etcdserverpb.KV", "Compact"), ("etcdserverpb.Lease", "LeaseGrant"), ("etcdserverpb.Lease", "LeaseRevoke"),
        ("etcdserverpb.Lease", "LeaseTimeToLive"), ("etcdserverpb.Lease", "LeaseLeases"), ("etcdserverpb.Maintenance", "Status"),
        ("etcdserverpb.Maintenance", "HashKV"), ("etcdserverpb.Cluster", "MemberList"),
    ];

    public FuzzHttpRequest NextHttp()
    {
        var headers = new List<(string, string)>();
        byte[]? body = null;
        string? contentType = null;
        var (method, path, isWatch) = random.Next(14) switch
        {
            0 or 1 or 2 => (Pick("GET", "PUT", "DELETE"), "/v1/kv/" + Key(), false),
            3 or 4 => (Pick("GET", "DELETE"), "/v1/kv", false),
            5 or 6 => ("POST", "/v1/txn", false),
            7 => (Pick("POST", "GET"), "/v1/leases", false),
            8 => (Pick("GET", "DELETE", "POST"), "/v1/leases/" + Number() + (Chance(3) ? "/keepalive" : ""), false),
            9 => ("GET", "/v1/watch", true),
            10 => ("POST", "/v1/compact", false),
            11 => ("GET", Pick("/v1/status", "/health/ready", "/health/live", "/internal/v1/propose", "/cluster-consensus/raft", "/v2/keys/a", "/v1/kv/%"), false),
            _ => (Methods[random.Next(Methods.Length)], "/" + Segment() + (Chance(2) ? "/" + Segment() : ""), false),
        };

        if (Chance(8))
        {
            method = Methods[random.Next(Methods.Length)];
        }

        var query = new List<string>();
        for (var i = random.Next(isWatch ? 1 : 0, 4); i > 0; i--)
        {
            query.Add($"{(Chance(10) ? Segment() : QueryNames[random.Next(QueryNames.Length)])}={QueryValue()}");
        }

        if (Chance(4))
        {
            headers.Add((Pick("If-Match", "If-None-Match"), Pick("*", "\"1\"", "1", Number(), "\"" + Number() + "\"", "W/\"3\"", "abc", "")));
        }

        if (Chance(4))
        {
            headers.Add(("Idempotency-Key", Text(random.Next(0, Chance(10) ? 400 : 40))));
        }

        if (isWatch && Chance(3))
        {
            headers.Add(("Last-Event-ID", Pick(Number(), "abc", "-1", "")));
        }

        if (method is "PUT" or "POST" or "PATCH" || Chance(10))
        {
            (body, contentType) = path switch
            {
                "/v1/txn" => (Json(TxnJson()), Pick("application/json", "text/plain", null)),
                "/v1/leases" => (Json($$"""{"ttl": {{JsonNumber()}}{{(Chance(2) ? $", \"id\": {JsonNumber()}" : "")}}}"""), "application/json"),
                "/v1/compact" => (Json($$"""{"revision": {{JsonNumber()}}, "physical": {{Pick("true", "false", "1", "null")}}}"""), "application/json"),
                _ => (Bytes(random.Next(0, Chance(20) ? 70_000 : 200)), Pick(null, "application/octet-stream", "text/plain; charset=utf-8")),
            };
            if (Chance(6))
            {
                body = Mangle(body);
            }
        }

        return new FuzzHttpRequest(method, path + (query.Count > 0 ? "?" + string.Join('&', query) : ""), headers, body, contentType, isWatch);
    }

    public FuzzGrpcRequest NextGrpc()
    {
        var (service, method) = GrpcMethods[random.Next(GrpcMethods.Length)];
        IMessage message = method switch
        {
            "Range" => new RangeRequest { Key = KeyBytes(), RangeEnd = Chance(2) ? KeyBytes() : ByteString.Empty, Limit = SmallOrHuge(), Revision = SmallOrHuge(), KeysOnly = Chance(2), CountOnly = Chance(4), Serializable = Chance(3) },
            "Put" => new PutRequest { Key = KeyBytes(), Value = ByteString.CopyFrom(Bytes(random.Next(0, 100))), Lease = Chance(4) ? SmallOrHuge() : 0, PrevKv = Chance(2), IgnoreValue = Chance(6), IgnoreLease = Chance(6) },
            "DeleteRange" => new DeleteRangeRequest { Key = KeyBytes(), RangeEnd = Chance(2) ? KeyBytes() : ByteString.Empty, PrevKv = Chance(2) },
            "Txn" => Txn(),
            "Compact" => new CompactionRequest { Revision = SmallOrHuge(), Physical = Chance(2) },
            "LeaseGrant" => new LeaseGrantRequest { TTL = SmallOrHuge(), ID = Chance(2) ? SmallOrHuge() : 0 },
            "LeaseRevoke" => new LeaseRevokeRequest { ID = SmallOrHuge() },
            "LeaseTimeToLive" => new LeaseTimeToLiveRequest { ID = SmallOrHuge(), Keys = Chance(2) },
            "HashKV" => new HashKVRequest { Revision = SmallOrHuge() },
            "LeaseLeases" => new LeaseLeasesRequest(),
            "Status" => new StatusRequest(),
            _ => new MemberListRequest(),
        };
        var bytes = message.ToByteArray();
        return new FuzzGrpcRequest(service, method, Chance(3) ? Mangle(bytes) : bytes);
    }

    private TxnRequest Txn()
    {
        var txn = new TxnRequest();
        for (var i = random.Next(0, 4); i > 0; i--)
        {
            txn.Compare.Add(new Compare
            {
                Key = KeyBytes(),
                Target = (Compare.Types.CompareTarget)random.Next(-1, 6),
                Result = (Compare.Types.CompareResult)random.Next(-1, 5),
                Version = SmallOrHuge(),
                Value = ByteString.CopyFrom(Bytes(random.Next(0, 8))),
            });
        }

        for (var i = random.Next(0, 4); i > 0; i--)
        {
            var op = random.Next(4) switch
            {
                0 => new RequestOp { RequestPut = new PutRequest { Key = KeyBytes(), Value = ByteString.CopyFrom(Bytes(4)) } },
                1 => new RequestOp { RequestRange = new RangeRequest { Key = KeyBytes(), Limit = SmallOrHuge() } },
                2 => new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = KeyBytes(), RangeEnd = KeyBytes() } },
                _ => new RequestOp { RequestTxn = new TxnRequest { Success = { new RequestOp { RequestPut = new PutRequest { Key = KeyBytes() } } } } },
            };
            (Chance(2) ? txn.Success : txn.Failure).Add(op);
        }

        return txn;
    }

    private string TxnJson()
    {
        string Op() => random.Next(6) switch
        {
            0 => "{\"put\": {\"key\": " + JsonString() + ", \"value\": " + JsonString() + (Chance(4) ? ", \"lease\": " + JsonNumber() : "") + "}}",
            1 => "{\"delete\": {\"key\": " + JsonString() + "}}",
            2 => "{\"deleteRange\": {\"prefix\": " + JsonString() + "}}",
            3 => "{\"get\": {\"key\": " + JsonString() + ", \"revision\": " + JsonNumber() + "}}",
            4 => "{\"range\": {\"from\": " + JsonString() + ", \"to\": " + JsonString() + ", \"limit\": " + JsonNumber() + "}}",
            _ => "{\"" + Segment() + "\": " + JsonString() + "}",
        };
        string Compare() => $$"""{"key": {{JsonString()}}, "target": "{{Pick("value", "version", "createRevision", "modRevision", "lease", "bogus")}}", "result": "{{Pick("equal", "notEqual", "greater", "less", "=")}}", "value": {{Pick(JsonString(), JsonNumber())}}}""";
        if (Chance(15))
        {
            return new string('[', 200) + new string(']', 200);
        }

        return $$"""{"compare": [{{string.Join(',', Enumerable.Range(0, random.Next(0, 3)).Select(_ => Compare()))}}], "success": [{{string.Join(',', Enumerable.Range(0, random.Next(0, 4)).Select(_ => Op()))}}], "failure": [{{string.Join(',', Enumerable.Range(0, random.Next(0, 2)).Select(_ => Op()))}}]}""";
    }

    /// <summary>A key as it goes in a URL path: mostly from a small pool, so writes and conditions meet, sometimes broken.</summary>
    private string Key() => random.Next(12) switch
    {
        < 6 => "k" + random.Next(20),
        6 => Escape(Bytes(random.Next(1, 12))),
        7 => Pick("%", "%zz", "%e0%80", "%c3", "%00", "%2e", "%2E%2e", ".", "..", "a/./b", "a/../b", "+", "%2F", ""),
        8 => new string('x', random.Next(1_000, 70_000)),
        9 => "k" + random.Next(5) + "/" + Segment(),
        _ => Uri.EscapeDataString(Text(random.Next(1, 10))),
    };

    private ByteString KeyBytes() => Chance(4) ? ByteString.CopyFrom(Bytes(random.Next(0, 6))) : ByteString.CopyFromUtf8("k" + random.Next(20));

    private string Segment() => Chance(3) ? Escape(Bytes(random.Next(0, 6))) : Uri.EscapeDataString(Text(random.Next(0, 8)));

    private string QueryValue() => random.Next(9) switch
    {
        0 => Number(),
        1 => Pick("true", "false", "TRUE", "1", "yes", ""),
        2 => Pick("linearizable", "lease", "local", "serializable", "base64", "utf8"),
        3 => Escape(Bytes(random.Next(0, 8))),
        4 => Pick("%", "%zz", "%e0%80", "+", "a+b", "==", "not-base64!"),
        5 => "k" + random.Next(20),
        6 => Convert.ToBase64String(Bytes(random.Next(0, 8))),
        _ => Uri.EscapeDataString(Text(random.Next(0, 12))),
    };

    private string Number() => Pick("0", "1", "-1", "2", random.Next(1, 1_000).ToString(System.Globalization.CultureInfo.InvariantCulture), "9223372036854775807", "9223372036854775808", "-9223372036854775808", "99999999999999999999", "1.5", "1e3", "0x10", "abc");

    private string JsonNumber() => Pick("0", "1", "-1", "5", "60", "1e309", "-0", "12345678901234567890", "1.5", "\"3\"", "null", "true", "[]", "{}");

    private string JsonString() => Chance(5) ? Pick("null", "1", "[]", "{}", "\"\\ud800\"", "\"\\u0000\"") : System.Text.Json.JsonSerializer.Serialize(Chance(2) ? "k" + random.Next(20) : Text(random.Next(0, 10)));

    private long SmallOrHuge() => random.Next(6) switch
    {
        0 => 0,
        1 => -1,
        2 => long.MaxValue,
        3 => long.MinValue,
        _ => random.Next(1, 100),
    };

    /// <summary>Flips, cuts, repeats or splices bytes.</summary>
    private byte[] Mangle(byte[] bytes)
    {
        var list = new List<byte>(bytes);
        for (var i = random.Next(1, 4); i > 0; i--)
        {
            switch (random.Next(4))
            {
                case 0 when list.Count > 0:
                    list[random.Next(list.Count)] ^= (byte)(1 << random.Next(8));
                    break;
                case 1 when list.Count > 0:
                    var at = random.Next(list.Count);
                    list.RemoveRange(at, Math.Min(list.Count - at, random.Next(1, 9)));
                    break;
                case 2:
                    list.InsertRange(random.Next(list.Count + 1), Bytes(random.Next(1, 8)));
                    break;
                default:
                    list.AddRange(list.Take(random.Next(list.Count + 1)).ToList());
                    break;
            }
        }

        return [.. list];
    }

    private static byte[] Json(string text) => Encoding.UTF8.GetBytes(text);

    private static string Escape(byte[] bytes) => string.Concat(bytes.Select(b => $"%{b:X2}"));

    private byte[] Bytes(int count)
    {
        var bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }

    /// <summary>Printable text with some unicode, never control characters (those cannot go in a header at all).</summary>
    private string Text(int length)
    {
        const string alphabet = "abcxyzABC0129-_.~ /+=:;,?#[]@!$&'()*%\"<>\\^`{|}éß日本😀";
        var builder = new StringBuilder(length);
        for (var i = 0; i < length; i++)
        {
            var index = random.Next(alphabet.Length);
            builder.Append(char.IsHighSurrogate(alphabet[index]) ? alphabet.Substring(index, 2) : char.IsLowSurrogate(alphabet[index]) ? "z" : alphabet[index].ToString());
        }

        return builder.ToString();
    }

    private bool Chance(int oneIn) => random.Next(oneIn) == 0;

    private T Pick<T>(params T[] choices) => choices[random.Next(choices.Length)];
}
