using System.Globalization;

namespace RaftKv.Robustness.History;

/// <summary>Bank account balances by account id, in account order, compared by content.</summary>
public sealed class Balances : IEquatable<Balances>
{
    /// <summary>
    /// The largest balance (or amount) a history may hold, in absolute value: small enough that the checker's
    /// sums fit in 64 bits for any history of fewer than a million operations.
    /// </summary>
    public const long Limit = 1_000_000_000_000;

    private readonly SortedDictionary<int, long> accounts = [];

    /// <exception cref="ArgumentException">An account appears twice, or a balance is beyond <see cref="Limit"/>.</exception>
    public Balances(IEnumerable<KeyValuePair<int, long>> accounts)
    {
        ArgumentNullException.ThrowIfNull(accounts);
        foreach (var (account, balance) in accounts)
        {
            if (balance is < -Limit or > Limit)
            {
                throw new ArgumentException($"The balance of account {account} is beyond ±{Limit}.", nameof(accounts));
            }

            if (!this.accounts.TryAdd(account, balance))
            {
                throw new ArgumentException($"Account {account} appears twice.", nameof(accounts));
            }
        }
    }

    public IReadOnlyDictionary<int, long> Accounts => accounts;

    public long Total => accounts.Values.Sum();

    public bool Equals(Balances? other) => other is not null && accounts.SequenceEqual(other.accounts);

    public override bool Equals(object? obj) => Equals(obj as Balances);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var (account, balance) in accounts)
        {
            hash.Add(account);
            hash.Add(balance);
        }

        return hash.ToHashCode();
    }

    /// <summary>Like the JSON form: <c>{0: 20, 1: 20}</c>.</summary>
    public override string ToString()
        => "{" + string.Join(", ", accounts.Select(a => string.Create(CultureInfo.InvariantCulture, $"{a.Key}: {a.Value}"))) + "}";
}
