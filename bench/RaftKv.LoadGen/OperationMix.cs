using System.Globalization;

namespace RaftKv.LoadGen;

/// <summary>The kinds of operation a worker sends. The order is the order <see cref="OperationMix.Pick"/> tries them in.</summary>
internal enum OpKind
{
    /// <summary>One key.</summary>
    Read,

    /// <summary>An unconditional put of one key.</summary>
    Write,

    /// <summary>A prefix that selects exactly <see cref="Protocols.RangeSize"/> keys.</summary>
    Range,

    /// <summary>A compare-and-put of the worker's own key.</summary>
    Txn,
}

/// <summary>The share of each operation kind, summing to 1.</summary>
internal sealed record OperationMix(double Read, double Write, double Range, double Txn)
{
    // Enum.GetValues makes a new array on every call, and Pick runs once per request.
    private static readonly OpKind[] Kinds = Enum.GetValues<OpKind>();

    public double this[OpKind op] => op switch
    {
        OpKind.Read => Read,
        OpKind.Write => Write,
        OpKind.Range => Range,
        _ => Txn,
    };

    /// <summary>
    /// The kind for a uniform <paramref name="u"/> in [0, 1). A read/write mix picks exactly as before there
    /// were other kinds (a read when <paramref name="u"/> &lt; the read share), so its runs stay comparable.
    /// </summary>
    public OpKind Pick(double u)
    {
        var cumulative = 0.0;
        var last = OpKind.Read;
        foreach (var op in Kinds)
        {
            if (this[op] > 0)
            {
                cumulative += this[op];
                last = op;
                if (u < cumulative)
                {
                    return op;
                }
            }
        }

        // Rounding can leave the shares summing to just under 1.
        return last;
    }

    /// <summary>The name in <c>--mix</c>, in the report and in its JSON.</summary>
    public static string NameOf(OpKind op) => op.ToString().ToLowerInvariant();

    public override string ToString() => string.Join(
        ',',
        Kinds.Where(op => this[op] > 0).Select(op => string.Create(CultureInfo.InvariantCulture, $"{NameOf(op)}={this[op]:0.###}")));

    /// <summary>Weights such as "read=0.9,write=0.1", "read=9,write=1" or "txn=1", normalised to shares.</summary>
    /// <exception cref="ArgumentException">The text is not a list of known operations with non-negative weights, one of them positive.</exception>
    public static OperationMix Parse(string text)
    {
        var weights = new Dictionary<OpKind, double>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var pair = part.Split('=', 2);
            if (pair.Length != 2 || !double.TryParse(pair[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var weight) || weight < 0)
            {
                throw new ArgumentException($"bad --mix part '{part}'");
            }

            var op = pair[0] switch
            {
                "read" => OpKind.Read,
                "write" => OpKind.Write,
                "range" => OpKind.Range,
                "txn" => OpKind.Txn,
                _ => throw new ArgumentException($"unknown operation '{pair[0]}' in --mix"),
            };
            weights[op] = weight;
        }

        var total = weights.Values.Sum();
        if (total <= 0)
        {
            throw new ArgumentException("--mix needs a positive weight");
        }

        double Share(OpKind op) => weights.GetValueOrDefault(op) / total;
        return new OperationMix(Share(OpKind.Read), Share(OpKind.Write), Share(OpKind.Range), Share(OpKind.Txn));
    }
}
