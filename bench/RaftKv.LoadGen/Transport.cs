namespace RaftKv.LoadGen;

/// <summary>What became of one operation.</summary>
/// <param name="Status">For a failure answered with an HTTP status, that status; 0 otherwise.</param>
/// <param name="Error">For a failure with no HTTP status, what failed: the transport's exception or the gRPC status.</param>
/// <param name="KnowsTxnValue">For a transaction whose compare failed: whether the failure branch's read could be read back.</param>
/// <param name="TxnValue">That read's value (null: no such key).</param>
/// <param name="NotApplied">For a failure: whether it certainly changed nothing (a refused connection, a 503), so that even a write may go to another target.</param>
internal readonly record struct Answer(Outcome Outcome, int Status = 0, string? Error = null, bool KnowsTxnValue = false, byte[]? TxnValue = null, bool NotApplied = false)
{
    /// <summary>What failed, as the report names it.</summary>
    public string Failure => Error ?? $"HTTP {Status}";

    // RaftKv answers 503 only for requests it did not apply (its problem body says "not-applied").
    public static Answer HttpStatus(int status) => new(Outcome.Failed, Status: status, NotApplied: status == 503);

    public static Answer Transport(string error, bool notSent = false) => new(Outcome.Failed, Error: error, NotApplied: notSent);

    public static Answer CompareFailed(byte[]? current) => new(Outcome.CompareFailed, KnowsTxnValue: true, TxnValue: current);
}

/// <summary>How one worker sends an operation to one of the targets and learns its outcome.</summary>
internal interface IKvTransport
{
    /// <param name="expected">For a transaction: the value the key should hold (null: absent).</param>
    /// <param name="next">For a transaction: the value to put if it does.</param>
    Task<Answer> SendAsync(OpKind op, int target, int key, byte[]? expected, byte[]? next);
}

/// <summary>
/// One worker's HTTP requests, as its system's <see cref="IKvProtocol"/> spells them, over the shared
/// client; answers are read into this worker's own buffers.
/// </summary>
internal sealed class HttpTransport(HttpClient client, IKvProtocol protocol) : IKvTransport
{
    /// <summary>How much of each response body is kept to classify it: a 100-key range answer is about 25 KB.</summary>
    public const int KeptBodyBytes = 64 * 1024;

    // The first bytes of each response body are kept (enough to classify it); the rest is read and dropped.
    private readonly byte[] _body = new byte[KeptBodyBytes];
    private readonly byte[] _discard = new byte[16384];

    public async Task<Answer> SendAsync(OpKind op, int target, int key, byte[]? expected, byte[]? next)
    {
        using var request = op switch
        {
            OpKind.Read => protocol.CreateRead(target, key),
            OpKind.Write => protocol.CreateWrite(target, key),
            OpKind.Range => protocol.CreateRange(target, key),
            _ => protocol.CreateTxn(target, key, expected, next!),
        };
        try
        {
            // Headers first, then the body through reused buffers: no per-response byte array.
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            var kept = await ReadBodyAsync(response);
            var status = (int)response.StatusCode;
            var body = _body.AsSpan(0, kept);
            return protocol.Classify(op, status, body) switch
            {
                Outcome.Failed => Answer.HttpStatus(status),
                Outcome.CompareFailed when protocol.TryReadFailedTxnValue(body, out var current) => Answer.CompareFailed(current),
                var outcome => new Answer(outcome),
            };
        }
        catch (HttpRequestException e)
        {
            // A connection that could not be made carried no request.
            return Answer.Transport($"HttpRequestException/{e.HttpRequestError}", notSent: e.HttpRequestError == HttpRequestError.ConnectionError);
        }
        catch (TaskCanceledException)
        {
            // HttpClient.Timeout: nothing else cancels requests here.
            return Answer.Transport("Timeout");
        }
        catch (IOException e)
        {
            return Answer.Transport(e.GetType().Name);
        }
    }

    private async Task<int> ReadBodyAsync(HttpResponseMessage response)
    {
        await using var body = await response.Content.ReadAsStreamAsync();
        var kept = 0;
        while (true)
        {
            var buffer = kept < _body.Length ? _body.AsMemory(kept) : _discard;
            var read = await body.ReadAsync(buffer);
            if (read == 0)
            {
                return kept;
            }

            if (kept < _body.Length)
            {
                kept += read;
            }
        }
    }
}
