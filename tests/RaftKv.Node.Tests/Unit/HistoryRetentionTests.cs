using RaftKv.Node.Cluster;

namespace RaftKv.Node.Tests.Unit;

public sealed class HistoryRetentionTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void By_revisions_it_keeps_the_last_n_and_skips_compactions_smaller_than_a_tenth()
    {
        var retention = new HistoryRetention(1000, TimeSpan.Zero);
        Assert.Null(retention.Target(revision: 900, compactRevision: 0, Start));
        Assert.Equal(1500, retention.Target(revision: 2500, compactRevision: 0, Start));
        Assert.Null(retention.Target(revision: 2550, compactRevision: 1500, Start));
        Assert.Equal(1600, retention.Target(revision: 2600, compactRevision: 1500, Start));
    }

    [Fact]
    public void By_time_it_compacts_to_the_newest_revision_seen_at_least_one_period_ago()
    {
        var retention = new HistoryRetention(0, TimeSpan.FromMinutes(10));
        Assert.Null(retention.Target(100, 0, Start));
        Assert.Null(retention.Target(200, 0, Start.AddMinutes(5)));
        Assert.Equal(100, retention.Target(300, 0, Start.AddMinutes(10)));
        Assert.Equal(200, retention.Target(400, 100, Start.AddMinutes(16)));
    }

    [Fact]
    public void With_both_a_revision_is_kept_while_either_wants_it()
    {
        var retention = new HistoryRetention(50, TimeSpan.FromMinutes(1));
        Assert.Null(retention.Target(1000, 0, Start));
        Assert.Equal(1000, retention.Target(5000, 0, Start.AddMinutes(1)));

        // Here the time window is the shorter one: the last 50 revisions are what is kept.
        var recent = new HistoryRetention(50, TimeSpan.FromMinutes(1));
        recent.Target(1000, 0, Start);
        recent.Target(4990, 0, Start.AddMinutes(1));
        Assert.Equal(4950, recent.Target(5000, 0, Start.AddMinutes(2)));
    }

    [Fact]
    public void A_new_leader_starts_its_time_window_afresh()
    {
        var retention = new HistoryRetention(0, TimeSpan.FromMinutes(1));
        retention.Target(100, 0, Start);
        retention.Reset();
        Assert.Null(retention.Target(200, 0, Start.AddMinutes(1)));
        Assert.Equal(200, retention.Target(300, 0, Start.AddMinutes(2)));
    }

    [Fact]
    public void Off_when_both_modes_are_zero()
    {
        var retention = new HistoryRetention(0, TimeSpan.Zero);
        Assert.False(retention.IsEnabled);
        Assert.Null(retention.Target(1_000_000, 0, Start));
    }
}
