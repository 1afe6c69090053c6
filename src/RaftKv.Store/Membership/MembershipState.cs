using System.Collections.Immutable;
using RaftKv.Store.Commands;
using RaftKv.Store.Results;

namespace RaftKv.Store.Membership;

/// <summary>A member as every node shows it: its id and the URLs it serves, as the cluster file or a member add gave them.</summary>
/// <param name="GrpcUrl">Empty for a member that serves no etcd gRPC API.</param>
public sealed record MemberRecord(string Id, string Url, string PeerUrl, string GrpcUrl);

/// <summary>
/// The members and their URLs, replicated through the log so that every node can show them, including
/// members added after its own cluster file was written. Which members vote is DotNext's configuration;
/// this is the directory beside it. Uninitialized (<see cref="IsInitialized"/> false) until the first
/// membership change: until then the cluster file's list is in force, which is how a cluster started
/// before membership changes existed reads.
/// </summary>
/// <param name="Members">By id.</param>
/// <param name="Removed">Members removed, by id: a node that sees its own id here knows it left.</param>
public sealed record MembershipState(ImmutableSortedDictionary<string, MemberRecord> Members, ImmutableSortedDictionary<string, MemberRecord> Removed)
{
    public static readonly MembershipState Empty = new(
        ImmutableSortedDictionary.Create<string, MemberRecord>(StringComparer.Ordinal),
        ImmutableSortedDictionary.Create<string, MemberRecord>(StringComparer.Ordinal));

    public bool IsInitialized => !Members.IsEmpty;

    /// <summary>
    /// The directory after a change: the new state, or why it changes nothing. Adding a member exactly as
    /// the directory holds it changes nothing and succeeds, so that a retried add finishes the change. Adding
    /// a started member (with a client URL) at the peer URL of an unstarted one replaces it: its publication.
    /// </summary>
    public (MembershipState State, CommandError Error) Apply(Request request)
    {
        var (baseline, change) = request switch
        {
            MemberAddRequest add => (add.Baseline, (Request)add),
            MemberRemoveRequest remove => (remove.Baseline, remove),
            _ => throw new ArgumentException($"{request.Kind} is not a membership change.", nameof(request)),
        };
        // A first change from a node that knows none of the voters (a member still joining) cannot say who they are.
        if (!IsInitialized && baseline.Count == 0)
        {
            return (this, CommandError.InvalidRequest);
        }

        var members = IsInitialized ? Members : Members.AddRange(baseline.Select(m => KeyValuePair.Create(m.Id, m)));
        switch (change)
        {
            case MemberAddRequest { Member: var member }:
                if (members.TryGetValue(member.Id, out var held))
                {
                    return held == member ? (this with { Members = members }, CommandError.None) : (this, CommandError.MemberExists);
                }

                if (members.Values.FirstOrDefault(m => SamePeer(m.PeerUrl, member.PeerUrl)) is { } samePeer)
                {
                    // A member added by its peer URL alone publishes its id and client URLs once started.
                    if (samePeer.Url.Length > 0 || member.Url.Length == 0)
                    {
                        return (this, CommandError.PeerUrlExists);
                    }

                    members = members.Remove(samePeer.Id);
                }

                return (new MembershipState(members.Add(member.Id, member), Removed.Remove(member.Id)), CommandError.None);
            case MemberRemoveRequest { Id: var id }:
                if (!members.TryGetValue(id, out var removed))
                {
                    return (this, CommandError.MemberNotFound);
                }

                return members.Count == 1
                    ? (this, CommandError.LastMember)
                    : (new MembershipState(members.Remove(id), Removed.SetItem(id, removed)), CommandError.None);
            default:
                throw new ArgumentException($"{request.Kind} is not a membership change.", nameof(request));
        }
    }

    private static bool SamePeer(string a, string b)
        => Uri.TryCreate(a, UriKind.Absolute, out var x) && Uri.TryCreate(b, UriKind.Absolute, out var y)
           && x.Port == y.Port && string.Equals(x.Host, y.Host, StringComparison.OrdinalIgnoreCase);
}
