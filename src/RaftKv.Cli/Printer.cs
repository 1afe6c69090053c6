using System.Text;
using System.Text.Json;
using RaftKv.Client;

namespace RaftKv.Cli;

/// <summary>Prints results as text for people or as JSON for scripts, and failures to stderr (and, as JSON, to stdout too).</summary>
internal sealed class Printer(CliConsole console, bool json)
{
    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerOptions.Web) { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public bool Json => json;

    /// <summary>One result: <paramref name="document"/> as one JSON line, or <paramref name="text"/>.</summary>
    public void Result(object document, string text)
    {
        console.Out.WriteLine(json ? JsonSerializer.Serialize(document, JsonOptions) : text);
        console.Out.Flush();
    }

    /// <summary>Says why a request did not succeed, and returns <paramref name="exitCode"/>.</summary>
    public int Failure(int exitCode, string outcome, int? status, string? detail)
    {
        var why = $"{outcome}{(status is { } code ? $" (HTTP {code})" : "")}{(detail is null ? "" : ": " + detail)}";
        console.Error.WriteLine($"raftkv: {why}");
        if (json)
        {
            Result(new { outcome, status, detail }, why);
        }

        return exitCode;
    }

    /// <param name="outcome">Not applied, precondition failed, or unknown.</param>
    /// <param name="status">The HTTP status, if one came.</param>
    /// <param name="detail">Why, from the server's problem or the transport.</param>
    /// <param name="idempotencyKey">The write's key: an unknown outcome is safe to retry with it, and only with it.</param>
    public int WriteFailure(WriteOutcome outcome, int? status, string? detail, string? idempotencyKey)
        => Failure(ExitCodes.Of(outcome), outcome switch
        {
            WriteOutcome.PreconditionFailed => "precondition failed",
            WriteOutcome.NotApplied => "not applied",
            _ when idempotencyKey is not null => $"outcome unknown: retry with --idempotency-key {idempotencyKey}, which applies it at most once",
            _ => "outcome unknown",
        }, status, detail);

    /// <summary>A key as JSON: its value as UTF-8 text, or base64 with <c>valueEncoding</c> when it is not text, as the HTTP API does.</summary>
    public static object Item(KeyValueItem item)
    {
        var text = item.Value is null ? null : Text(item.Value);
        return new
        {
            key = item.Key,
            value = text ?? (item.Value is null ? null : Convert.ToBase64String(item.Value)),
            valueEncoding = item.Value is not null && text is null ? "base64" : null,
            createRevision = item.CreateRevision,
            modRevision = item.ModRevision,
            version = item.Version,
            lease = item.Lease == 0 ? (long?)null : item.Lease,
        };
    }

    /// <summary>The bytes as text, or null if they are not UTF-8.</summary>
    public static string? Text(byte[] value)
    {
        try
        {
            return StrictUtf8.GetString(value);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    /// <summary>A value for a person: its text, or its base64 marked as such.</summary>
    public static string Show(byte[]? value) => value is null ? "" : Text(value) ?? "base64:" + Convert.ToBase64String(value);
}
