using RaftKv.Node.Cluster;

namespace RaftKv.Node.Tests.Unit;

/// <summary>When a member the directory removed shuts itself down.</summary>
public sealed class RemovalWatchTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(3);

    [Fact]
    public void A_removed_member_leaves_once_it_no_longer_votes_or_has_long_known_no_leader()
    {
        Assert.True(RemovalWatch.ShouldLeave(removed: true, votes: false, joining: false, leads: false, TimeSpan.Zero, Patience));
        Assert.True(RemovalWatch.ShouldLeave(removed: true, votes: true, joining: false, leads: false, Patience, Patience));
    }

    [Fact]
    public void A_removed_member_stays_while_its_vote_may_still_count()
    {
        // It still votes in its own copy, and hears from a leader: the entry without it may not be committed yet.
        Assert.False(RemovalWatch.ShouldLeave(removed: true, votes: true, joining: false, leads: false, TimeSpan.FromSeconds(1), Patience));

        // A removed leader removes itself from the voters first, and steps down once that is applied.
        Assert.False(RemovalWatch.ShouldLeave(removed: true, votes: true, joining: false, leads: true, Patience, Patience));
        Assert.False(RemovalWatch.ShouldLeave(removed: false, votes: false, joining: false, leads: false, Patience, Patience));
    }

    [Fact]
    public void A_joining_member_that_replays_its_own_earlier_removal_stays()
    {
        // Found by the membership nemesis: a member added back on an empty folder applied its old removal while catching up, and left.
        Assert.False(RemovalWatch.ShouldLeave(removed: true, votes: false, joining: true, leads: false, Patience, Patience));
    }
}
