using System.Buffers;
using System.Text.Json;

namespace RaftKv.Node.Api;

/// <summary>Reads request bodies with a bound, so a request larger than allowed is refused with a problem response, not buffered.</summary>
public static class RequestBody
{
    /// <summary>Reads the body, or returns null as soon as it exceeds <paramref name="limit"/> bytes.</summary>
    /// <remarks>Kestrel's own body limit is off (see NodeSetup): this check answers with a problem response instead.</remarks>
    public static async Task<byte[]?> ReadAsync(HttpContext context, int limit)
    {
        var declared = context.Request.ContentLength;
        if (declared > limit)
        {
            return null;
        }

        // Usually the length is declared: read into an array of exactly that size.
        if (declared is { } length)
        {
            var value = new byte[length];
            await context.Request.Body.ReadExactlyAsync(value, context.RequestAborted);
            return value;
        }

        using var buffer = new MemoryStream();
        var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int read;
            while ((read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
            {
                if (buffer.Length + read > limit)
                {
                    return null;
                }

                buffer.Write(chunk, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        return buffer.ToArray();
    }

    /// <summary>The body as JSON, or null if it is larger than <paramref name="limit"/> bytes or is not JSON.</summary>
    public static async Task<JsonDocument?> ReadJsonAsync(HttpContext context, int limit)
    {
        if (await ReadAsync(context, limit) is not { } body)
        {
            return null;
        }

        try
        {
            return JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
