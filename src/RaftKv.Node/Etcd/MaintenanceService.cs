using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Options;
using RaftKv.Node.Backup;
using RaftKv.Node.Configuration;
using RaftKv.Node.Raft;
using RaftKv.Store.Results;

namespace RaftKv.Node.Etcd;

/// <summary>etcd's <c>Maintenance</c> service: status, hashes and snapshots of this member; alarms and defragmentation have nothing to do here.</summary>
public sealed class MaintenanceService(EtcdAdapter etcd, KvStateMachine stateMachine, IOptions<RaftKvOptions> options) : Maintenance.MaintenanceBase
{
    /// <summary>The etcd version whose API RaftKv serves: the protos are v3.5.33's.</summary>
    public const string EmulatedVersion = "3.5.33";

    private const int SnapshotChunkBytes = 32 * 1024;

    public override Task<StatusResponse> Status(StatusRequest request, ServerCallContext context)
    {
        var view = etcd.View;
        var log = view.Log;
        var size = DataBytes();
        var response = new StatusResponse
        {
            Header = etcd.Header(),
            Version = EmulatedVersion,
            DbSize = size,
            DbSizeInUse = size,
            Leader = view.Leader is { } leader ? EtcdIds.Member(leader.Id) : 0,
            RaftIndex = (ulong)log.LastCommittedEntryIndex,
            RaftTerm = (ulong)Math.Max(0, view.Raft.AuditTrail.Term),
            RaftAppliedIndex = (ulong)log.LastAppliedIndex,
            IsLearner = false,
        };
        if (view.Leader is null)
        {
            response.Errors.Add(EtcdErrors.NoLeader().Status.Detail);
        }

        return Task.FromResult(response);
    }

    public override Task<HashKVResponse> HashKV(HashKVRequest request, ServerCallContext context)
    {
        etcd.CheckAdmin(context);
        var keyspace = etcd.Keyspace;
        if (keyspace.CheckRevision(request.Revision) is var error and not CommandError.None)
        {
            throw EtcdErrors.ForRevision(error);
        }

        var revision = request.Revision > 0 ? request.Revision : keyspace.Revision;
        return Task.FromResult(new HashKVResponse { Header = etcd.Header(keyspace.Revision), Hash = keyspace.Hash(revision), CompactRevision = keyspace.CompactRevision });
    }

    public override Task<HashResponse> Hash(HashRequest request, ServerCallContext context)
    {
        etcd.CheckAdmin(context);
        var keyspace = etcd.Keyspace;
        return Task.FromResult(new HashResponse { Header = etcd.Header(keyspace.Revision), Hash = keyspace.Hash(keyspace.Revision) });
    }

    /// <summary>This member's state as a backup file (<see cref="BackupFile"/>), whose last message is the checksum, as etcd's is.</summary>
    public override async Task Snapshot(SnapshotRequest request, IServerStreamWriter<SnapshotResponse> responseStream, ServerCallContext context)
    {
        // A backup holds every key: root only, as etcd's.
        etcd.CheckAdmin(context);
        var token = context.CancellationToken;
        await using var backup = await BackupFile.CreateAsync(stateMachine.Store.Capture(), token);
        var sent = 0L;
        await backup.CopyContentAsync(SnapshotChunkBytes, async (chunk, cancel) =>
        {
            sent += chunk.Length;
            await responseStream.WriteAsync(new SnapshotResponse { Header = etcd.Header(backup.Revision), RemainingBytes = (ulong)(backup.ContentLength - sent), Blob = ByteString.CopyFrom(chunk.Span) }, cancel);
        }, token);
        await responseStream.WriteAsync(new SnapshotResponse { Header = etcd.Header(backup.Revision), RemainingBytes = 0, Blob = ByteString.CopyFrom(backup.Checksum) }, token);
    }

    /// <summary>No alarms are ever raised: asking for them, or disarming them, finds none.</summary>
    public override Task<AlarmResponse> Alarm(AlarmRequest request, ServerCallContext context)
    {
        // Listing alarms is for any user; raising or disarming one is for root, as in etcd.
        if (request.Action != AlarmRequest.Types.AlarmAction.Get)
        {
            etcd.CheckAdmin(context);
        }

        return request.Action == AlarmRequest.Types.AlarmAction.Activate
            ? throw EtcdErrors.Unimplemented("raftkv: alarms cannot be raised")
            : Task.FromResult(new AlarmResponse { Header = etcd.Header() });
    }

    /// <summary>The state is in memory and its files are rewritten whole at each snapshot: nothing fragments.</summary>
    public override Task<DefragmentResponse> Defragment(DefragmentRequest request, ServerCallContext context)
    {
        etcd.CheckAdmin(context);
        return Task.FromResult(new DefragmentResponse { Header = etcd.Header() });
    }

    public override Task<MoveLeaderResponse> MoveLeader(MoveLeaderRequest request, ServerCallContext context)
        => throw EtcdErrors.Unimplemented("raftkv: moving the leader is not supported");

    public override Task<DowngradeResponse> Downgrade(DowngradeRequest request, ServerCallContext context)
        => throw EtcdErrors.Unimplemented("raftkv: downgrades are not supported");

    /// <summary>What the member keeps on disk, log and snapshots: the nearest thing to etcd's database size.</summary>
    private long DataBytes()
    {
        var directory = new DirectoryInfo(options.Value.ResolveDataDirectory());
        return directory.Exists ? directory.EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length) : 0;
    }
}
