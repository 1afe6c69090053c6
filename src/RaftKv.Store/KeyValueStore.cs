using RaftKv.Store.Auth;
using RaftKv.Store.Commands;
using RaftKv.Store.Keyspace;
using RaftKv.Store.Membership;
using RaftKv.Store.Results;
using RaftKv.Store.Snapshots;
using RaftKv.Store.Watch;

namespace RaftKv.Store;

/// <summary>
/// The replicated state and the deterministic applier over it: the MVCC keyspace (etcd's data
/// model: one store revision, per-key histories, compaction, leases) and the request-id table. The same
/// entries in the same order give the same state on every node. No clock, no randomness: time comes
/// only from the leaders' stamps on the entries (<see cref="BeginEntry"/>).
/// </summary>
/// <remarks>
/// Raft applies commands one at a time. Each applied command publishes a new immutable
/// <see cref="KeyspaceView"/>; readers take the current one without a lock and never wait for the
/// applier or a snapshot.
/// </remarks>
public sealed class KeyValueStore
{
    private readonly Lock applying = new();

    /// <summary>Keys with history a compaction may drop, by the revision that superseded their older version (ascending).</summary>
    private readonly Queue<(long Revision, byte[] Key)> compactable = new();

    private volatile KeyspaceView view = KeyspaceView.Empty;
    private RequestIdTable requests = new();
    private long clusterId;
    private volatile AuthState auth = AuthState.Empty;
    private volatile MembershipState membership = MembershipState.Empty;

    /// <summary>The latest applied state.</summary>
    public KeyspaceView View => view;

    /// <summary>The users and roles, and whether authentication is enabled: as of the latest applied command.</summary>
    public AuthState Auth => auth;

    /// <summary>The id a restore from a backup gave the cluster; 0 if it never was restored (<see cref="StoreSnapshot.ClusterId"/>).</summary>
    public ulong ClusterId => (ulong)Interlocked.Read(ref clusterId);

    /// <summary>The directory of members, as of the latest applied command.</summary>
    public MembershipState Membership => membership;

    /// <summary>
    /// Called with each revision's changes right after <see cref="View"/> moves to it, on the applying
    /// thread and in revision order. It must not block: it holds up every later command.
    /// </summary>
    public Action<RevisionChanges>? Changed { get; set; }

    /// <summary>How many request ids are remembered, and how many of them are client keys.</summary>
    public (int All, int ClientKeys) RememberedRequestIds
    {
        get
        {
            lock (applying)
            {
                return (requests.Count, requests.ClientKeyCount);
            }
        }
    }

    /// <summary>Starts a log entry, before its commands: its stamp (null for an entry without one) ages the request ids.</summary>
    public void BeginEntry(EntryStamp? stamp)
    {
        lock (applying)
        {
            requests.BeginEntry(stamp);
        }
    }

    /// <summary>Applies one command, at most once per request id.</summary>
    public CommandResult Apply(WriteCommand command)
    {
        var fingerprint = command.Fingerprint ?? CommandFingerprint.Of(command.Request);
        lock (applying)
        {
            if (requests.TryGet(command.RequestId, out var earlier))
            {
                return earlier.Fingerprint == fingerprint
                    ? earlier.Result
                    : new CommandResult(CommandStatus.RequestIdReused, view.Revision, null);
            }

            // Refused, and not remembered: a retry may succeed once older keys have aged out.
            if (!requests.CanRemember(command.RequestId))
            {
                return CommandResult.Rejected(CommandError.IdempotencyKeysFull, view.Revision, view.CompactRevision);
            }

            var result = ApplyNew(command.Request);
            requests.Add(command.RequestId, fingerprint, result.ForReplay());
            return result;
        }
    }

    private CommandResult ApplyNew(Request request)
    {
        var before = view;
        if (RequestRules.Check(request) is not null)
        {
            return CommandResult.Rejected(CommandError.InvalidRequest, before.Revision, before.CompactRevision);
        }

        // As etcd's, the check is made here, so a permission revoked before the request applies is not used.
        var current = auth;
        if (request is AuthorizedRequest { User: var user, Inner: var inner })
        {
            request = inner;
            if (current.Enabled && user is not null && AuthRules.Check(current, user, request, before) is var denied and not CommandError.None)
            {
                return CommandResult.Rejected(denied, before.Revision, before.CompactRevision);
            }
        }
        else if (current.Enabled)
        {
            return CommandResult.Rejected(CommandError.UserEmpty, before.Revision, before.CompactRevision);
        }

        if (AuthRules.IsManagement(request))
        {
            var (changed, error) = AuthRules.Apply(current, request);
            if (error != CommandError.None)
            {
                return CommandResult.Rejected(error, before.Revision, before.CompactRevision);
            }

            auth = changed;
            return new CommandResult(CommandStatus.Applied, before.Revision, new AuthResult(changed.Revision));
        }

        if (request is MemberAddRequest or MemberRemoveRequest)
        {
            var (changed, error) = membership.Apply(request);
            if (error != CommandError.None)
            {
                return CommandResult.Rejected(error, before.Revision, before.CompactRevision);
            }

            var firstId = request is MemberAddRequest add ? add.ClusterId : ((MemberRemoveRequest)request).ClusterId;
            if (!membership.IsInitialized && ClusterId == 0)
            {
                Interlocked.Exchange(ref clusterId, (long)firstId);
            }

            membership = changed;
            return new CommandResult(CommandStatus.Applied, before.Revision, new MembershipResult(changed.Members.Count));
        }

        if (request is CompactRequest compact)
        {
            return Compact(before, compact.Revision);
        }

        var transaction = new WriteTransaction(before);
        var result = transaction.Run(request, out var after);
        if (!ReferenceEquals(after, before))
        {
            foreach (var key in transaction.Superseded)
            {
                compactable.Enqueue((after.Revision, key));
            }

            view = after;
            if (transaction.Changes is { } changes)
            {
                Changed?.Invoke(changes);
            }
        }

        return result;
    }

    /// <summary>etcd's compaction: below <paramref name="revision"/>, only each key's newest version stays (none if it is a tombstone).</summary>
    private CommandResult Compact(KeyspaceView before, long revision)
    {
        if (revision <= before.CompactRevision)
        {
            return CommandResult.Rejected(CommandError.Compacted, before.Revision, before.CompactRevision);
        }

        if (revision > before.Revision)
        {
            return CommandResult.Rejected(CommandError.FutureRevision, before.Revision, before.CompactRevision);
        }

        // Only keys whose older versions were superseded at or below the revision have anything to drop.
        var keys = before.Keys;
        while (compactable.TryPeek(out var next) && next.Revision <= revision)
        {
            compactable.Dequeue();
            if (keys.TryGetValue(next.Key, out var history))
            {
                var kept = history.Compact(revision);
                keys = kept is null ? keys.Remove(next.Key) : ReferenceEquals(kept, history) ? keys : keys.SetItem(next.Key, kept);
            }
        }

        view = before with { CompactRevision = revision, Keys = keys };
        return new CommandResult(CommandStatus.Applied, before.Revision, new CompactResult(revision));
    }

    /// <summary>The whole state, for a snapshot. Cheap: the keyspace is immutable and shared.</summary>
    public StoreSnapshot Capture()
    {
        lock (applying)
        {
            return new StoreSnapshot(view, requests.InArrivalOrder(), requests.LogTime, ClusterId, auth, membership);
        }
    }

    /// <summary>Replaces the whole state with a snapshot's.</summary>
    public void Restore(StoreSnapshot snapshot)
    {
        var restoredRequests = RequestIdTable.Restore(snapshot.Requests, snapshot.LogTime);

        // Every version with an older one behind it was superseded at its own revision.
        var restoredCompactable = snapshot.View.Keys.Range([0], null)
            .SelectMany(pair => pair.Value.NewestFirst().Where(v => v.Previous is not null).Select(v => (v.ModRevision, pair.Key)))
            .OrderBy(entry => entry.ModRevision)
            .ToList();

        lock (applying)
        {
            requests = restoredRequests;
            compactable.Clear();
            foreach (var entry in restoredCompactable)
            {
                compactable.Enqueue(entry);
            }

            view = snapshot.View;
            Interlocked.Exchange(ref clusterId, (long)snapshot.ClusterId);
            auth = snapshot.Auth ?? AuthState.Empty;
            membership = snapshot.Membership ?? MembershipState.Empty;
        }
    }
}
