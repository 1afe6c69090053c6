using System.Globalization;
using System.Text;

namespace RaftKv.Client;

/// <summary>Builds a URL query string, leaving out the parameters that are not set.</summary>
internal sealed class QueryBuilder
{
    private readonly StringBuilder query = new();

    public void Add(string name, string? value)
    {
        if (value is null)
        {
            return;
        }

        query.Append(query.Length == 0 ? '?' : '&').Append(name).Append('=').Append(Uri.EscapeDataString(value));
    }

    public void Add(string name, long? value) => Add(name, value?.ToString(CultureInfo.InvariantCulture));

    /// <summary>Adds <c>name=true</c> when <paramref name="value"/> is true; false is the API's default.</summary>
    public void Add(string name, bool value) => Add(name, value ? "true" : null);

    public QueryBuilder Copy()
    {
        var copy = new QueryBuilder();
        copy.query.Append(query);
        return copy;
    }

    public override string ToString() => query.ToString();
}
