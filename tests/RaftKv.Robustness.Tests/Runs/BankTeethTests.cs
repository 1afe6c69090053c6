using RaftKv.Client;
using RaftKv.Robustness.Harness;
using RaftKv.Robustness.History;
using RaftKv.Robustness.Workloads;
using RaftKv.Testing;

namespace RaftKv.Robustness.Tests.Runs;

/// <summary>
/// Teeth for the bank checker, by construction rather than by chance: a node cut off from the majority serves
/// a local read after a transfer the majority acknowledged, so that read is stale, and the checker must say so.
/// A timed run with local reads would not do: a stale state still sums to the total, and whether a read lands on
/// a cut-off node after an acknowledged transfer depends on timing.
/// </summary>
[Collection(ShortRunTests.Name)]
public sealed class BankTeethTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_local_read_on_a_cut_off_node_after_an_acknowledged_transfer_is_caught_as_stale()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"{TestCluster.Marker}bank-teeth-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        var historyPath = Path.Combine(folder, "history.jsonl");
        try
        {
            BankWorkload workload;
            HistoryEvent staleRead;
            await using (var cluster = await TestCluster.StartAsync(5, networkFaults: true, root: Path.Combine(folder, "cluster")))
            using (var history = HistoryWriter.Create(historyPath))
            using (var client = new RaftKvClient(RecordingClient.ClientOptions([.. cluster.Ids.Select(cluster.Url)], TimeSpan.FromSeconds(10))))
            {
                var recorder = new RecordingClient(client, history, cluster.Ids, Consistency.Local);
                workload = new BankWorkload(recorder, new ClientPool(1, 0, seed: 1), ownProcess: 1_000);
                await workload.SetUpAsync();

                var ids = cluster.Ids.ToList();
                var leader = await cluster.WaitForLeaderAsync();
                var cutOff = ids.FindIndex(id => id != leader);
                var inMajority = ids.IndexOf(leader);
                // The node to cut off has applied the init: a linearizable read there says so.
                Assert.Equal(HistoryEventType.Ok, (await recorder.ReadAccountsAsync(0, BankWorkload.Prefix, cutOff, Consistency.Linearizable)).Type);
                cluster.Partition([[ids[cutOff]], [.. ids.Where((_, i) => i != cutOff)]]);

                var process = 1;
                var transfer = await recorder.TransferAsync(process++, BankWorkload.Prefix, new Transfer(0, 1, 5), inMajority);
                for (var attempt = 0; transfer.Type != HistoryEventType.Ok && attempt < 40; attempt++)
                {
                    // Only a leader change could refuse it: try the other nodes of the majority in turn.
                    await Task.Delay(250);
                    inMajority = (inMajority + 1) % ids.Count == cutOff ? (inMajority + 2) % ids.Count : (inMajority + 1) % ids.Count;
                    transfer = await recorder.TransferAsync(process++, BankWorkload.Prefix, new Transfer(0, 1, 5), inMajority);
                }

                Assert.Equal(HistoryEventType.Ok, transfer.Type);
                staleRead = await recorder.ReadAccountsAsync(process, BankWorkload.Prefix, cutOff);
                Assert.Equal(HistoryEventType.Ok, staleRead.Type);
                cluster.HealAll();
            }

            var check = workload.Check(historyPath, TimeSpan.FromSeconds(30));
            output.WriteLine(check.Summary);

            Assert.Equal("invalid", check.Verdict);
            Assert.Contains("1 stale-read", check.Summary, StringComparison.Ordinal);
            Assert.Contains(check.Violating, o => o.Process == staleRead.Process && o.F == OperationFunction.Read);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
