using System.Buffers.Binary;
using System.Text;
using RaftKv.Robustness.History;
using RaftKv.Store;
using RaftKv.Store.Auth;
using RaftKv.Store.Commands;
using RaftKv.Store.Keyspace;
using RaftKv.Store.Membership;
using RaftKv.Store.Snapshots;

namespace RaftKv.Fuzz;

/// <summary>One seed: a small valid input of a target, made by the real encoder.</summary>
/// <param name="Target">The target's name, which is also its corpus folder.</param>
/// <param name="Name">The file name in that folder.</param>
/// <param name="Bytes">The input.</param>
public sealed record Seed(string Target, string Name, byte[] Bytes);

/// <summary>
/// The seed corpus in corpus/&lt;target&gt;/, made with the encoders of this version: <c>raftkv-fuzz make-corpus DIR</c>
/// writes it, and a test checks the files in the repository are what this makes. Everything is fixed (ids,
/// stamps, times), so the bytes are the same on every run.
/// </summary>
public static class SeedCorpus
{
    /// <summary>The name of the history target's token dictionary, beside the target folders.</summary>
    public const string HistoryDictionary = "history.dict";

    private static readonly RequestIdPolicy Policy = new(ClientKeyRetentionMilliseconds: 3_600_000, ClientKeyCapacity: 1000, ServerIdRetentionMilliseconds: 60_000);

    /// <summary>
    /// Fragments of the history format and values at its edges (lone surrogates, escaped digits, numbers past
    /// 64 bits, deep nesting), which byte-level mutations would take long to come upon: afl-fuzz's <c>-x</c>
    /// dictionary, and the replay test's token mutations.
    /// </summary>
    public static IReadOnlyList<string> HistoryTokens { get; } =
    [
        "\"process\":", "\"type\":", "\"f\":", "\"key\":", "\"value\":", "\"revision\":", "\"lease\":", "\"ttl\":",
        "\"fromRevision\":", "\"time\":", "\"node\":", "\"events\":", "\"from\":", "\"to\":", "\"amount\":",
        "\"invoke\"", "\"ok\"", "\"fail\"", "\"info\"", "\"read\"", "\"write\"", "\"cas\"", "\"transfer\"", "\"init\"",
        "\"watch\"", "\"grant\"", "\"keepalive\"", "\"revoke\"", "\"put\"", "\"delete\"",
        "null", "true", "false", "[]", "{}", "[\"a\",\"b\"]", "{\"0\":1}", "{\"0\":1,\"\\u0030\":2}", "\"\\u0030\"", "\"01\"",
        "\\uD800", "\\uDC00", "\\uD800\\uDC00", "\\u0000", "\\\"", "\u00e9", "\ufffd",
        "0", "-0", "-1", "0.5", "1e400", "-1e400", "2147483648", "-2147483649", "9223372036854775807", "9223372036854775808",
        "-9223372036854775809", "1000000000000", "1000000000001", "-1000000000001",
        "\n", ",", ":", "\"", "[", "]", "{", "}", new string('[', 70), new string('{', 10),
    ];

    public static IReadOnlyList<Seed> All() => [.. Commands(), .. Snapshots(), .. Histories()];

    /// <summary>
    /// Writes every seed under <paramref name="directory"/>/&lt;target&gt;/, replacing files of the same name, and the
    /// history dictionary beside them.
    /// </summary>
    public static void Write(string directory)
    {
        foreach (var seed in All())
        {
            var folder = Path.Combine(directory, seed.Target);
            Directory.CreateDirectory(folder);
            File.WriteAllBytes(Path.Combine(folder, seed.Name), seed.Bytes);
        }

        File.WriteAllText(Path.Combine(directory, HistoryDictionary), HistoryDictionaryText());
    }

    /// <summary><see cref="HistoryTokens"/> in afl-fuzz's dictionary format: one quoted token a line, \\, \" and \xNN escaped.</summary>
    public static string HistoryDictionaryText()
    {
        var text = new StringBuilder("# Tokens of the history format for afl-fuzz -x; written by raftkv-fuzz make-corpus (SeedCorpus.HistoryTokens).\n");
        foreach (var token in HistoryTokens)
        {
            text.Append('"');
            foreach (var b in Encoding.UTF8.GetBytes(token))
            {
                text.Append(b switch
                {
                    (byte)'"' => "\\\"",
                    (byte)'\\' => "\\\\",
                    >= 0x20 and < 0x7F => ((char)b).ToString(),
                    _ => $"\\x{b:X2}",
                });
            }

            text.Append("\"\n");
        }

        return text.ToString();
    }

    private static byte[] B(string text) => Encoding.UTF8.GetBytes(text);

    private static IEnumerable<Seed> Commands()
    {
        static Seed Batch(string name, params WriteCommand[] commands) => new(FuzzTargets.Command, name, CommandCodec.Encode(commands));

        yield return Batch("put.bin", new WriteCommand("c:put-1", new PutRequest(B("k/1"), [0, 1, 255], Lease: 7, PrevKv: true, IgnoreLease: true)));
        yield return Batch("delete-range.bin", new WriteCommand("s:n1:2", new DeleteRangeRequest(KeyRange.Prefix(B("k/")), PrevKv: true)));
        yield return Batch("txn.bin", new WriteCommand("c:txn-1", new TxnRequest(
            [
                new Compare(KeyRange.ForKey(B("k")), CompareTarget.Value, CompareResult.Equal, Value: B("v")),
                new Compare(KeyRange.ForKey(B("j")), CompareTarget.ModRevision, CompareResult.Less, 9),
                new Compare(KeyRange.Prefix(B("p/")), CompareTarget.Version, CompareResult.Greater, 1),
                new Compare(KeyRange.ForKey(B("l")), CompareTarget.Lease, CompareResult.NotEqual, 7),
            ],
            [new PutRequest(B("k"), B("w")), new TxnRequest([], [new DeleteRangeRequest(KeyRange.From(B("z")))], [])],
            [new RangeRequest(KeyRange.Between(B("a"), B("b")), 3, 10, KeysOnly: true, SortOrder: SortOrder.Descend, SortTarget: SortTarget.Mod, MaxCreateRevision: 5)])));
        yield return Batch("lease-grant-revoke.bin", new WriteCommand("s:n1:3", new LeaseGrantRequest(7, 60)), new WriteCommand("s:n1:4", new LeaseRevokeRequest(7)));
        yield return Batch("compact.bin", new WriteCommand("s:n2:1", new CompactRequest(12)));

        WriteCommand[] entry =
        [
            WriteCommand.Put("c:a", "a", B("1")),
            WriteCommand.Delete("s:n1:5", "b"),
            new("s:n1:6", new LeaseGrantRequest(8, 30)),
        ];
        yield return new(FuzzTargets.Command, "entry-stamped.bin", CommandCodec.EncodeEntry(new EntryStamp(1_700_000_000_000, Policy), entry));

        // Users, roles and requests made for a user (format 4).
        var hash = new PasswordHash(new byte[16], 1000, new byte[32]);
        yield return new(FuzzTargets.Command, "entry-auth.bin", CommandCodec.EncodeEntry(new EntryStamp(1_700_000_000_000, Policy),
        [
            new("s:n1:10", new UserAddRequest("root", hash)),
            new("s:n1:11", new UserAddRequest("reader", null)),
            new("s:n1:12", new RoleAddRequest("r")),
            new("s:n1:13", new RoleGrantPermissionRequest("r", new PermissionGrant(PermissionType.Read, B("k/"), B("k0")))),
            new("s:n1:14", new UserGrantRoleRequest("root", "root")),
            new("s:n1:15", new AuthEnableRequest(new byte[32])),
            new("s:n1:16", new AuthorizedRequest("reader", new PutRequest(B("k/1"), B("v")))),
            new("s:n1:17", new AuthorizedRequest(null, new LeaseRevokeRequest(8))),
            new("s:n1:18", new RoleRevokePermissionRequest("r", B("k/"), B("k0"))),
            new("s:n1:19", new UserRevokeRoleRequest("reader", "r")),
            new("s:n1:20", new UserChangePasswordRequest("root", hash)),
            new("s:n1:21", new RoleDeleteRequest("r")),
            new("s:n1:22", new UserDeleteRequest("reader")),
            new("s:n1:23", new AuthDisableRequest()),
        ]));
        yield return new(FuzzTargets.Command, "entry-format2-unstamped.bin", CommandCodec.Encode(entry));

        MemberRecord[] baseline = [new("n1", "http://127.0.0.1:7001", "http://127.0.0.1:7201", "http://127.0.0.1:7101"), new("n2", "http://127.0.0.1:7002", "http://127.0.0.1:7202", "")];
        yield return new(FuzzTargets.Command, "entry-membership.bin", CommandCodec.EncodeEntry(new EntryStamp(1_700_000_000_000, Policy),
        [
            new("s:n1:30", new MemberAddRequest(baseline, 0x5eed, new MemberRecord("unstarted-1", "", "http://127.0.0.1:7203", ""))),
            new("s:n1:31", new AuthorizedRequest("root", new MemberAddRequest([], 0, new MemberRecord("n3", "http://127.0.0.1:7003", "http://127.0.0.1:7203", "")))),
            new("s:n1:32", new MemberRemoveRequest(baseline, 0x5eed, "n2")),
        ]));
    }

    private static IEnumerable<Seed> Snapshots()
    {
        yield return new(FuzzTargets.Snapshot, "empty-store.bin", WriteSnapshot(new KeyValueStore()));

        // Versions and a tombstone behind a compaction, a lease with a key, and request ids of both kinds with
        // results of every shape the request table keeps.
        var store = new KeyValueStore();
        store.BeginEntry(new EntryStamp(1_700_000_000_000, Policy));
        store.Apply(new WriteCommand("c:grant", new LeaseGrantRequest(7, 60)));
        store.Apply(WriteCommand.Put("s:n1:1", "a", B("1")));
        store.Apply(WriteCommand.Put("s:n1:2", "a", B("2")));
        store.BeginEntry(new EntryStamp(1_700_000_000_500, Policy));
        store.Apply(new WriteCommand("c:leased", new PutRequest(B("c"), B("leased"), Lease: 7)));
        store.Apply(WriteCommand.Put("s:n1:3", "b", B("x")));
        store.Apply(new WriteCommand("s:n1:4", new DeleteRangeRequest(KeyRange.ForKey(B("b")), PrevKv: true)));
        store.Apply(new WriteCommand("s:n1:5", new CompactRequest(3)));
        store.Apply(new WriteCommand("c:txn", new TxnRequest(
            [new Compare(KeyRange.ForKey(B("a")), CompareTarget.Value, CompareResult.Equal, Value: B("2"))],
            [new PutRequest(B("a"), B("3"), PrevKv: true), new RangeRequest(KeyRange.Prefix(B("")), 0, 0)],
            [])));
        yield return new(FuzzTargets.Snapshot, "small-store.bin", WriteSnapshot(store));

        // Format 5: the same state as a cluster restored from a backup has it, with a cluster id.
        var restored = new KeyValueStore();
        restored.Restore(store.Capture() with { ClusterId = 0x5eed_c1d5_0000_0001 });
        yield return new(FuzzTargets.Snapshot, "restored-cluster-id.bin", WriteSnapshot(restored));

        // Format 6: the same state after membership changes, with members listed and removed.
        var changed = new KeyValueStore();
        changed.Restore(store.Capture());
        MemberRecord[] members = [new("n1", "http://127.0.0.1:7001", "http://127.0.0.1:7201", "http://127.0.0.1:7101"), new("n2", "http://127.0.0.1:7002", "http://127.0.0.1:7202", "")];
        changed.Apply(new WriteCommand("s:n1:40", new MemberAddRequest(members, 0x5eed, new MemberRecord("n3", "http://127.0.0.1:7003", "http://127.0.0.1:7203", ""))));
        changed.Apply(new WriteCommand("s:n1:41", new MemberRemoveRequest(members, 0x5eed, "n1")));
        yield return new(FuzzTargets.Snapshot, "membership.bin", WriteSnapshot(changed));

        yield return new(FuzzTargets.Snapshot, "format3-no-clock.bin", Format3Snapshot());
    }

    /// <summary>
    /// A snapshot of format 3 (no log clock, no stamps), which this version still reads. It is a format 4
    /// snapshot without request ids, less its clock, resealed: the stamps are the only other difference.
    /// </summary>
    private static byte[] Format3Snapshot()
    {
        var store = new KeyValueStore();
        store.BeginEntry(new EntryStamp(1_700_000_000_000, Policy));
        store.Apply(new WriteCommand("s:n1:1", new LeaseGrantRequest(9, 120)));
        store.Apply(new WriteCommand("s:n1:2", new PutRequest(B("k"), B("v"), Lease: 9)));
        store.Apply(WriteCommand.Put("s:n1:3", "k", B("w")));

        // A stamp past every id's retention: the table forgets them all.
        store.BeginEntry(new EntryStamp(1_700_000_000_000 + (2 * Policy.ClientKeyRetentionMilliseconds), Policy));
        var format4 = WriteSnapshot(store);

        // ... clock (int64), request count (int32, 0), hash (uint64), "REND".
        const int Tail = sizeof(long) + sizeof(int) + sizeof(ulong) + sizeof(uint);
        if (BinaryPrimitives.ReadInt32LittleEndian(format4.AsSpan(format4.Length - Tail + sizeof(long))) != 0)
        {
            throw new InvalidOperationException("The store for the format 3 seed still remembers request ids.");
        }

        var body = format4.AsSpan(0, format4.Length - Tail).ToArray().Concat(new byte[sizeof(int)]).ToArray();
        BinaryPrimitives.WriteInt32LittleEndian(body.AsSpan(4), 3);
        return FuzzTargets.Reseal(body);
    }

    private static byte[] WriteSnapshot(KeyValueStore store)
    {
        using var stream = new MemoryStream();
        SnapshotCodec.WriteAsync(store.Capture(), (chunk, _) => { stream.Write(chunk.Span); return ValueTask.CompletedTask; }, CancellationToken.None)
            .AsTask().GetAwaiter().GetResult();
        return stream.ToArray();
    }

    private static IEnumerable<Seed> Histories()
    {
        static Seed History(string name, params HistoryEvent[] events)
        {
            using var text = new StringWriter();
            using (var writer = new HistoryWriter(text))
            {
                foreach (var historyEvent in events)
                {
                    writer.Append(historyEvent);
                }
            }

            return new(FuzzTargets.History, name, Encoding.UTF8.GetBytes(text.ToString()));
        }

        var write = HistoryEvent.InvokeWrite(0, "r1", "v1", 1_000, "n1");
        var read = HistoryEvent.InvokeRead(1, "r1", 1_100, "n2");
        var cas = HistoryEvent.InvokeCas(2, "r1", "v1", "v2", 1_200, "n3");
        var lost = HistoryEvent.InvokeWrite(0, "r2", "v3", 2_000, "n1");
        var absent = HistoryEvent.InvokeRead(1, "r2", 2_100, "n2");
        yield return History(
            "register.jsonl",
            write, read, write.Complete(HistoryEventType.Ok, 1_050), cas, read.Complete(HistoryEventType.Ok, 1_150, "v1"),
            cas.Complete(HistoryEventType.Fail, 1_250), lost, absent, absent.Complete(HistoryEventType.Ok, 2_150),
            lost.Complete(HistoryEventType.Info, 3_000),
            HistoryEvent.InvokeCas(2, "r1", "v1", "v4", 3_100, "n3")); // still outstanding at the end

        var init = HistoryEvent.InvokeInit(0, "bank", new Balances([new(0, 10), new(1, 10), new(2, 10)]), 1_000, "n1");
        var transfer = HistoryEvent.InvokeTransfer(1, "bank", new Transfer(0, 2, 4), 2_000, "n2");
        var bankRead = HistoryEvent.InvokeRead(2, "bank", 2_050, "n3");
        yield return History(
            "bank.jsonl",
            init, init.CompleteBank(HistoryEventType.Ok, 1_100, revision: 2), transfer, bankRead,
            transfer.CompleteBank(HistoryEventType.Ok, 2_100, revision: 3),
            bankRead.CompleteBank(HistoryEventType.Ok, 2_200, revision: 3, readBalances: new Balances([new(0, 6), new(1, 10), new(2, 14)])));

        var grant = HistoryEvent.InvokeGrant(0, "lease/0", 5, 1_000, "n1");
        var leasedWrite = HistoryEvent.InvokeWrite(1, "lease/0/k", "v", 1_200, "n2") with { Lease = 42 };
        var keepAlive = HistoryEvent.InvokeKeepAlive(0, "lease/0", 42, 1_300, "n1");
        var keys = HistoryEvent.InvokeRead(2, "lease/0/", 1_400, "n3");
        var revoke = HistoryEvent.InvokeRevoke(0, "lease/0", 42, 1_600, "n1");
        yield return History(
            "lease.jsonl",
            grant, grant.Complete(HistoryEventType.Ok, 1_100) with { Lease = 42, Ttl = 5, Revision = 4 },
            leasedWrite, leasedWrite.Complete(HistoryEventType.Ok, 1_250) with { Revision = 5 },
            keepAlive, keepAlive.Complete(HistoryEventType.Ok, 1_350) with { Ttl = 5 },
            keys, keys.Complete(HistoryEventType.Ok, 1_450) with { Keys = ["lease/0/k"], Revision = 5 },
            revoke, revoke.Complete(HistoryEventType.Ok, 1_700) with { Revision = 6 });

        var watch = HistoryEvent.InvokeWatch(0, "w/", 2, 1_000, "n1");
        var watchLost = HistoryEvent.InvokeWatch(1, "w/", 1, 1_010, "n2");
        WatchChange[] changes =
        [
            new(2, [new WatchedEvent("put", "w/a", "1"), new WatchedEvent("put", "w/b", "\u00e9\u2603 \"quoted\"")]),
            new(3, [new WatchedEvent("delete", "w/a", null)]),
        ];
        yield return History(
            "watch.jsonl",
            watch, watchLost, watch.Complete(HistoryEventType.Ok, 5_000) with { Changes = changes, Revision = 3 },
            watchLost.Complete(HistoryEventType.Info, 5_100) with { Changes = changes[..1] });
    }
}
