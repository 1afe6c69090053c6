using System.Text;
using System.Text.Json;
using RaftKv.Store.Keyspace;
using RaftKv.Store.Results;
using RaftKv.Store.Watch;

namespace RaftKv.Node.Api;

/// <summary>
/// Writes keys, values and read results as the HTTP API's JSON. Keys and values are strings when
/// they are valid UTF-8 and base64 otherwise (marked with <c>valueEncoding</c>); with
/// <c>encoding=base64</c> every key and value is base64.
/// </summary>
public static class KvJson
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>A range answer: revision, count, more, next (the key to continue from), kvs (without values when <paramref name="keysOnly"/>).</summary>
    public static void WriteRange(Utf8JsonWriter json, long revision, RangeResult range, bool base64, bool keysOnly)
    {
        json.WriteStartObject();
        json.WriteNumber("revision", revision);
        json.WriteNumber("count", range.Count);
        json.WriteBoolean("more", range.More);
        json.WritePropertyName("next");
        if (range.More && range.Kvs.Count > 0)
        {
            // The smallest key after the last one returned.
            WriteKeyString(json, [.. range.Kvs[^1].Key, 0], base64);
        }
        else
        {
            json.WriteNullValue();
        }

        json.WriteStartArray("kvs");
        foreach (var kv in range.Kvs)
        {
            WriteKv(json, kv, base64, withValue: !keysOnly);
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    public static void WriteKv(Utf8JsonWriter json, KeyValue kv, bool base64, bool withValue)
    {
        json.WriteStartObject();
        WriteKvProperties(json, kv, base64, withValue);
        json.WriteEndObject();
    }

    private static void WriteKvProperties(Utf8JsonWriter json, KeyValue kv, bool base64, bool withValue)
    {
        json.WritePropertyName("key");
        WriteKeyString(json, kv.Key, base64);
        if (withValue)
        {
            if (!base64 && IsUtf8(kv.Value))
            {
                json.WriteString("value", kv.Value);
            }
            else
            {
                json.WriteBase64String("value", kv.Value);
                json.WriteString("valueEncoding", "base64");
            }
        }

        json.WriteNumber("createRevision", kv.CreateRevision);
        json.WriteNumber("modRevision", kv.ModRevision);
        json.WriteNumber("version", kv.Version);
        json.WriteNumber("lease", kv.Lease);
    }

    /// <summary>A watch event: its type, then the key as <see cref="WriteKv"/> writes it, and <c>prevKv</c> when it has one.</summary>
    public static void WriteEvent(Utf8JsonWriter json, KeyEvent change, bool base64)
    {
        json.WriteStartObject();
        json.WriteString("type", change.Type == KeyEventType.Put ? "put" : "delete");
        WriteKvProperties(json, change.Kv, base64, withValue: true);
        if (change.PrevKv is { } previous)
        {
            json.WritePropertyName("prevKv");
            WriteKv(json, previous, base64, withValue: true);
        }

        json.WriteEndObject();
    }

    public static void WriteKeyString(Utf8JsonWriter json, byte[] key, bool base64)
    {
        if (base64 || !IsUtf8(key))
        {
            json.WriteBase64StringValue(key);
        }
        else
        {
            json.WriteStringValue(key);
        }
    }

    private static bool IsUtf8(byte[] bytes)
    {
        try
        {
            StrictUtf8.GetCharCount(bytes);
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }

    /// <summary>A response whose body is JSON written straight to the response stream.</summary>
    public static IResult Ok(Action<Utf8JsonWriter> write) => new JsonBody(write);

    private sealed class JsonBody(Action<Utf8JsonWriter> write) : IResult
    {
        public async Task ExecuteAsync(HttpContext context)
        {
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = "application/json; charset=utf-8";
            await using var json = new Utf8JsonWriter(context.Response.Body);
            write(json);
            await json.FlushAsync(context.RequestAborted);
        }
    }
}
