using Microsoft.Extensions.Time.Testing;
using RaftKv.Node.Leases;
using RaftKv.Store.Keyspace;

namespace RaftKv.Node.Tests.Unit;

/// <summary>The leader's lease deadlines, on a fake clock.</summary>
public sealed class LeaseClockTests
{
    private static readonly TimeSpan ElectionTimeout = TimeSpan.FromSeconds(1);

    private readonly FakeTimeProvider time = new();

    [Fact]
    public void A_new_leadership_gives_every_existing_lease_its_ttl_plus_an_election_timeout()
    {
        var clock = new LeaseClock(time, ElectionTimeout);
        clock.Track(LeaseTable.Empty.Grant(1, 10));
        time.Advance(TimeSpan.FromSeconds(10.5));
        Assert.Empty(clock.Expired());
        time.Advance(TimeSpan.FromSeconds(0.5));
        Assert.Equal([1L], clock.Expired());
    }

    [Fact]
    public void A_lease_granted_during_the_leadership_gets_its_ttl_from_when_it_is_seen_and_a_keep_alive_restarts_it()
    {
        var clock = new LeaseClock(time, ElectionTimeout);
        var leases = LeaseTable.Empty;
        clock.Track(leases);
        time.Advance(TimeSpan.FromSeconds(5));
        leases = leases.Grant(2, 3);
        clock.Track(leases);

        time.Advance(TimeSpan.FromSeconds(2));
        Assert.True(clock.TryKeepAlive(2));
        time.Advance(TimeSpan.FromSeconds(2.9));
        Assert.Empty(clock.Expired());
        Assert.InRange(clock.Remaining(2)!.Value.TotalSeconds, 0.099, 0.101);
        time.Advance(TimeSpan.FromSeconds(0.1));
        Assert.Equal([2L], clock.Expired());
    }

    [Fact]
    public void An_expired_lease_cannot_be_kept_alive_and_a_revoked_one_is_forgotten()
    {
        var clock = new LeaseClock(time, TimeSpan.Zero);
        var leases = LeaseTable.Empty.Grant(1, 2).Grant(2, 2);
        clock.Track(leases);
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.False(clock.TryKeepAlive(1));
        Assert.False(clock.TryKeepAlive(99));

        clock.Track(leases.Revoke(1));
        Assert.Null(clock.Remaining(1));
        Assert.Equal([2L], clock.Expired());
    }

    [Fact]
    public void A_lease_revoked_and_granted_again_under_its_id_starts_a_fresh_ttl()
    {
        var clock = new LeaseClock(time, TimeSpan.Zero);
        var leases = LeaseTable.Empty.Grant(7, 5);
        clock.Track(leases);
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal([7L], clock.Expired());

        // Both changes between two looks: the id is the same, the grant is not.
        clock.Track(leases.Revoke(7).Grant(7, 5));
        Assert.Empty(clock.Expired());
        Assert.InRange(clock.Remaining(7)!.Value.TotalSeconds, 4.999, 5.001);
    }

    [Fact]
    public void The_longest_ttl_does_not_overflow_the_clock()
    {
        var clock = new LeaseClock(time, ElectionTimeout);
        clock.Track(LeaseTable.Empty.Grant(1, RaftKv.Store.Commands.RequestRules.MaxLeaseTtl));
        time.Advance(TimeSpan.FromDays(365 * 100));
        Assert.Empty(clock.Expired());
        Assert.True(clock.Remaining(1) > TimeSpan.Zero);
    }
}
