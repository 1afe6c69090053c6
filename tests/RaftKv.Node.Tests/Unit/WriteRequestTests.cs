using System.Text;
using Microsoft.Extensions.Primitives;
using RaftKv.Node.Api;
using RaftKv.Store.Commands;

namespace RaftKv.Node.Tests.Unit;

public sealed class WriteRequestTests
{
    [Fact]
    public void No_condition_is_an_unconditional_write()
    {
        Assert.True(WriteRequest.TryParsePrecondition(default, default, default, out var precondition, out _));
        Assert.Equal(PreconditionKind.None, precondition.Kind);
    }

    [Fact]
    public void If_match_takes_one_quoted_revision()
    {
        Assert.True(WriteRequest.TryParsePrecondition(new StringValues("\"17\""), default, default, out var precondition, out _));
        Assert.Equal(Precondition.ModRevisionIs(17), precondition);
    }

    [Fact]
    public void If_none_match_star_means_create_only()
    {
        Assert.True(WriteRequest.TryParsePrecondition(default, new StringValues("*"), default, out var precondition, out _));
        Assert.Equal(PreconditionKind.MustNotExist, precondition.Kind);
    }

    [Fact]
    public void Prev_value_compares_utf8_bytes()
    {
        Assert.True(WriteRequest.TryParsePrecondition(default, default, new StringValues("old"), out var precondition, out _));
        Assert.Equal(PreconditionKind.ValueEquals, precondition.Kind);
        Assert.Equal(Encoding.UTF8.GetBytes("old"), precondition.Value.ToArray());
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
        Assert.False(WriteRequest.TryParsePrecondition(
            ifMatch is null ? default : new StringValues(ifMatch),
            ifNoneMatch is null ? default : new StringValues(ifNoneMatch),
            prevValue is null ? default : new StringValues(prevValue),
            out _,
            out var error));
        Assert.False(string.IsNullOrEmpty(error));
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
