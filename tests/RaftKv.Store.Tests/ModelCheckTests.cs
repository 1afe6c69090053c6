using CsCheck;
using RaftKv.Store.Commands;
using RaftKv.Store.Keyspace;
using RaftKv.Store.Results;
using RaftKv.Store.Watch;
using static RaftKv.Store.Tests.StoreTestKit;

namespace RaftKv.Store.Tests;

/// <summary>
/// Random command sequences against the store and against a naive model written separately here
/// (every version of every key in a list, nothing ever dropped), with snapshot and restore at
/// random points; every read at every readable revision must agree, and so must the changes a
/// watch sees: the store's live feed, and its history replayed from any readable revision.
/// </summary>
public sealed class ModelCheckTests
{
    private static readonly string[] Keys = ["a", "a/1", "a/2", "b", "b/1", "c"];

    [Fact]
    public void The_store_agrees_with_a_naive_model()
    {
        Gen.Select(Gen.Int[0, 12], Gen.Int[0, Keys.Length - 1], Gen.Int[0, 6]).Array[1, 60].Sample(ops =>
        {
            var store = new KeyValueStore();
            var model = new Model();
            var live = new List<(long, string)>();
            store.Changed = changes => live.AddRange(Describe([changes]));
            foreach (var (kind, keyIndex, number) in ops)
            {
                var key = Keys[keyIndex];
                switch (kind)
                {
                    case <= 3:
                        Assert.Equal(model.Put(key, number.ToString()), store.Put(key, number.ToString()).Revision);
                        break;
                    case 4:
                        Assert.Equal(model.Delete(k => k == key), store.Delete(key).Revision);
                        break;
                    case 5:
                        Assert.Equal(model.Delete(k => k.StartsWith(key, StringComparison.Ordinal)), store.Run(new DeleteRangeRequest(KeyRange.Prefix(B(key)))).Revision);
                        break;
                    case 6:
                        // Compare-and-put on the modRevision the model expects, or a stale one.
                        var expected = model.Current(key)?.Mod ?? 0;
                        var guess = number % 2 == 0 ? expected : expected + 1;
                        var txn = store.Run(new TxnRequest([Cmp(key, CompareTarget.ModRevision, CompareResult.Equal, guess)], [new PutRequest(B(key), B("t"))], []));
                        Assert.Equal(guess == expected, ((TxnResult)txn.Result!).Succeeded);
                        Assert.Equal(guess == expected ? model.Put(key, "t") : model.Revision, txn.Revision);
                        break;
                    case 7:
                        var target = model.Compacted + number;
                        var compacted = store.Run(new CompactRequest(target));
                        Assert.Equal(model.Compact(target), compacted.Status == CommandStatus.Applied);
                        break;
                    case 8:
                        store = store.RoundTrip();
                        store.Changed = changes => live.AddRange(Describe([changes]));
                        break;
                    case 9:
                        Assert.Equal(model.Grant(number + 1), store.Run(new LeaseGrantRequest(number + 1, 60)).Status == CommandStatus.Applied);
                        break;
                    case 10:
                        var leased = store.Run(new PutRequest(B(key), B("l"), number + 1));
                        Assert.Equal(model.PutWithLease(key, "l", number + 1), leased.Status == CommandStatus.Applied ? leased.Revision : null);
                        break;
                    case 11:
                        var revoked = store.Run(new LeaseRevokeRequest(number + 1));
                        Assert.Equal(model.Revoke(number + 1), revoked.Status == CommandStatus.Applied ? revoked.Revision : null);
                        break;
                    default:
                        break;
                }

                for (var revision = Math.Max(1, model.Compacted); revision <= model.Revision; revision++)
                {
                    var actual = store.Range(KeyRange.Prefix([]), revision).Kvs.Select(kv => (S(kv.Key), S(kv.Value), kv.CreateRevision, kv.ModRevision, kv.Version, kv.Lease));
                    Assert.Equal(model.ReadAll(revision), actual);
                }

                Assert.Equal(model.Revision, store.View.Revision);
                var replayFrom = model.Compacted + 1 + (number % 3);
                Assert.Equal(model.Events(replayFrom), Describe(store.View.ChangesSince(KeyRange.Prefix([]), replayFrom)));
            }

            Assert.Equal(model.Events(1), live);
        }, iter: 400);
    }

    /// <summary>Each event as one comparable line: revision, then type, key, value, versions and the previous value.</summary>
    private static IEnumerable<(long, string)> Describe(IEnumerable<RevisionChanges> revisions)
        => revisions.SelectMany(changes => (changes.EventsIn(KeyRange.Prefix([]), prevKv: true) ?? []).Select(e =>
            (changes.Revision, $"{e.Type} {S(e.Kv.Key)}={S(e.Kv.Value)} c{e.Kv.CreateRevision} m{e.Kv.ModRevision} v{e.Kv.Version} l{e.Kv.Lease} prev={(e.PrevKv is { } p ? S(p.Value) + "@" + p.ModRevision : "-")}")));

    private sealed class Model
    {
        private readonly Dictionary<string, List<(long Mod, string? Value, long Create, long Version, long Lease)>> history = [];
        private readonly HashSet<long> leases = [];

        public long Revision { get; private set; } = 1;

        public long Compacted { get; private set; }

        public (long Mod, string? Value, long Create, long Version, long Lease)? Current(string key)
            => history.TryGetValue(key, out var versions) && versions[^1].Value is not null ? versions[^1] : null;

        public long Put(string key, string value) => PutWithLease(key, value, 0)!.Value;

        /// <summary>The new revision, or null if the lease does not exist.</summary>
        public long? PutWithLease(string key, string value, long lease)
        {
            if (lease != 0 && !leases.Contains(lease))
            {
                return null;
            }

            var current = Current(key);
            Revision++;
            var versions = history.TryGetValue(key, out var list) ? list : history[key] = [];
            versions.Add((Revision, value, current?.Create ?? Revision, (current?.Version ?? 0) + 1, lease));
            return Revision;
        }

        public bool Grant(long lease) => leases.Add(lease);

        /// <summary>The revision after the revoke, or null if the lease does not exist.</summary>
        public long? Revoke(long lease)
            => leases.Remove(lease) ? Delete(key => Current(key)?.Lease == lease) : null;

        public long Delete(Func<string, bool> which)
        {
            var victims = history.Keys.Where(which).Where(k => Current(k) is not null).ToList();
            if (victims.Count > 0)
            {
                Revision++;
                foreach (var key in victims)
                {
                    history[key].Add((Revision, null, 0, 0, 0));
                }
            }

            return Revision;
        }

        public bool Compact(long revision)
        {
            if (revision <= Compacted || revision > Revision)
            {
                return false;
            }

            Compacted = revision;
            return true;
        }

        /// <summary>What a watch of every key from <paramref name="from"/> on must report, as <see cref="Describe"/> writes it.</summary>
        public List<(long, string)> Events(long from)
            => history
                .SelectMany(pair => pair.Value.Select((v, i) => (pair.Key, Version: v, Previous: i > 0 ? pair.Value[i - 1] : default((long Mod, string? Value, long Create, long Version, long Lease)?))))
                .Where(e => e.Version.Mod >= from)
                .OrderBy(e => e.Version.Mod).ThenBy(e => e.Key, StringComparer.Ordinal)
                .Select(e => (e.Version.Mod, e.Version.Value is null
                    ? $"Delete {e.Key}= c0 m{e.Version.Mod} v0 l0 prev={Previous(e.Previous)}"
                    : $"Put {e.Key}={e.Version.Value} c{e.Version.Create} m{e.Version.Mod} v{e.Version.Version} l{e.Version.Lease} prev={Previous(e.Previous)}"))
                .ToList();

        private static string Previous((long Mod, string? Value, long Create, long Version, long Lease)? previous)
            => previous is { Value: { } value } p ? value + "@" + p.Mod : "-";

        public List<(string, string, long, long, long, long)> ReadAll(long revision)
            => history
                .Select(pair => (pair.Key, Version: pair.Value.LastOrDefault(v => v.Mod <= revision)))
                .Where(p => p.Version.Value is not null)
                .OrderBy(p => p.Key, StringComparer.Ordinal)
                .Select(p => (p.Key, p.Version.Value!, p.Version.Create, p.Version.Mod, p.Version.Version, p.Version.Lease))
                .ToList();
    }
}
