using System.Buffers;
using System.Text;
using System.Text.Json;

namespace RaftKv.Client;

/// <summary>
/// Reads and writes the JSON shapes of the API. A body of the wrong shape throws <see cref="JsonException"/>,
/// which the client reports like any other unreadable answer.
/// </summary>
internal static class KvJson
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static long Int64(JsonElement element, string name)
        => element.TryGetProperty(name, out var property) && property.ValueKind == JsonValueKind.Number && property.TryGetInt64(out var number)
            ? number
            : throw new JsonException($"\"{name}\" must be a 64-bit integer.");

    public static long OptionalInt64(JsonElement element, string name)
        => element.TryGetProperty(name, out var property) && property.ValueKind == JsonValueKind.Number && property.TryGetInt64(out var number) ? number : 0;

    public static bool Boolean(JsonElement element, string name)
        => element.TryGetProperty(name, out var property) && property.ValueKind is JsonValueKind.True or JsonValueKind.False
            ? property.GetBoolean()
            : throw new JsonException($"\"{name}\" must be true or false.");

    public static string String(JsonElement element, string name)
        => element.TryGetProperty(name, out var property) && property.ValueKind == JsonValueKind.String
            ? property.GetString()!
            : throw new JsonException($"\"{name}\" must be a string.");

    /// <summary>The property, which must be an object (or null, when <paramref name="nullable"/>).</summary>
    public static JsonElement? Object(JsonElement element, string name, bool nullable = false)
    {
        if (!element.TryGetProperty(name, out var property))
        {
            throw new JsonException($"\"{name}\" is missing.");
        }

        return property.ValueKind switch
        {
            JsonValueKind.Object => property,
            JsonValueKind.Null when nullable => null,
            _ => throw new JsonException($"\"{name}\" must be an object."),
        };
    }

    /// <summary>A kv item: a value that is not UTF-8 arrives in base64 and says so with <c>"valueEncoding"</c>.</summary>
    public static KeyValueItem Item(JsonElement item)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            throw new JsonException("A kv item must be an object.");
        }

        return new KeyValueItem(
            String(item, "key"), Value(item), Int64(item, "createRevision"), Int64(item, "modRevision"), Int64(item, "version"), OptionalInt64(item, "lease"));
    }

    /// <summary>The item's value; null when it has none (a keys-only read).</summary>
    private static byte[]? Value(JsonElement item)
    {
        if (!item.TryGetProperty("value", out var value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            throw new JsonException("\"value\" must be a string.");
        }

        var base64 = item.TryGetProperty("valueEncoding", out var encoding) && encoding.ValueKind == JsonValueKind.String && encoding.GetString() == "base64";
        if (!base64)
        {
            return Encoding.UTF8.GetBytes(value.GetString()!);
        }

        return value.TryGetBytesFromBase64(out var bytes) ? bytes : throw new JsonException("\"value\" is not valid base64.");
    }

    /// <summary>A watch event: <c>{"type": "put"|"delete", key fields..., "prevKv"?}</c>.</summary>
    public static WatchEvent Event(JsonElement change)
    {
        var type = String(change, "type") switch
        {
            "put" => WatchEventType.Put,
            "delete" => WatchEventType.Delete,
            var other => throw new JsonException($"Unknown event type \"{other}\"."),
        };
        var previous = change.TryGetProperty("prevKv", out var prev) && prev.ValueKind == JsonValueKind.Object ? Item(prev) : null;
        return new WatchEvent(type, Item(change), previous);
    }

    /// <summary>A range response: <c>{"revision", "count", "more", "next", "kvs"}</c>.</summary>
    public static RangePage Page(JsonElement page)
    {
        if (page.ValueKind != JsonValueKind.Object || !page.TryGetProperty("kvs", out var kvs) || kvs.ValueKind != JsonValueKind.Array)
        {
            throw new JsonException("A range response must be an object with a \"kvs\" array.");
        }

        var next = page.TryGetProperty("next", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
        return new RangePage(Int64(page, "revision"), Int64(page, "count"), Boolean(page, "more"), next, [.. kvs.EnumerateArray().Select(Item)]);
    }

    /// <summary>A JSON body, written by <paramref name="write"/>.</summary>
    public static byte[] Write(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            write(json);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Writes <c>"value"</c> for UTF-8 bytes, <c>"valueBase64"</c> for anything else, so every value arrives exactly.</summary>
    public static void WriteValue(Utf8JsonWriter json, ReadOnlySpan<byte> value)
    {
        string text;
        try
        {
            text = StrictUtf8.GetString(value);
        }
        catch (DecoderFallbackException)
        {
            json.WriteBase64String("valueBase64", value);
            return;
        }

        json.WriteString("value", text);
    }

    /// <summary>Writes the fields of a key range: <c>prefix</c> (and <c>from</c>, when resumed), or <c>from</c> and <c>to</c>.</summary>
    public static void WriteRange(Utf8JsonWriter json, KeyRange range)
    {
        if (range.Prefix is not null)
        {
            json.WriteString("prefix", range.Prefix);
        }

        if (range.From is not null)
        {
            json.WriteString("from", range.From);
        }

        if (range.To is not null)
        {
            json.WriteString("to", range.To);
        }
    }
}
