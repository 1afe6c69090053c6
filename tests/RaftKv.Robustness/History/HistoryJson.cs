using System.Buffers;
using System.Text;
using System.Text.Json;

namespace RaftKv.Robustness.History;

/// <summary>
/// The JSON form of one history line:
/// {"process": int, "type": "invoke"|"ok"|"fail"|"info", "f": "read"|"write"|"cas", "key": string,
///  "value": string | null | [expected, new], "time": int64, "node": string}.
/// </summary>
internal static class HistoryJson
{
    private static readonly JsonDocumentOptions ParseOptions = new() { AllowDuplicateProperties = false };

    public static string Serialize(HistoryEvent historyEvent)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("process", historyEvent.Process);
            json.WriteString("type", HistoryValidator.Name(historyEvent.Type));
            json.WriteString("f", HistoryValidator.Name(historyEvent.F));
            json.WriteString("key", historyEvent.Key);
            json.WritePropertyName("value");
            if (historyEvent.F == OperationFunction.Cas)
            {
                json.WriteStartArray();
                json.WriteStringValue(historyEvent.Expected);
                json.WriteStringValue(historyEvent.Value);
                json.WriteEndArray();
            }
            else
            {
                json.WriteStringValue(historyEvent.Value);
            }

            json.WriteNumber("time", historyEvent.Time);
            json.WriteString("node", historyEvent.Node);
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Parses one line; throws <see cref="FormatException"/> saying what is wrong.</summary>
    public static HistoryEvent Parse(string line)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line, ParseOptions);
        }
        catch (JsonException e)
        {
            // The parser's own line number is always 0 here, so say where in the line instead.
            var reason = e.Message.Split(" LineNumber:")[0];
            throw new FormatException($"not valid JSON at byte {e.BytePositionInLine} of the line: {reason}", e);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException("a line must be a JSON object");
            }

            var process = Required(root, "process", JsonValueKind.Number).TryGetInt32(out var p)
                ? p
                : throw new FormatException("\"process\" must be a 32-bit integer");
            var type = RequiredString(root, "type") switch
            {
                "invoke" => HistoryEventType.Invoke,
                "ok" => HistoryEventType.Ok,
                "fail" => HistoryEventType.Fail,
                "info" => HistoryEventType.Info,
                var other => throw new FormatException($"unknown type \"{other}\" (expected invoke, ok, fail or info)"),
            };
            var function = RequiredString(root, "f") switch
            {
                "read" => OperationFunction.Read,
                "write" => OperationFunction.Write,
                "cas" => OperationFunction.Cas,
                var other => throw new FormatException($"unknown f \"{other}\" (expected read, write or cas)"),
            };
            var key = RequiredString(root, "key");
            var time = Required(root, "time", JsonValueKind.Number).TryGetInt64(out var t)
                ? t
                : throw new FormatException("\"time\" must be a 64-bit integer");
            var node = RequiredString(root, "node");

            if (!root.TryGetProperty("value", out var value))
            {
                throw new FormatException("missing \"value\"");
            }

            return function == OperationFunction.Cas
                ? ParseCas(process, type, key, value, time, node)
                : new HistoryEvent(process, type, function, key, ParseSingleValue(function, value), null, time, node);
        }
    }

    private static HistoryEvent ParseCas(int process, HistoryEventType type, string key, JsonElement value, long time, string node)
    {
        if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() != 2 ||
            value[0].ValueKind != JsonValueKind.String || value[1].ValueKind != JsonValueKind.String)
        {
            throw new FormatException("the value of a cas must be an array of two strings: [expected, new]");
        }

        return new HistoryEvent(process, type, OperationFunction.Cas, key, value[1].GetString(), value[0].GetString(), time, node);
    }

    private static string? ParseSingleValue(OperationFunction function, JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Null => null,
        _ => throw new FormatException($"the value of a {HistoryValidator.Name(function)} must be a string or null"),
    };

    private static string RequiredString(JsonElement root, string name) =>
        Required(root, name, JsonValueKind.String).GetString()!;

    private static JsonElement Required(JsonElement root, string name, JsonValueKind kind)
    {
        if (!root.TryGetProperty(name, out var property))
        {
            throw new FormatException($"missing \"{name}\"");
        }

        return property.ValueKind == kind
            ? property
            : throw new FormatException($"\"{name}\" must be a {kind.ToString().ToLowerInvariant()}");
    }
}
