using RaftKv.Testing;

namespace RaftKv.Robustness.Nemesis;

/// <summary>
/// Injects faults on a schedule: a quiet spell, then a fault drawn at random from the enabled
/// kinds, held for about one interval, then healed. At the end every fault is healed: links
/// restored, paused nodes resumed, killed nodes restarted on their data.
/// </summary>
public sealed class Nemesis(TestCluster cluster, IReadOnlyList<string> kinds, TimeSpan interval, Random random, NemesisLog log)
{
    /// <summary>A fault: its name, the nodes it hits, and how to undo it.</summary>
    private sealed record Fault(string Name, IReadOnlyList<string> Nodes, Action Heal);

    public async Task RunAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            if (!await DelayAsync(Jitter(interval / 2), stop) || kinds.Count == 0)
            {
                continue;
            }

            var fault = await StartAsync(kinds[random.Next(kinds.Count)]);
            log.Record("start", fault.Name, fault.Nodes);
            await DelayAsync(Jitter(interval), stop);
            fault.Heal();
            log.Record("stop", fault.Name, fault.Nodes);
        }
    }

    private async Task<Fault> StartAsync(string kind)
    {
        var ids = cluster.Ids;
        var leader = await LeaderAsync();
        var minority = Shuffle(ids).Take((ids.Count - 1) / 2).ToList();
        switch (kind, random.Next(4))
        {
            case ("partition", 0):
                return Partition("partition-isolate-one", [[Pick(ids)]]);
            case ("partition", 1):
                return Partition("partition-isolate-leader", [[leader]]);
            case ("partition", 2):
                return Partition("partition-majority-minority", [minority]);
            case ("partition", _):
                return Ring();
            case ("kill", 0):
                return Kill("kill-one", [Pick(ids)]);
            case ("kill", 1):
                return Kill("kill-leader", [leader]);
            case ("kill", 2):
                return Kill("kill-minority", minority);
            case ("kill", _):
                return Kill("kill-all", ids);
            case ("pause", 0 or 1):
                return Pause("pause-one", Pick(ids));
            default:
                return Pause("pause-leader", leader);
        }
    }

    /// <summary>Cuts the given groups off from the rest of the cluster, both ways.</summary>
    private Fault Partition(string name, IReadOnlyList<string>[] groups)
    {
        var rest = cluster.Ids.Except(groups.SelectMany(g => g)).ToList();
        cluster.Partition([.. groups, rest]);
        return new Fault(name, [.. groups.SelectMany(g => g)], cluster.HealAll);
    }

    /// <summary>Overlapping majorities: each node reaches its two ring neighbours only, so no two nodes see the same majority.</summary>
    private Fault Ring()
    {
        var ring = Shuffle(cluster.Ids).ToList();
        for (var i = 0; i < ring.Count; i++)
        {
            for (var j = 0; j < ring.Count; j++)
            {
                var distance = Math.Min(Math.Abs(i - j), ring.Count - Math.Abs(i - j));
                if (distance > 1)
                {
                    cluster.Cut(ring[i], ring[j]);
                }
            }
        }

        return new Fault("partition-ring", ring, cluster.HealAll);
    }

    private Fault Kill(string name, IReadOnlyList<string> victims)
    {
        foreach (var id in victims)
        {
            cluster.Kill(id);
        }

        return new Fault(name, victims, () =>
        {
            foreach (var id in victims)
            {
                cluster.Start(id);
            }
        });
    }

    private Fault Pause(string name, string victim)
    {
        cluster.Pause(victim);
        return new Fault(name, [victim], () => cluster.Resume(victim));
    }

    /// <summary>The leader most running nodes name, or any node if they name none.</summary>
    private async Task<string> LeaderAsync()
    {
        var views = await Task.WhenAll(cluster.RunningIds.Select(cluster.TryStatusAsync));
        return views.Select(v => v?.Leader?.Id).OfType<string>().GroupBy(id => id).MaxBy(g => g.Count())?.Key ?? Pick(cluster.Ids);
    }

    private string Pick(IReadOnlyList<string> ids) => ids[random.Next(ids.Count)];

    private IEnumerable<string> Shuffle(IReadOnlyList<string> ids) => ids.OrderBy(_ => random.Next());

    private TimeSpan Jitter(TimeSpan around) => around * (0.75 + (random.NextDouble() / 2));

    /// <returns>False if the run is over before the delay ended.</returns>
    private static async Task<bool> DelayAsync(TimeSpan delay, CancellationToken stop)
    {
        try
        {
            await Task.Delay(delay, stop);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
