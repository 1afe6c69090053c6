using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Unicode;
using Microsoft.Extensions.Options;
using RaftKv.Node.Configuration;

namespace RaftKv.Node.Api;

/// <summary>
/// Reads request bodies with two bounds: each body's size, so that a request larger than allowed is
/// refused with a problem response, and the bytes of all bodies being received at once
/// (<see cref="RaftKvOptions.MaxRequestBodyBytesInFlight"/>), so that many slow clients cannot
/// exhaust memory.
/// </summary>
/// <remarks>
/// Memory is taken as the bytes arrive, never for a declared length ahead of them: a client that
/// declares 1 MiB and sends nothing holds one chunk. Kestrel's own body limit is off (see
/// NodeSetup), and its minimum data rate ends bodies that arrive too slowly.
/// </remarks>
public sealed class RequestBodies(IOptions<RaftKvOptions> options)
{
    /// <summary>A body declared this small is read into one array of its size, outside the bound on bytes in flight.</summary>
    public const int SmallBodyBytes = 16 * 1024;

    /// <summary>What Kestrel buffers per connection before the application reads it: it stops reading the socket past this.</summary>
    public const int ConnectionBufferBytes = 64 * 1024;

    /// <summary>Larger bodies arrive in pooled chunks of this size, each taken from the bound before it is filled.</summary>
    private const int ChunkBytes = 64 * 1024;

    private long bytesInFlight;

    /// <summary>What a refused body is told: nothing was read or changed.</summary>
    public string OverloadedDetail => $"The node is receiving {options.Value.MaxRequestBodyBytesInFlight} bytes of request bodies "
        + "(RaftKv:MaxRequestBodyBytesInFlight); the request was not applied. Retry later.";

    /// <summary>Reads the body; its bytes are null if it exceeds <paramref name="limit"/> bytes, or if the node is receiving too much.</summary>
    public async Task<BodyRead> ReadAsync(HttpContext context, int limit)
    {
        var declared = context.Request.ContentLength;
        if (declared > limit)
        {
            return new BodyRead(null, Overloaded: false);
        }

        if (declared is { } length && length <= SmallBodyBytes)
        {
            var value = new byte[length];
            await context.Request.Body.ReadExactlyAsync(value, context.RequestAborted);
            return new BodyRead(value, Overloaded: false);
        }

        var chunks = new List<byte[]>();
        var total = 0;
        try
        {
            while (true)
            {
                if (!TryTake(ChunkBytes))
                {
                    return new BodyRead(null, Overloaded: true);
                }

                var chunk = ArrayPool<byte>.Shared.Rent(ChunkBytes);
                chunks.Add(chunk);
                var filled = 0;
                int read;
                while (filled < ChunkBytes && (read = await context.Request.Body.ReadAsync(chunk.AsMemory(filled, ChunkBytes - filled), context.RequestAborted)) > 0)
                {
                    filled += read;
                    if ((long)total + filled > limit)
                    {
                        return new BodyRead(null, Overloaded: false);
                    }
                }

                total += filled;
                if (filled < ChunkBytes)
                {
                    return new BodyRead(Concatenate(chunks, total), Overloaded: false);
                }
            }
        }
        finally
        {
            foreach (var chunk in chunks)
            {
                ArrayPool<byte>.Shared.Return(chunk);
            }

            Interlocked.Add(ref bytesInFlight, -(long)chunks.Count * ChunkBytes);
        }
    }

    /// <summary>The body as JSON; null if it is larger than <paramref name="limit"/> bytes or is not I-JSON, or if the node is receiving too much.</summary>
    public async Task<JsonBodyRead> ReadJsonAsync(HttpContext context, int limit)
    {
        var body = await ReadAsync(context, limit);
        if (body.Bytes is null)
        {
            return new JsonBodyRead(null, body.Overloaded);
        }

        // The reader leaves strings' UTF-8 unchecked until they are read as text, where it throws.
        if (!Utf8.IsValid(body.Bytes))
        {
            return new JsonBodyRead(null, Overloaded: false);
        }

        JsonDocument json;
        try
        {
            json = JsonDocument.Parse(body.Bytes, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException)
        {
            return new JsonBodyRead(null, Overloaded: false);
        }

        if (!HasWholeCharacters(json.RootElement))
        {
            json.Dispose();
            return new JsonBodyRead(null, Overloaded: false);
        }

        return new JsonBodyRead(json, Overloaded: false);
    }

    /// <summary>
    /// False if a string or a name escapes half a surrogate pair (<c>"\ud800"</c>): I-JSON forbids it, and
    /// .NET cannot read it as text, so the handler would fail on it. Only an escape can make one.
    /// </summary>
    private static bool HasWholeCharacters(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if ((JsonMarshal.GetRawUtf8PropertyName(property).IndexOf("\\u"u8) >= 0 && !Decodes(() => property.Name)) || !HasWholeCharacters(property.Value))
                    {
                        return false;
                    }
                }

                return true;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    if (!HasWholeCharacters(item))
                    {
                        return false;
                    }
                }

                return true;
            case JsonValueKind.String:
                return JsonMarshal.GetRawUtf8Value(element).IndexOf("\\u"u8) < 0 || Decodes(element.GetString);
            default:
                return true;
        }
    }

    private static bool Decodes(Func<string?> read)
    {
        try
        {
            read();
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private bool TryTake(int bytes)
    {
        if (Interlocked.Add(ref bytesInFlight, bytes) <= options.Value.MaxRequestBodyBytesInFlight)
        {
            return true;
        }

        Interlocked.Add(ref bytesInFlight, -bytes);
        return false;
    }

    private static byte[] Concatenate(List<byte[]> chunks, int total)
    {
        var value = new byte[total];
        for (var i = 0; i < chunks.Count; i++)
        {
            var offset = i * ChunkBytes;
            chunks[i].AsSpan(0, Math.Min(ChunkBytes, total - offset)).CopyTo(value.AsSpan(offset));
        }

        return value;
    }
}

/// <param name="Bytes">The body, or null if it was refused.</param>
/// <param name="Overloaded">Refused because the node is receiving too many bytes of bodies (503), rather than for its size.</param>
public readonly record struct BodyRead(byte[]? Bytes, bool Overloaded);

/// <param name="Json">The body, or null if it was refused or is not JSON.</param>
/// <param name="Overloaded">Refused because the node is receiving too many bytes of bodies (503).</param>
public readonly record struct JsonBodyRead(JsonDocument? Json, bool Overloaded) : IDisposable
{
    public void Dispose() => Json?.Dispose();
}
