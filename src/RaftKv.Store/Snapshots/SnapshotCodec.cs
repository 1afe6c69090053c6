using System.Collections.Immutable;
using System.IO.Hashing;
using RaftKv.Store.Auth;
using RaftKv.Store.Collections;
using RaftKv.Store.Commands;
using RaftKv.Store.Binary;
using RaftKv.Store.Keyspace;
using RaftKv.Store.Membership;
using RaftKv.Store.Results;

namespace RaftKv.Store.Snapshots;

/// <summary>
/// The on-disk form of a <see cref="StoreSnapshot"/>: a header with the format version, the
/// keyspace with every retained version, the leases, the request-id table, then an XxHash64 of
/// all of it and an end marker. Every length is bounded, so a corrupt file fails with a clear
/// error instead of an allocation of whatever size it claims: by the format's limits, and, when the
/// input can seek (a file), by the bytes left in it.
/// </summary>
/// <remarks>
/// Layout (little-endian): magic "RKVS", int32 format; revision, compact revision; key count, then
/// per key in ascending order: key, version count, versions oldest first (tombstone flag, value
/// unless a tombstone, modRevision, int32 subRevision, createRevision, version, lease); lease count, then per lease its
/// id and granted TTL (the keys attached to it are those whose current version names it); the log's clock (int64 Unix
/// milliseconds); in format 5 only, the cluster id (uint64, 0 for none) and the users and roles (enabled flag,
/// auth revision, token key; user count, then per user in name order: name, password flag, salt, iterations
/// and hash if it has one, generation, role count and role names; role count, then per role in name order:
/// name, permission count, then per permission its type byte, key and range end); in format 6 only, the directory
/// of members (count, then per member in id order: id, url, peer URL, gRPC URL; then the removed members the
/// same way); request count, then per request, oldest first:
/// id, stamp (int64), fingerprint, result (<see cref="ResultCodec"/>); the hash of everything before it,
/// and "REND". Format 3, read too, had no clock and no stamps: they read as 0, as before the log had a clock.
/// </remarks>
public static class SnapshotCodec
{
    /// <summary>
    /// The newest format, 6, written only for a state whose directory of members was changed. Format 5 is
    /// written for a state with a <see cref="StoreSnapshot.ClusterId"/> (a cluster restored from a backup) or
    /// with users and roles, and format 4 for any other, so that a node of a previous version still installs
    /// it from a newer leader during a rolling upgrade.
    /// </summary>
    public const int FormatVersion = 6;

    /// <summary>The format of a state with a cluster id or users and roles, but an unchanged directory of members.</summary>
    public const int FormatWithoutMembership = 5;

    /// <summary>The format of a state with neither a cluster id nor users and roles.</summary>
    public const int FormatWithoutClusterId = 4;

    private const int MaxAuthEntries = 1_000_000;

    /// <summary>The oldest format this version reads.</summary>
    public const int OldestReadableFormat = 3;

    /// <summary>A sanity bound on the request ids a snapshot may list, checked before anything is allocated for them.</summary>
    private const int MaxRequestIds = 100_000_000;

    private const uint Magic = 0x53564B52; // "RKVS"
    private const uint EndMarker = 0x444E4552; // "REND"
    private const int ChunkSize = 1 << 16;
    private const int MaxRequestIdBytes = 1024;
    private const int MaxResultBytes = 1 << 20;

    /// <summary>Writes a snapshot in chunks, so a large state is never buffered whole.</summary>
    /// <param name="snapshot">The state to write.</param>
    /// <param name="writeChunk">Receives each chunk; the memory is reused after the returned task completes.</param>
    /// <param name="token">Cancels the write.</param>
    public static async ValueTask WriteAsync(StoreSnapshot snapshot, Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> writeChunk, CancellationToken token)
    {
        var hash = new XxHash64();
        var chunk = new PayloadWriter(2 * ChunkSize);

        async ValueTask FlushAsync(bool force)
        {
            if (force || chunk.Length >= ChunkSize)
            {
                hash.Append(chunk.WrittenSpan);
                await writeChunk(chunk.WrittenMemory, token);
                chunk.Clear();
            }
        }

        var view = snapshot.View;
        var auth = snapshot.Auth ?? AuthState.Empty;
        var membership = snapshot.Membership ?? MembershipState.Empty;
        var format = membership.IsInitialized ? FormatVersion : snapshot.ClusterId != 0 || !auth.IsEmpty ? FormatWithoutMembership : FormatWithoutClusterId;
        chunk.WriteInt32(unchecked((int)Magic));
        chunk.WriteInt32(format);
        chunk.WriteInt64(view.Revision);
        chunk.WriteInt64(view.CompactRevision);

        chunk.WriteInt32(view.Keys.Count);
        var versions = new List<KeyVersion>(); // reused: a million keys would otherwise mean a million lists of garbage
        foreach (var (key, history) in view.Keys.Range([0], null))
        {
            versions.Clear();
            for (var version = history; version is not null; version = version.Previous)
            {
                versions.Add(version);
            }

            chunk.WriteBytes(key);
            chunk.WriteInt32(versions.Count);
            for (var i = versions.Count - 1; i >= 0; i--)
            {
                var version = versions[i];
                chunk.WriteBool(version.IsTombstone);
                if (!version.IsTombstone)
                {
                    chunk.WriteBytes(version.Value);
                }

                chunk.WriteInt64(version.ModRevision);
                chunk.WriteInt32(version.SubRevision);
                chunk.WriteInt64(version.CreateRevision);
                chunk.WriteInt64(version.Version);
                chunk.WriteInt64(version.Lease);
            }

            await FlushAsync(force: false);
        }

        chunk.WriteInt32(view.Leases.Count);
        foreach (var lease in view.Leases.All)
        {
            chunk.WriteInt64(lease.Id);
            chunk.WriteInt64(lease.Ttl);
        }

        chunk.WriteInt64(snapshot.LogTime);
        if (format >= FormatWithoutMembership)
        {
            chunk.WriteUInt64(snapshot.ClusterId);
            WriteAuth(chunk, auth);
        }

        if (format >= FormatVersion)
        {
            WriteMembers(chunk, membership.Members.Values);
            WriteMembers(chunk, membership.Removed.Values);
        }

        chunk.WriteInt32(snapshot.Requests.Count);
        var result = new PayloadWriter();
        foreach (var (id, request) in snapshot.Requests)
        {
            chunk.WriteString(id);
            chunk.WriteInt64(request.Stamp);
            chunk.WriteUInt64(request.Fingerprint);
            result.Clear();
            ResultCodec.Write(result, request.Result);
            chunk.WriteBytes(result.WrittenSpan);
            await FlushAsync(force: false);
        }

        await FlushAsync(force: true);
        chunk.WriteUInt64(hash.GetCurrentHashAsUInt64());
        chunk.WriteInt32(unchecked((int)EndMarker));
        await writeChunk(chunk.WrittenMemory, token);
    }

    /// <exception cref="InvalidDataException">The input is not a complete, intact snapshot of a format this version reads.</exception>
    public static StoreSnapshot Read(Stream input)
    {
        var hashing = new HashingStream(input);
        using var reader = new BinaryReader(hashing, PayloadReader.StrictUtf8, leaveOpen: true);
        try
        {
            if (reader.ReadUInt32() != Magic)
            {
                throw new InvalidDataException("This is not a RaftKv snapshot (bad header).");
            }

            var format = reader.ReadInt32();
            if (format is < OldestReadableFormat or > FormatVersion)
            {
                throw new InvalidDataException($"The snapshot format {format} is not readable by this version, which reads formats {OldestReadableFormat} to {FormatVersion}.");
            }

            var revision = reader.ReadInt64();
            var compactRevision = reader.ReadInt64();
            if (revision < 1 || compactRevision < 0 || compactRevision > revision)
            {
                throw new InvalidDataException($"Invalid revisions {revision} (compacted at {compactRevision}).");
            }

            var keyCount = ReadCount(reader, int.MaxValue, minElementBytes: 2 * sizeof(int));
            var keys = new List<KeyValuePair<byte[], KeyVersion>>(Math.Min(keyCount, 1 << 20));
            long liveKeys = 0;
            for (var i = 0; i < keyCount; i++)
            {
                var key = ReadBytes(reader, RequestRules.MaxKeyBytes);
                if (key.Length == 0)
                {
                    throw new InvalidDataException("An empty key.");
                }

                var history = ReadHistory(reader, revision);
                keys.Add(new(key, history));
                liveKeys += history.IsTombstone ? 0 : 1;
            }

            var leaseCount = ReadCount(reader, int.MaxValue, minElementBytes: 2 * sizeof(long));
            var granted = new List<(long Id, long Ttl)>(Math.Min(leaseCount, 1 << 16));
            for (var i = 0; i < leaseCount; i++)
            {
                granted.Add((reader.ReadInt64(), reader.ReadInt64()));
            }

            var hasClock = format >= 4;
            var logTime = hasClock ? reader.ReadInt64() : 0;
            var clusterId = format >= 5 ? reader.ReadUInt64() : 0;
            var auth = format >= 5 ? ReadAuth(reader) : AuthState.Empty;
            var membership = format >= 6 ? new MembershipState(ReadMembers(reader), ReadMembers(reader)) : MembershipState.Empty;

            var requestCount = ReadCount(reader, MaxRequestIds, minElementBytes: sizeof(int) + sizeof(ulong) + sizeof(int));
            var requests = new List<KeyValuePair<string, RememberedRequest>>(Math.Min(requestCount, 1 << 20));
            var ids = new HashSet<string>(Math.Min(requestCount, 1 << 20), StringComparer.Ordinal);
            var previousStamp = 0L;
            for (var i = 0; i < requestCount; i++)
            {
                var id = PayloadReader.StrictUtf8.GetString(ReadBytes(reader, MaxRequestIdBytes));
                if (!ids.Add(id))
                {
                    throw new InvalidDataException($"Request id '{id}' appears twice in the snapshot.");
                }

                var stamp = hasClock ? reader.ReadInt64() : 0;
                // Ids arrive in log order and the log's clock never moves back.
                if (stamp < previousStamp || stamp > logTime)
                {
                    throw new InvalidDataException($"Request id '{id}' is stamped {stamp}, out of order (after {previousStamp}) or past the log's clock ({logTime}).");
                }

                var fingerprint = reader.ReadUInt64();
                var encoded = new PayloadReader(ReadBytes(reader, MaxResultBytes));
                var result = ResultCodec.Read(ref encoded);
                requests.Add(new(id, new RememberedRequest(fingerprint, result, stamp)));
                previousStamp = stamp;
            }

            var expected = hashing.CurrentHash;
            if (reader.ReadUInt64() != expected || reader.ReadUInt32() != EndMarker)
            {
                throw new InvalidDataException("The snapshot's checksum does not match its content.");
            }

            PersistentSortedMap<KeyVersion> map;
            try
            {
                map = PersistentSortedMap<KeyVersion>.FromSorted(keys);
            }
            catch (ArgumentException)
            {
                throw new InvalidDataException("The snapshot's keys are not in ascending order.");
            }

            var attached = keys.Where(k => !k.Value.IsTombstone && k.Value.Lease != 0).Select(k => (k.Key, k.Value.Lease)).ToList();
            var grantedIds = granted.Select(g => g.Id).ToHashSet();
            if (attached.Find(a => !grantedIds.Contains(a.Lease)) is { Key: not null } orphan)
            {
                throw new InvalidDataException($"A key is attached to lease {orphan.Lease}, which the snapshot does not grant.");
            }

            var leases = LeaseTable.From(granted, attached);
            return new StoreSnapshot(new KeyspaceView(revision, compactRevision, liveKeys) { Keys = map, Leases = leases }, requests, logTime, clusterId, auth, membership);
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException("The snapshot is truncated.", e);
        }
        catch (System.Text.DecoderFallbackException e)
        {
            throw new InvalidDataException("A request id in the snapshot is not valid UTF-8.", e);
        }
    }

    private static void WriteAuth(PayloadWriter chunk, AuthState auth)
    {
        chunk.WriteBool(auth.Enabled);
        chunk.WriteInt64(auth.Revision);
        chunk.WriteBytes(auth.TokenKey);
        chunk.WriteInt32(auth.Users.Count);
        foreach (var user in auth.Users.Values)
        {
            chunk.WriteString(user.Name);
            chunk.WriteBool(user.Password is not null);
            if (user.Password is { } password)
            {
                chunk.WriteBytes(password.Salt);
                chunk.WriteInt32(password.Iterations);
                chunk.WriteBytes(password.Hash);
            }

            chunk.WriteInt64(user.Generation);
            chunk.WriteInt32(user.Roles.Count);
            foreach (var role in user.Roles)
            {
                chunk.WriteString(role);
            }
        }

        chunk.WriteInt32(auth.Roles.Count);
        foreach (var role in auth.Roles.Values)
        {
            chunk.WriteString(role.Name);
            chunk.WriteInt32(role.Permissions.Count);
            foreach (var permission in role.Permissions)
            {
                chunk.WriteByte((byte)permission.Type);
                chunk.WriteBytes(permission.Key);
                chunk.WriteBytes(permission.RangeEnd);
            }
        }
    }

    private static void WriteMembers(PayloadWriter chunk, IEnumerable<MemberRecord> members)
    {
        var list = members.ToList();
        chunk.WriteInt32(list.Count);
        foreach (var member in list)
        {
            CommandCodec.WriteMember(chunk, member);
        }
    }

    private static ImmutableSortedDictionary<string, MemberRecord> ReadMembers(BinaryReader reader)
    {
        var count = ReadCount(reader, RequestRules.MaxMembers, minElementBytes: 4 * sizeof(int));
        var members = ImmutableSortedDictionary.CreateBuilder<string, MemberRecord>(StringComparer.Ordinal);
        for (var i = 0; i < count; i++)
        {
            var member = new MemberRecord(ReadName(reader), ReadName(reader), ReadName(reader), ReadName(reader));
            if (!members.TryAdd(member.Id, member))
            {
                throw new InvalidDataException($"Member '{member.Id}' appears twice in the snapshot.");
            }
        }

        return members.ToImmutable();
    }

    private static AuthState ReadAuth(BinaryReader reader)
    {
        var enabled = reader.ReadBoolean();
        var revision = reader.ReadInt64();
        var tokenKey = ReadBytes(reader, RequestRules.MaxNameBytes);
        var users = ImmutableSortedDictionary.CreateBuilder<string, AuthUser>(StringComparer.Ordinal);
        var userCount = ReadCount(reader, MaxAuthEntries, minElementBytes: (2 * sizeof(int)) + 1 + sizeof(long));
        for (var i = 0; i < userCount; i++)
        {
            var name = ReadName(reader);
            var password = reader.ReadBoolean() ? new PasswordHash(ReadBytes(reader, RequestRules.MaxNameBytes), reader.ReadInt32(), ReadBytes(reader, RequestRules.MaxNameBytes)) : null;
            var generation = reader.ReadInt64();
            var roles = ImmutableSortedSet.CreateBuilder<string>(StringComparer.Ordinal);
            var roleCount = ReadCount(reader, MaxAuthEntries, minElementBytes: sizeof(int));
            for (var j = 0; j < roleCount; j++)
            {
                roles.Add(ReadName(reader));
            }

            if (!users.TryAdd(name, new AuthUser(name, password, roles.ToImmutable(), generation)) || roles.Count != roleCount)
            {
                throw new InvalidDataException($"The user '{name}', or one of its roles, appears twice in the snapshot.");
            }
        }

        var roleMap = ImmutableSortedDictionary.CreateBuilder<string, AuthRole>(StringComparer.Ordinal);
        var count = ReadCount(reader, MaxAuthEntries, minElementBytes: 2 * sizeof(int));
        for (var i = 0; i < count; i++)
        {
            var name = ReadName(reader);
            var permissions = ImmutableList.CreateBuilder<PermissionGrant>();
            var permissionCount = ReadCount(reader, MaxAuthEntries, minElementBytes: 1 + (2 * sizeof(int)));
            for (var j = 0; j < permissionCount; j++)
            {
                var type = reader.ReadByte();
                if (type > (byte)PermissionType.ReadWrite)
                {
                    throw new InvalidDataException($"Unknown permission type {type}.");
                }

                permissions.Add(new PermissionGrant((PermissionType)type, ReadBytes(reader, RequestRules.MaxKeyBytes), ReadBytes(reader, RequestRules.MaxKeyBytes)));
            }

            if (!roleMap.TryAdd(name, new AuthRole(name, permissions.ToImmutable())))
            {
                throw new InvalidDataException($"The role '{name}' appears twice in the snapshot.");
            }
        }

        return new AuthState(enabled, revision, tokenKey, users.ToImmutable(), roleMap.ToImmutable());
    }

    private static string ReadName(BinaryReader reader) => PayloadReader.StrictUtf8.GetString(ReadBytes(reader, RequestRules.MaxNameBytes));

    private static KeyVersion ReadHistory(BinaryReader reader, long revision)
    {
        var count = ReadCount(reader, int.MaxValue, minElementBytes: 1 + (4 * sizeof(long)) + sizeof(int));
        if (count == 0)
        {
            throw new InvalidDataException("A key without versions.");
        }

        KeyVersion? history = null;
        for (var i = 0; i < count; i++)
        {
            var tombstone = reader.ReadBoolean();
            var value = tombstone ? null : ReadBytes(reader, CommandCodec.MaxValueBytes);
            var version = new KeyVersion(value, reader.ReadInt64(), reader.ReadInt32(), reader.ReadInt64(), reader.ReadInt64(), reader.ReadInt64(), history);
            if (version.ModRevision < 1 || version.ModRevision > revision || version.SubRevision < 0 || (history is not null && version.ModRevision <= history.ModRevision))
            {
                throw new InvalidDataException($"Invalid version history (modRevision {version.ModRevision}).");
            }

            history = version;
        }

        return history!;
    }

    /// <summary>A count of at most <paramref name="max"/> elements, each taking at least <paramref name="minElementBytes"/> of what is left.</summary>
    private static int ReadCount(BinaryReader reader, int max, int minElementBytes)
    {
        var count = reader.ReadInt32();
        return count >= 0 && count <= max && (long)count * minElementBytes <= Remaining(reader)
            ? count
            : throw new InvalidDataException($"Invalid count {count} in snapshot.");
    }

    private static byte[] ReadBytes(BinaryReader reader, int maxLength)
    {
        var length = reader.ReadInt32();
        if (length < 0 || length > maxLength || length > Remaining(reader))
        {
            throw new InvalidDataException($"Invalid length {length} in snapshot (at most {maxLength}, and {Remaining(reader)} bytes are left).");
        }

        var bytes = reader.ReadBytes(length);
        return bytes.Length == length ? bytes : throw new EndOfStreamException();
    }

    /// <summary>The bytes left in the input if it can tell (it can seek); otherwise as many as a length can claim.</summary>
    /// <remarks>The reader does not read ahead of what it is asked for, so the input's position is the reader's.</remarks>
    private static long Remaining(BinaryReader reader) => ((HashingStream)reader.BaseStream).Remaining;

    /// <summary>Hashes every byte read through it.</summary>
    private sealed class HashingStream(Stream inner) : Stream
    {
        private readonly XxHash64 hash = new();

        public ulong CurrentHash => hash.GetCurrentHashAsUInt64();

        public long Remaining => inner.CanSeek ? inner.Length - inner.Position : long.MaxValue;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var read = inner.Read(buffer);
            hash.Append(buffer[..read]);
            return read;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
