using RaftKv.Node.Api;

namespace RaftKv.Node.Tests.Unit;

public sealed class KeyPathTests
{
    [Theory]
    [InlineData("/v1/kv/simple", "simple")]
    [InlineData("/v1/kv/a/b/c", "a/b/c")]
    [InlineData("/v1/kv/a%2Fb", "a/b")]
    [InlineData("/v1/kv/a%2fb?consistency=local", "a/b")]
    [InlineData("/v1/kv/%D0%BA%D0%BB%D1%8E%D1%87", "ключ")]
    [InlineData("/v1/kv/with+plus%20space", "with+plus space")]
    public void Valid_keys_are_decoded(string target, string expected)
    {
        Assert.Equal(expected, KeyPath.TryParse(target, out var error));
        Assert.Null(error);
    }

    [Theory]
    [InlineData("/v1/kv/", "empty")]
    [InlineData("/v1/kv/?x=1", "empty")]
    [InlineData("/v1/kv/bad%zz", "percent")]
    [InlineData("/v1/kv/bad%2", "percent")]
    [InlineData("/v1/kv/%ff", "UTF-8")]
    [InlineData("/v1/kv/%C3%28", "UTF-8")]
    [InlineData("/v2/kv/key", "must start")]
    public void Invalid_keys_are_refused_with_a_reason(string target, string reason)
    {
        Assert.Null(KeyPath.TryParse(target, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Keys_are_limited_to_4_KiB_of_UTF_8()
    {
        Assert.NotNull(KeyPath.TryParse("/v1/kv/" + new string('k', KeyPath.MaxKeyBytes), out _));
        Assert.Null(KeyPath.TryParse("/v1/kv/" + new string('k', KeyPath.MaxKeyBytes + 1), out var error));
        Assert.Contains("4096", error, StringComparison.Ordinal);
    }
}
