using System.Text;
using System.Text.Json;

namespace RaftKv.Client;

/// <summary>What a transaction's compare looks at.</summary>
public enum CompareTarget
{
    /// <summary>The key's value, compared byte by byte.</summary>
    Value,

    /// <summary>The number of puts since the key was created (1 after the first).</summary>
    Version,

    /// <summary>The revision that created the key (0 if it does not exist).</summary>
    CreateRevision,

    /// <summary>The revision that last changed the key.</summary>
    ModRevision,

    /// <summary>The key's lease id (0 if none).</summary>
    Lease,
}

/// <summary>How a compare relates the key's target to the operand.</summary>
public enum CompareResult
{
    /// <summary>The target equals the operand.</summary>
    Equal,

    /// <summary>The target differs from the operand.</summary>
    NotEqual,

    /// <summary>The target is less than the operand.</summary>
    Less,

    /// <summary>The target is greater than the operand.</summary>
    Greater,
}

/// <summary>
/// One condition of a transaction, as in etcd: a missing key has version, createRevision, modRevision and
/// lease 0, and no value compare on it holds.
/// </summary>
public sealed record Compare
{
    private Compare(string key, CompareTarget target, CompareResult result, long number, ReadOnlyMemory<byte> bytes)
    {
        ArgumentNullException.ThrowIfNull(key);
        Key = key;
        Target = target;
        Result = result;
        Number = number;
        Bytes = bytes;
    }

    /// <summary>The key compared.</summary>
    public string Key { get; }

    /// <summary>What of the key is compared.</summary>
    public CompareTarget Target { get; }

    /// <summary>The relation that must hold.</summary>
    public CompareResult Result { get; }

    /// <summary>The operand of a version, revision or lease compare.</summary>
    public long Number { get; }

    /// <summary>The operand of a value compare.</summary>
    public ReadOnlyMemory<byte> Bytes { get; }

    /// <summary>A compare on the value's bytes.</summary>
    public static Compare Value(string key, CompareResult result, ReadOnlyMemory<byte> value) => new(key, CompareTarget.Value, result, 0, value);

    /// <summary>A compare on the value, given as a UTF-8 string.</summary>
    public static Compare Value(string key, CompareResult result, string value) => Value(key, result, Encoding.UTF8.GetBytes(value));

    /// <summary>A compare on the key's version.</summary>
    public static Compare Version(string key, CompareResult result, long version) => new(key, CompareTarget.Version, result, version, default);

    /// <summary>A compare on the revision that created the key.</summary>
    public static Compare CreateRevision(string key, CompareResult result, long revision) => new(key, CompareTarget.CreateRevision, result, revision, default);

    /// <summary>A compare on the revision that last changed the key.</summary>
    public static Compare ModRevision(string key, CompareResult result, long revision) => new(key, CompareTarget.ModRevision, result, revision, default);

    /// <summary>A compare on the key's lease.</summary>
    public static Compare Lease(string key, CompareResult result, long lease) => new(key, CompareTarget.Lease, result, lease, default);

    /// <summary>The key does not exist: its createRevision is 0.</summary>
    public static Compare Absent(string key) => CreateRevision(key, CompareResult.Equal, 0);

    internal void Write(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("key", Key);
        json.WriteString("target", Target switch
        {
            CompareTarget.Value => "value",
            CompareTarget.Version => "version",
            CompareTarget.CreateRevision => "createRevision",
            CompareTarget.ModRevision => "modRevision",
            _ => "lease",
        });
        json.WriteString("result", Result switch
        {
            CompareResult.Equal => "==",
            CompareResult.NotEqual => "!=",
            CompareResult.Less => "<",
            _ => ">",
        });
        if (Target == CompareTarget.Value)
        {
            KvJson.WriteValue(json, Bytes.Span);
        }
        else
        {
            json.WriteNumber("value", Number);
        }

        json.WriteEndObject();
    }
}

/// <summary>An operation of a transaction branch. Later operations see the effects of earlier ones.</summary>
public abstract record TxnOp
{
    private protected TxnOp()
    {
    }

    /// <summary>A put of bytes, attached to <paramref name="lease"/> if not 0.</summary>
    public static TxnPut Put(string key, ReadOnlyMemory<byte> value, long lease = 0) => new(key, value, lease);

    /// <summary>A put of a UTF-8 string value.</summary>
    public static TxnPut Put(string key, string value, long lease = 0) => new(key, Encoding.UTF8.GetBytes(value), lease);

    /// <summary>A delete of one key.</summary>
    public static TxnDelete Delete(string key) => new(key);

    /// <summary>A delete of every key of a range.</summary>
    public static TxnDeleteRange DeleteRange(KeyRange range) => new(range);

    /// <summary>A read of one key.</summary>
    public static TxnGet Get(string key) => new(key);

    /// <summary>A read of a range; see <see cref="TxnRange"/>.</summary>
    public static TxnRange Range(KeyRange range, int? limit = null, long? revision = null, bool keysOnly = false, bool countOnly = false)
        => new(range, limit, revision, keysOnly, countOnly);

    internal void Write(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        switch (this)
        {
            case TxnPut put:
                json.WriteStartObject("put");
                json.WriteString("key", put.Key);
                KvJson.WriteValue(json, put.Value.Span);
                if (put.Lease != 0)
                {
                    json.WriteNumber("lease", put.Lease);
                }

                break;
            case TxnDelete delete:
                json.WriteStartObject("delete");
                json.WriteString("key", delete.Key);
                break;
            case TxnDeleteRange deleteRange:
                json.WriteStartObject("deleteRange");
                KvJson.WriteRange(json, deleteRange.Keys);
                break;
            case TxnGet get:
                json.WriteStartObject("get");
                json.WriteString("key", get.Key);
                break;
            case TxnRange range:
                json.WriteStartObject("range");
                KvJson.WriteRange(json, range.Keys);
                if (range.Limit is { } limit)
                {
                    json.WriteNumber("limit", limit);
                }

                if (range.Revision is { } revision)
                {
                    json.WriteNumber("revision", revision);
                }

                if (range.KeysOnly)
                {
                    json.WriteBoolean("keysOnly", true);
                }

                if (range.CountOnly)
                {
                    json.WriteBoolean("countOnly", true);
                }

                break;
        }

        json.WriteEndObject();
        json.WriteEndObject();
    }
}

/// <summary>A put in a transaction.</summary>
/// <param name="Key">The key.</param>
/// <param name="Value">Its new value.</param>
/// <param name="Lease">The lease to attach it to, or 0 for none.</param>
public sealed record TxnPut(string Key, ReadOnlyMemory<byte> Value, long Lease) : TxnOp;

/// <summary>A delete of one key in a transaction.</summary>
/// <param name="Key">The key.</param>
public sealed record TxnDelete(string Key) : TxnOp;

/// <summary>A delete of a range in a transaction.</summary>
/// <param name="Keys">The keys to delete.</param>
public sealed record TxnDeleteRange(KeyRange Keys) : TxnOp;

/// <summary>A read of one key in a transaction.</summary>
/// <param name="Key">The key.</param>
public sealed record TxnGet(string Key) : TxnOp;

/// <summary>A read of a range in a transaction.</summary>
/// <param name="Keys">The keys to read.</param>
/// <param name="Limit">At most this many keys (the server's default is 1000).</param>
/// <param name="Revision">Read at this past revision.</param>
/// <param name="KeysOnly">Leave the values out.</param>
/// <param name="CountOnly">Only count the keys.</param>
public sealed record TxnRange(KeyRange Keys, int? Limit, long? Revision, bool KeysOnly, bool CountOnly) : TxnOp;

/// <summary>
/// A transaction (<c>POST /v1/txn</c>), with etcd's semantics: if every compare holds, the success operations
/// run, else the failure operations, all atomically at one revision. At most 128 operations per branch, and
/// no key written twice in one branch.
/// </summary>
public sealed record TxnRequest
{
    /// <summary>The conditions, all of which must hold (an empty list always holds).</summary>
    public IReadOnlyList<Compare> Compare { get; init; } = [];

    /// <summary>What runs when every compare holds.</summary>
    public IReadOnlyList<TxnOp> Success { get; init; } = [];

    /// <summary>What runs otherwise.</summary>
    public IReadOnlyList<TxnOp> Failure { get; init; } = [];

    /// <summary>
    /// The request's identity: sent again with the same key, the transaction is applied at most once, and the
    /// repeat answers the first outcome. Retrying an <see cref="WriteOutcome.Unknown"/> transaction is safe only with it.
    /// </summary>
    public string? IdempotencyKey { get; init; }

    internal byte[] ToJson() => KvJson.Write(json =>
    {
        json.WriteStartObject();
        json.WriteStartArray("compare");
        foreach (var compare in Compare)
        {
            compare.Write(json);
        }

        json.WriteEndArray();
        WriteBranch(json, "success", Success);
        WriteBranch(json, "failure", Failure);
        json.WriteEndObject();
    });

    private static void WriteBranch(Utf8JsonWriter json, string name, IReadOnlyList<TxnOp> ops)
    {
        json.WriteStartArray(name);
        foreach (var op in ops)
        {
            op.Write(json);
        }

        json.WriteEndArray();
    }
}

/// <summary>The result of one executed operation of a transaction.</summary>
public abstract record TxnOpResult
{
    private protected TxnOpResult()
    {
    }
}

/// <summary>A put's result.</summary>
/// <param name="Revision">The transaction's revision.</param>
public sealed record TxnPutResult(long Revision) : TxnOpResult;

/// <summary>A delete's result.</summary>
/// <param name="Revision">The transaction's revision.</param>
/// <param name="Deleted">1 if the key existed, else 0.</param>
public sealed record TxnDeleteResult(long Revision, long Deleted) : TxnOpResult;

/// <summary>A range delete's result.</summary>
/// <param name="Revision">The transaction's revision.</param>
/// <param name="Deleted">How many keys were removed.</param>
public sealed record TxnDeleteRangeResult(long Revision, long Deleted) : TxnOpResult;

/// <summary>A read's result.</summary>
/// <param name="Revision">The revision the key was read at.</param>
/// <param name="Item">The key, or null if it does not exist.</param>
public sealed record TxnGetResult(long Revision, KeyValueItem? Item) : TxnOpResult;

/// <summary>A range read's result.</summary>
/// <param name="Page">The keys read, with the count and whether there are more.</param>
public sealed record TxnRangeResult(RangePage Page) : TxnOpResult;

/// <param name="Outcome">
/// Applied (the transaction ran: see <see cref="Succeeded"/> for which branch), NotApplied (definitely not:
/// 503, or refused as invalid) or Unknown (504, timeout, connection lost after sending). Never
/// <see cref="WriteOutcome.PreconditionFailed"/>: compares that do not hold run the failure branch.
/// </param>
/// <param name="Succeeded">Whether every compare held, so that the success branch ran; when applied.</param>
/// <param name="Revision">The store revision after the transaction, when applied.</param>
/// <param name="Results">
/// One per executed operation, in order, when applied. On a <see cref="Replayed"/> answer the results of get
/// and range operations are null: the first answer's reads are not kept.
/// </param>
/// <param name="Replayed">The answer is a repeat of an earlier one with the same idempotency key.</param>
/// <param name="StatusCode">The HTTP status, or null if no response arrived.</param>
/// <param name="Detail">Why it was not applied.</param>
public sealed record TxnResult(
    WriteOutcome Outcome, bool Succeeded, long Revision, IReadOnlyList<TxnOpResult?> Results, bool Replayed, int? StatusCode, string? Detail);
