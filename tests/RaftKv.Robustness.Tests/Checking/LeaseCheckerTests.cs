using RaftKv.Robustness.Checking;
using RaftKv.Robustness.History;

namespace RaftKv.Robustness.Tests.Checking;

/// <summary>The lease checker accepts a valid history and catches each kind of violation (its teeth), on hand-built histories.</summary>
public sealed class LeaseCheckerTests
{
    private const long Second = 1_000_000_000;

    private static Operation Op(int process, OperationFunction f, string key, long invoke, long complete, OperationOutcome type = OperationOutcome.Ok) =>
        new(process, f, key, f == OperationFunction.Write ? key : null, null, null, type, invoke, type == OperationOutcome.Info ? long.MaxValue : complete, "n1");

    private static Operation Grant(int process, long lease, long ttl, long invoke) =>
        Op(process, OperationFunction.Grant, "lease/", invoke, invoke + (Second / 100)) with { Lease = lease, Ttl = ttl };

    private static Operation KeepAlive(int process, long lease, long ttl, long invoke) =>
        Op(process, OperationFunction.KeepAlive, "lease/", invoke, invoke + (Second / 100)) with { Lease = lease, Ttl = ttl };

    private static Operation Revoke(int process, long lease, long invoke, long? revision, OperationOutcome type = OperationOutcome.Ok) =>
        Op(process, OperationFunction.Revoke, "lease/", invoke, invoke + (Second / 100), type) with { Lease = lease, Revision = revision };

    private static Operation Put(int process, string key, long lease, long invoke, long revision) =>
        Op(process, OperationFunction.Write, key, invoke, invoke + (Second / 100)) with { Lease = lease, Revision = revision };

    private static Operation Read(int process, string prefix, long invoke, long complete, long revision, params string[] keys) =>
        Op(process, OperationFunction.Read, prefix, invoke, complete) with { Keys = keys, Revision = revision };

    /// <summary>
    /// Lease 7 (TTL 2 s) with two keys, kept alive at 1 s, left to expire (at 3 s at the earliest), seen gone at 3.5 s; lease 8
    /// (TTL 2 s) with one key, revoked at revision 6 at 1 s.
    /// </summary>
    private static List<Operation> Valid() =>
    [
        Grant(1, 7, 2, 0),
        Put(1, "lease/7/0", 7, Second / 10, 2),
        Put(1, "lease/7/1", 7, Second / 5, 3),
        Grant(2, 8, 2, 0),
        Put(2, "lease/8/0", 8, Second / 10, 4),
        Read(3, "lease/", Second / 2, Second / 2 + (Second / 100), 4, "lease/7/0", "lease/7/1", "lease/8/0"),
        KeepAlive(1, 7, 2, Second),
        Revoke(2, 8, Second, 6),
        Read(2, "lease/8/", 2 * Second, (2 * Second) + (Second / 100), 6),
        Read(1, "lease/7/", 2 * Second, (2 * Second) + (Second / 100), 6, "lease/7/0", "lease/7/1"),
        Read(1, "lease/7/", 3 * Second + (Second / 2), 3 * Second + (Second / 2) + (Second / 100), 7),
        Read(3, "lease/", 5 * Second, (5 * Second) + (Second / 100), 7),
    ];

    [Fact]
    public void Keys_gone_at_revoke_or_after_their_time_are_valid()
    {
        var result = LeaseChecker.Check(Valid());

        Assert.True(result.Valid, string.Join("\n", result.Violations.Select(v => v.Message)));
        Assert.Equal((2, 1, 1, 3, 5, 2), (result.Leases, result.Revoked, result.KeepAlives, result.Keys, result.Reads, result.LeasesSeenEnding));
    }

    [Fact]
    public void A_key_read_at_or_after_its_lease_revoke_is_caught()
    {
        var read = Read(9, "lease/8/", 2 * Second, (2 * Second) + (Second / 100), 6, "lease/8/0");
        var result = LeaseChecker.Check([.. Valid(), read]);

        var violation = Assert.Single(result.Violations);
        Assert.Equal("readable-after-end", violation.Kind);
        Assert.Contains(read, violation.Operations);
    }

    [Fact]
    public void A_key_read_after_another_key_of_its_lease_was_seen_gone_is_caught()
    {
        // At revision 7 lease 7 had ended; one of its keys still there at 8 is a lease that did not end at one revision.
        var result = LeaseChecker.Check([.. Valid(), Read(9, "lease/7/1", 4 * Second, (4 * Second) + (Second / 100), 8, "lease/7/1")]);

        Assert.Equal(["readable-after-end"], result.Violations.Select(v => v.Kind));
    }

    [Fact]
    public void A_key_gone_before_its_last_keep_alive_plus_the_ttl_is_an_early_expiry()
    {
        // The keep-alive at 1 s promised lease 7 until 3 s: gone in a read that completed at 2.5 s is too early.
        var early = Read(9, "lease/7/", 2 * Second + (Second / 2) - (Second / 100), 2 * Second + (Second / 2), 7);
        var result = LeaseChecker.Check([.. Valid(), early]);

        var violation = Assert.Single(result.Violations);
        Assert.Equal("expired-early", violation.Kind);
        Assert.Contains(early, violation.Operations);
    }

    [Fact]
    public void A_read_invoked_in_time_but_completed_after_the_lease_ran_out_may_find_it_gone()
    {
        var slow = Read(9, "lease/7/", 2 * Second + (Second / 2), 3 * Second + (Second / 10), 7);

        Assert.True(LeaseChecker.Check([.. Valid(), slow]).Valid);
    }

    [Fact]
    public void A_revoke_under_way_explains_keys_gone_early_but_a_failed_one_does_not()
    {
        var early = Read(9, "lease/7/", 2 * Second + (Second / 2) - (Second / 100), 2 * Second + (Second / 2), 7);

        Assert.True(LeaseChecker.Check([.. Valid(), Revoke(8, 7, 2 * Second, null, OperationOutcome.Info), early]).Valid);
        Assert.Equal(["expired-early"], LeaseChecker.Check([.. Valid(), Revoke(8, 7, 2 * Second, null, OperationOutcome.Fail), early]).Violations.Select(v => v.Kind));
    }

    [Fact]
    public void A_key_gone_in_a_read_older_than_its_write_says_nothing()
    {
        Assert.True(LeaseChecker.Check([.. Valid(), Read(9, "lease/7/", Second / 2, Second, 2, "lease/7/0")]).Valid);
    }

    [Fact]
    public void Unusable_histories_are_refused()
    {
        Assert.Throws<ArgumentException>(() => LeaseChecker.Check([.. Valid(), Put(9, "lease/7/0", 7, Second, 9)]));
        Assert.Throws<ArgumentException>(() => LeaseChecker.Check([.. Valid(), Grant(9, 7, 2, Second)]));
        Assert.Throws<ArgumentException>(() => LeaseChecker.Check([.. Valid(), Op(9, OperationFunction.Read, "lease/7/0", Second, Second + 1) with { Output = "x" }]));
    }
}
