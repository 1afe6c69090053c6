using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using RaftKv.Node.Etcd;
using Commands = RaftKv.Store.Commands;

namespace RaftKv.Node.Tests.Unit;

/// <summary>The translation of etcd's requests into the store's, field for field, and etcd's refusals.</summary>
public sealed class EtcdMessagesTests
{
    private static ByteString B(string text) => ByteString.CopyFromUtf8(text);

    [Fact]
    public void A_compare_takes_the_number_of_its_own_target_and_zero_for_another()
    {
        var txn = new TxnRequest();
        txn.Compare.Add(new Compare { Key = B("k"), Target = Compare.Types.CompareTarget.Value, Result = Compare.Types.CompareResult.Equal, Value = B("1") });
        txn.Compare.Add(new Compare { Key = B("k"), Target = Compare.Types.CompareTarget.Mod, Result = Compare.Types.CompareResult.Greater, ModRevision = 7 });
        txn.Compare.Add(new Compare { Key = B("k"), Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Equal, CreateRevision = 0 });
        txn.Compare.Add(new Compare { Key = B("k"), Target = Compare.Types.CompareTarget.Version, Result = Compare.Types.CompareResult.Less, Version = 2 });
        txn.Compare.Add(new Compare { Key = B("k"), Target = Compare.Types.CompareTarget.Lease, Result = Compare.Types.CompareResult.NotEqual, Lease = 5 });
        txn.Compare.Add(new Compare { Key = B("k"), Target = Compare.Types.CompareTarget.Version, Result = Compare.Types.CompareResult.Equal, ModRevision = 9 });

        var compares = EtcdMessages.ToRequest(txn, maxValueBytes: 100).Compares;

        Assert.Equal("1"u8.ToArray(), compares[0].Value);
        Assert.Equal(
            [(Commands.CompareTarget.Value, Commands.CompareResult.Equal, 0L), (Commands.CompareTarget.ModRevision, Commands.CompareResult.Greater, 7L), (Commands.CompareTarget.CreateRevision, Commands.CompareResult.Equal, 0L),
             (Commands.CompareTarget.Version, Commands.CompareResult.Less, 2L), (Commands.CompareTarget.Lease, Commands.CompareResult.NotEqual, 5L), (Commands.CompareTarget.Version, Commands.CompareResult.Equal, 0L)],
            compares.Select(c => (c.Target, c.Result, c.Number)));
    }

    [Fact]
    public void Etcds_refusals_carry_its_codes_and_messages()
    {
        var tooMany = new TxnRequest();
        tooMany.Compare.Add(Enumerable.Range(0, 129).Select(_ => new Compare { Key = B("k") }));
        Assert.Equal((StatusCode.InvalidArgument, "etcdserver: too many operations in txn request"), Refusal(() => EtcdMessages.ToRequest(tooMany, 100)));
        Assert.Equal((StatusCode.InvalidArgument, "etcdserver: request is too large"), Refusal(() => EtcdMessages.ToRequest(new PutRequest { Key = B("k"), Value = ByteString.CopyFrom(new byte[101]) }, 100)));
        Assert.Equal((StatusCode.InvalidArgument, "etcdserver: lease is provided"), Refusal(() => EtcdMessages.ToRequest(new PutRequest { Key = B("k"), Lease = 1, IgnoreLease = true }, 100)));
        Assert.Equal((StatusCode.InvalidArgument, "etcdserver: key is not provided"), Refusal(() => EtcdMessages.ToRange(ByteString.Empty, B("z"))));
        var emptyOp = new TxnRequest();
        emptyOp.Success.Add(new RequestOp());
        Assert.Equal((StatusCode.InvalidArgument, "etcdserver: key not found"), Refusal(() => EtcdMessages.ToRequest(emptyOp, 100)));
        Assert.Equal((StatusCode.InvalidArgument, "etcdserver: invalid sort option"), Refusal(() => EtcdMessages.ToRequest(new RaftKv.Store.Keyspace.KeyRange([1], []), new RangeRequest { Key = B("k"), SortTarget = (RangeRequest.Types.SortTarget)9 })));
    }

    [Fact]
    public void A_range_that_ends_before_its_key_is_empty_outside_a_transaction_and_refused_inside_one()
    {
        Assert.Null(EtcdMessages.ToRange(B("b"), B("a")));
        Assert.True(EtcdMessages.ToRange(B("a"), B("\0"))!.Value.End is null);
        var txn = new TxnRequest();
        txn.Success.Add(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = B("b"), RangeEnd = B("a") } });
        Assert.Equal(StatusCode.InvalidArgument, Refusal(() => EtcdMessages.ToRequest(txn, 100)).Code);
    }

    private static (StatusCode Code, string Message) Refusal(Func<object?> translate)
    {
        var error = Assert.Throws<RpcException>(translate);
        return (error.StatusCode, error.Status.Detail);
    }
}
