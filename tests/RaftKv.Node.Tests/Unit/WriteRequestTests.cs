using System.Text;
using Microsoft.Extensions.Primitives;
using RaftKv.Node.Api;
using RaftKv.Store.Commands;

namespace RaftKv.Node.Tests.Unit;

public sealed class WriteRequestTests
{
    private static readonly byte[] Key = Encoding.UTF8.GetBytes("k");

    [Fact]
    public void No_condition_is_an_unconditional_write()
    {
        Assert.True(WriteRequest.TryParseCondition(Key, default, default, [], out var condition, out _));
        Assert.Null(condition);
    }

    [Fact]
    public void If_match_takes_one_quoted_revision()
    {
        Assert.True(WriteRequest.TryParseCondition(Key, new StringValues("\"17\""), default, [], out var condition, out _));
        Assert.Equal((CompareTarget.ModRevision, CompareResult.Equal, 17L), (condition!.Target, condition.Result, condition.Number));
        Assert.Equal(Key, condition.Range.Key);
    }

    [Fact]
    public void If_none_match_star_means_create_only()
    {
        Assert.True(WriteRequest.TryParseCondition(Key, default, new StringValues("*"), [], out var condition, out _));
        Assert.Equal((CompareTarget.CreateRevision, CompareResult.Equal, 0L), (condition!.Target, condition.Result, condition.Number));
    }

    [Fact]
    public void Prev_value_compares_utf8_bytes()
    {
        Assert.True(WriteRequest.TryParseCondition(Key, default, default, [Encoding.UTF8.GetBytes("old")], out var condition, out _));
        Assert.Equal(CompareTarget.Value, condition!.Target);
        Assert.Equal(Encoding.UTF8.GetBytes("old"), condition.Value);
    }

    [Theory]
    [InlineData("17", null, null)]
    [InlineData("\"abc\"", null, null)]
    [InlineData("\"0\"", null, null)]
    [InlineData("*", null, null)]
    [InlineData("W/\"3\"", null, null)]
    [InlineData(null, "\"3\"", null)]
    [InlineData("\"3\"", "*", null)]
    [InlineData(null, "*", "v")]
    public void Malformed_or_combined_conditions_are_refused(string? ifMatch, string? ifNoneMatch, string? prevValue)
    {
        Assert.False(WriteRequest.TryParseCondition(
            Key,
            ifMatch is null ? default : new StringValues(ifMatch),
            ifNoneMatch is null ? default : new StringValues(ifNoneMatch),
            prevValue is null ? [] : [Encoding.UTF8.GetBytes(prevValue)],
            out _,
            out var error));
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Theory]
    [InlineData("?prevValue=a+b", "612b62")]
    [InlineData("?x=1&prevValue=%FF%00%2B&y=2", "ff002b")]
    [InlineData("?prevValue=", "")]
    [InlineData("?prevValue", "")]
    public void Query_values_are_decoded_to_exact_bytes_with_plus_as_plus(string rawQuery, string hex)
    {
        Assert.True(WriteRequest.TryGetQueryBytes(rawQuery, "prevValue", out var values, out _));
        Assert.Equal(Convert.FromHexString(hex), Assert.Single(values));
    }

    [Theory]
    [InlineData("?prevValue=%G1")]
    [InlineData("?prevValue=%4")]
    [InlineData("?prevValue=\u00e9")]
    public void A_malformed_query_value_is_refused(string rawQuery)
    {
        Assert.False(WriteRequest.TryGetQueryBytes(System.Text.RegularExpressions.Regex.Unescape(rawQuery), "prevValue", out _, out var error));
        Assert.Contains("percent-encoding", error);
    }

    [Fact]
    public void Client_and_server_request_ids_never_collide()
    {
        Assert.True(WriteRequest.TryGetRequestId(new StringValues("abc"), out var client, out _));
        Assert.True(WriteRequest.TryGetRequestId(default, out var server1, out _));
        Assert.True(WriteRequest.TryGetRequestId(default, out var server2, out _));

        Assert.Equal("c:abc", client);
        Assert.StartsWith("s:", server1, StringComparison.Ordinal);
        Assert.NotEqual(server1, server2);
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("ключ")]
    public void Bad_idempotency_keys_are_refused(string key)
    {
        Assert.False(WriteRequest.TryGetRequestId(new StringValues(key), out _, out var error));
        Assert.Contains("Idempotency-Key", error, StringComparison.Ordinal);
        Assert.False(WriteRequest.TryGetRequestId(new StringValues(new string('k', WriteRequest.MaxIdempotencyKeyLength + 1)), out _, out _));
    }
}
