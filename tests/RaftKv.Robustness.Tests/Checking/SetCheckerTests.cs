using RaftKv.Robustness.Checking;

namespace RaftKv.Robustness.Tests.Checking;

public sealed class SetCheckerTests
{
    [Fact]
    public void Every_acknowledged_element_present_is_valid()
    {
        var result = SetChecker.Check([("a", "ok"), ("b", "ok"), ("c", "fail"), ("d", "info")], new HashSet<string> { "a", "b" });

        Assert.True(result.Valid);
        Assert.Empty(result.Lost);
        Assert.Empty(result.Unexpected);
        Assert.Empty(result.Recovered);
        Assert.Equal((4, 2, 1, 1, 2), (result.Attempted, result.Acknowledged, result.Failed, result.Indeterminate, result.Observed));
    }

    [Fact]
    public void An_acknowledged_element_missing_is_lost()
    {
        var result = SetChecker.Check([("a", "ok"), ("b", "ok"), ("c", "ok")], new HashSet<string> { "b" });

        Assert.False(result.Valid);
        Assert.Equal(["a", "c"], result.Lost);
    }

    [Fact]
    public void An_element_never_attempted_is_unexpected()
    {
        var result = SetChecker.Check([("a", "ok")], new HashSet<string> { "a", "z" });

        Assert.False(result.Valid);
        Assert.Equal(["z"], result.Unexpected);
    }

    [Fact]
    public void An_info_element_present_is_recovered_and_valid()
    {
        var result = SetChecker.Check([("a", "info"), ("b", "info")], new HashSet<string> { "b" });

        Assert.True(result.Valid);
        Assert.Equal(["b"], result.Recovered);
    }

    [Fact]
    public void A_failed_element_present_is_invalid()
    {
        var result = SetChecker.Check([("a", "fail")], new HashSet<string> { "a" });

        Assert.False(result.Valid);
        Assert.Equal(["a"], result.FailedButPresent);
    }

    [Fact]
    public void Duplicate_attempts_and_unknown_outcomes_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => SetChecker.Check([("a", "ok"), ("a", "info")], new HashSet<string>()));
        Assert.Throws<ArgumentException>(() => SetChecker.Check([("a", "OK")], new HashSet<string>()));
    }
}
