using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace RaftKv.Robustness.History;

/// <summary>
/// The JSON form of one history line:
/// {"process": int, "type": "invoke"|"ok"|"fail"|"info",
///  "f": "read"|"write"|"cas"|"transfer"|"init"|"watch"|"grant"|"keepalive"|"revoke", "key": string,
///  "value": string | null | [expected, new] | {"from": int, "to": int, "amount": int64} | {"&lt;account&gt;": int64, ...}
///         | [key, ...] (an ok range read) | [{"revision": int64, "events": [{"type": "put"|"delete", "key": string, "value": string|null}]}] (a watch),
///  "revision": int64 (optional, ok completions only), "lease": int64, "ttl": int64, "fromRevision": int64 (optional),
///  "time": int64, "node": string}.
/// </summary>
internal static class HistoryJson
{
    private const string UnpairedSurrogate = "a string or name has an unpaired surrogate escape (such as \\uD800 alone), which is not text";

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
            else if (historyEvent.Transfer is { } transfer)
            {
                json.WriteStartObject();
                json.WriteNumber("from", transfer.From);
                json.WriteNumber("to", transfer.To);
                json.WriteNumber("amount", transfer.Amount);
                json.WriteEndObject();
            }
            else if (historyEvent.Balances is { } balances)
            {
                json.WriteStartObject();
                foreach (var (account, balance) in balances.Accounts)
                {
                    json.WriteNumber(account.ToString(CultureInfo.InvariantCulture), balance);
                }

                json.WriteEndObject();
            }
            else if (historyEvent.Keys is { } keys)
            {
                json.WriteStartArray();
                foreach (var key in keys)
                {
                    json.WriteStringValue(key);
                }

                json.WriteEndArray();
            }
            else if (historyEvent.Changes is { } changes)
            {
                WriteChanges(json, changes);
            }
            else
            {
                json.WriteStringValue(historyEvent.Value);
            }

            WriteOptional(json, "revision", historyEvent.Revision);
            WriteOptional(json, "lease", historyEvent.Lease);
            WriteOptional(json, "ttl", historyEvent.Ttl);
            WriteOptional(json, "fromRevision", historyEvent.FromRevision);

            json.WriteNumber("time", historyEvent.Time);
            json.WriteString("node", historyEvent.Node);
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void WriteOptional(Utf8JsonWriter json, string name, long? number)
    {
        if (number is { } value)
        {
            json.WriteNumber(name, value);
        }
    }

    private static void WriteChanges(Utf8JsonWriter json, IReadOnlyList<WatchChange> changes)
    {
        json.WriteStartArray();
        foreach (var change in changes)
        {
            json.WriteStartObject();
            json.WriteNumber("revision", change.Revision);
            json.WriteStartArray("events");
            foreach (var watched in change.Events)
            {
                json.WriteStartObject();
                json.WriteString("type", watched.Type);
                json.WriteString("key", watched.Key);
                json.WriteString("value", watched.Value);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        json.WriteEndArray();
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
        catch (InvalidOperationException e)
        {
            // The check for duplicate names unescapes them, and throws this for a name with an unpaired surrogate.
            throw new FormatException(UnpairedSurrogate, e);
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
                "transfer" => OperationFunction.Transfer,
                "init" => OperationFunction.Init,
                "watch" => OperationFunction.Watch,
                "grant" => OperationFunction.Grant,
                "keepalive" => OperationFunction.KeepAlive,
                "revoke" => OperationFunction.Revoke,
                var other => throw new FormatException($"unknown f \"{other}\" (expected read, write, cas, transfer, init, watch, grant, keepalive or revoke)"),
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


            var historyEvent = function switch
            {
                OperationFunction.Cas => ParseCas(process, type, key, value, time, node),
                OperationFunction.Transfer => new HistoryEvent(process, type, function, key, null, null, time, node) { Transfer = ParseTransfer(value) },
                OperationFunction.Init => new HistoryEvent(process, type, function, key, null, null, time, node) { Balances = ParseBalances(function, value) },
                OperationFunction.Read when value.ValueKind == JsonValueKind.Object =>
                    new HistoryEvent(process, type, function, key, null, null, time, node) { Balances = ParseBalances(function, value) },
                OperationFunction.Read when value.ValueKind == JsonValueKind.Array =>
                    new HistoryEvent(process, type, function, key, null, null, time, node) { Keys = ParseKeys(value) },
                OperationFunction.Watch when value.ValueKind == JsonValueKind.Array =>
                    new HistoryEvent(process, type, function, key, null, null, time, node) { Changes = ParseChanges(value) },
                _ => new HistoryEvent(process, type, function, key, ParseSingleValue(function, value), null, time, node),
            };
            return historyEvent with
            {
                Revision = OptionalInt64(root, "revision"),
                Lease = OptionalInt64(root, "lease"),
                Ttl = OptionalInt64(root, "ttl"),
                FromRevision = OptionalInt64(root, "fromRevision"),
            };
        }
    }

    private static long? OptionalInt64(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var property))
        {
            return null;
        }

        return property.ValueKind == JsonValueKind.Number && property.TryGetInt64(out var number)
            ? number
            : throw new FormatException($"\"{name}\" must be a 64-bit integer");
    }

    private static List<string> ParseKeys(JsonElement value)
        => [.. value.EnumerateArray().Select(key => key.ValueKind == JsonValueKind.String
            ? Text(key)
            : throw new FormatException("the value of a range read must be an array of the keys it found"))];

    private static List<WatchChange> ParseChanges(JsonElement value)
    {
        const string Shape = "the value of a watch must be [{\"revision\": integer, \"events\": [{\"type\": \"put\"|\"delete\", \"key\": string, \"value\": string|null}]}, ...]";
        var changes = new List<WatchChange>();
        foreach (var change in value.EnumerateArray())
        {
            if (change.ValueKind != JsonValueKind.Object ||
                !change.TryGetProperty("revision", out var revision) || revision.ValueKind != JsonValueKind.Number || !revision.TryGetInt64(out var number) ||
                !change.TryGetProperty("events", out var events) || events.ValueKind != JsonValueKind.Array)
            {
                throw new FormatException(Shape);
            }

            var watched = new List<WatchedEvent>();
            foreach (var e in events.EnumerateArray())
            {
                if (e.ValueKind != JsonValueKind.Object ||
                    !e.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String ||
                    !e.TryGetProperty("key", out var key) || key.ValueKind != JsonValueKind.String ||
                    !e.TryGetProperty("value", out var eventValue) || eventValue.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
                {
                    throw new FormatException(Shape);
                }

                watched.Add(new WatchedEvent(Text(type), Text(key), eventValue.ValueKind == JsonValueKind.Null ? null : Text(eventValue)));
            }

            changes.Add(new WatchChange(number, watched));
        }

        return changes;
    }

    private static Transfer ParseTransfer(JsonElement value)
    {
        const string Shape = "the value of a transfer must be {\"from\": account, \"to\": account, \"amount\": integer}";
        if (value.ValueKind != JsonValueKind.Object || value.EnumerateObject().Count() != 3 ||
            !value.TryGetProperty("from", out var from) || from.ValueKind != JsonValueKind.Number || !from.TryGetInt32(out var fromAccount) ||
            !value.TryGetProperty("to", out var to) || to.ValueKind != JsonValueKind.Number || !to.TryGetInt32(out var toAccount) ||
            !value.TryGetProperty("amount", out var amount) || amount.ValueKind != JsonValueKind.Number || !amount.TryGetInt64(out var sum))
        {
            throw new FormatException(Shape);
        }

        return new Transfer(fromAccount, toAccount, sum);
    }

    /// <summary>An object whose names are account ids in decimal (no sign, no leading zero) and whose values are integers.</summary>
    private static Balances ParseBalances(OperationFunction function, JsonElement value)
    {
        var shape = $"the value of {(function == OperationFunction.Init ? "an init" : "a bank read")} must be an object of balances, {{\"<account>\": integer, ...}}";
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException(shape);
        }

        var accounts = new List<KeyValuePair<int, long>>();
        foreach (var property in value.EnumerateObject())
        {
            var name = Name(property);
            if (!int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var account) ||
                account.ToString(CultureInfo.InvariantCulture) != name ||
                property.Value.ValueKind != JsonValueKind.Number || !property.Value.TryGetInt64(out var balance) ||
                balance is < -Balances.Limit or > Balances.Limit)
            {
                throw new FormatException($"{shape} within ±{Balances.Limit}, not \"{name}\": {property.Value.GetRawText()}");
            }

            accounts.Add(new(account, balance));
        }

        // The parser already refused duplicate names, so every account appears once.
        return new Balances(accounts);
    }

    private static HistoryEvent ParseCas(int process, HistoryEventType type, string key, JsonElement value, long time, string node)
    {
        if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() != 2 ||
            value[0].ValueKind != JsonValueKind.String || value[1].ValueKind != JsonValueKind.String)
        {
            throw new FormatException("the value of a cas must be an array of two strings: [expected, new]");
        }

        return new HistoryEvent(process, type, OperationFunction.Cas, key, Text(value[1]), Text(value[0]), time, node);
    }

    private static string? ParseSingleValue(OperationFunction function, JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => Text(value),
        JsonValueKind.Null => null,
        _ => throw new FormatException($"the value of a {HistoryValidator.Name(function)} must be a string or null"),
    };

    private static string RequiredString(JsonElement root, string name) =>
        Text(Required(root, name, JsonValueKind.String));

    /// <summary>A string's text. System.Text.Json unescapes lazily, and throws InvalidOperationException for an unpaired surrogate (\uD800 alone).</summary>
    private static string Text(JsonElement text)
    {
        try
        {
            return text.GetString()!;
        }
        catch (InvalidOperationException e)
        {
            throw new FormatException(UnpairedSurrogate, e);
        }
    }

    /// <summary>A property's name, unescaped as <see cref="Text"/> is.</summary>
    private static string Name(JsonProperty property)
    {
        try
        {
            return property.Name;
        }
        catch (InvalidOperationException e)
        {
            throw new FormatException(UnpairedSurrogate, e);
        }
    }

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
