using RaftKv.Store.Membership;

namespace RaftKv.Store.Commands;

/// <summary>
/// Adds <paramref name="Member"/> to the directory of members. The first change of a cluster also
/// writes down the members it started with (<paramref name="Baseline"/>, the proposer's cluster file)
/// and its id (<paramref name="ClusterId"/>, unless a restore set one), so that from then on neither
/// depends on any node's cluster file. Later changes ignore both.
/// </summary>
public sealed record MemberAddRequest(IReadOnlyList<MemberRecord> Baseline, ulong ClusterId, MemberRecord Member) : Request
{
    public override RequestKind Kind => RequestKind.MemberAdd;
}

/// <summary>Removes the member <paramref name="Id"/> from the directory; see <see cref="MemberAddRequest"/> for the baseline.</summary>
public sealed record MemberRemoveRequest(IReadOnlyList<MemberRecord> Baseline, ulong ClusterId, string Id) : Request
{
    public override RequestKind Kind => RequestKind.MemberRemove;
}
