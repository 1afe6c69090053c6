using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using RaftKv.Node.Configuration;
using RaftKv.Testing;

namespace RaftKv.Robustness.Nemesis;

/// <summary>
/// Injects faults on a schedule: a quiet spell, then a fault drawn at random from the enabled
/// kinds, held for about one interval, then healed. At the end every fault is healed: links
/// restored, paused nodes resumed, killed nodes restarted on their data, removed members added back.
/// </summary>
public sealed class Nemesis(TestCluster cluster, IReadOnlyList<string> kinds, TimeSpan interval, Random random, NemesisLog log)
{
    /// <summary>How long a membership change may take to be done, through elections and catching up.</summary>
    private static readonly TimeSpan MembershipTimeout = TimeSpan.FromSeconds(90);

    private readonly HashSet<string> joiners = [];

    /// <summary>A fault: its name, the nodes it hits, and how to undo it.</summary>
    private sealed record Fault(string Name, IReadOnlyList<string> Nodes, Func<Task> Heal);

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
            await fault.Heal();
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
            case ("pause", _):
                return Pause("pause-leader", leader);
            case ("membership", 0):
                return await ReplaceAsync("member-replace-leader", leader);
            default:
                return await ReplaceAsync("member-replace-one", Pick(ids));
        }
    }

    /// <summary>Cuts the given groups off from the rest of the cluster, both ways.</summary>
    private Fault Partition(string name, IReadOnlyList<string>[] groups)
    {
        var rest = cluster.Ids.Except(groups.SelectMany(g => g)).ToList();
        cluster.Partition([.. groups, rest]);
        return new Fault(name, [.. groups.SelectMany(g => g)], HealLinks);
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

        return new Fault("partition-ring", ring, HealLinks);
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

            return Task.CompletedTask;
        });
    }

    private Fault Pause(string name, string victim)
    {
        cluster.Pause(victim);
        return new Fault(name, [victim], () =>
        {
            cluster.Resume(victim);
            return Task.CompletedTask;
        });
    }

    private Task HealLinks()
    {
        cluster.HealAll();
        return Task.CompletedTask;
    }

    /// <summary>
    /// Removes a member through another, then, as the heal, adds it back on an empty data folder, as an
    /// operator replaces a failed disk. Its data is wiped only once a majority of the others has applied the
    /// configuration without it, which is then committed: wiping a voter's log could lose acknowledged writes,
    /// which is what this suite is to catch, not to cause.
    /// </summary>
    private async Task<Fault> ReplaceAsync(string name, string victim)
    {
        var others = cluster.Ids.Where(id => id != victim).ToList();
        var member = new { id = victim, url = cluster.Url(victim).ToString(), peerUrl = cluster.PeerUrl(victim).ToString(), grpcUrl = cluster.GrpcUrl(victim).ToString() };
        var (sent, answer) = await SendUntilAsync(others, client => client.DeleteAsync($"/v1/members/{victim}"), [HttpStatusCode.OK, HttpStatusCode.Accepted]);
        if (!sent || !await VotingOnMajorityAsync(others, victim, voting: false))
        {
            // Never wiped while it might vote: it stays as it is, and the heal adds it again if the directory dropped it.
            return new Fault($"{name}-not-removed ({(sent ? "still voting" : answer)})", [victim], () => AddBackAsync(others, victim, member));
        }

        // It shuts itself down once removed; one still up after that is stopped.
        try
        {
            await cluster.WaitForExitAsync(victim);
        }
        catch (TimeoutException)
        {
            cluster.Kill(victim);
        }

        cluster.Kill(victim);
        Directory.Delete(cluster.DataDirectory(victim), recursive: true);
        if (joiners.Add(victim))
        {
            cluster.AddArguments(victim, "--join");
        }

        return new Fault(name, [victim], async () =>
        {
            cluster.Start(victim);
            await AddBackAsync(others, victim, member);
        });
    }

    private async Task AddBackAsync(IReadOnlyList<string> others, string victim, object member)
    {
        var (sent, answer) = await SendUntilAsync(others, client => client.PostAsJsonAsync("/v1/members", member), [HttpStatusCode.Created, HttpStatusCode.Accepted]);
        if (sent && await VotingOnMajorityAsync(others, victim, voting: true))
        {
            return;
        }

        // Left out: a joiner that is not a member knows no leader, and would hold up the final settling.
        log.Record("start", $"member-add-failed ({(sent ? "not voting" : answer)})", [victim]);
        cluster.Kill(victim);
    }

    /// <summary>
    /// Sends a membership change through one member after another until one answers with an expected status,
    /// or the deadline; with the last answer, to say why it failed.
    /// </summary>
    private async Task<(bool Sent, string LastAnswer)> SendUntilAsync(IReadOnlyList<string> through, Func<HttpClient, Task<HttpResponseMessage>> send, HttpStatusCode[] expected)
    {
        var deadline = Stopwatch.StartNew();
        var last = "no answer";
        for (var attempt = 0; deadline.Elapsed < MembershipTimeout; attempt++)
        {
            var id = through[attempt % through.Count];
            try
            {
                using var response = await send(cluster.Client(id));
                if (expected.Contains(response.StatusCode))
                {
                    return (true, "");
                }

                last = $"{id}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // That member is down, or cut off: the next one is asked.
                last = $"{id}: {e.Message}";
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200));
        }

        return (false, last);
    }

    /// <summary>
    /// Waits until most of <paramref name="others"/> have applied a configuration with <paramref name="victim"/>
    /// voting, or without it. A configuration is applied only once committed, so one would do; most is the margin.
    /// </summary>
    private async Task<bool> VotingOnMajorityAsync(IReadOnlyList<string> others, string victim, bool voting)
    {
        var peerUrl = cluster.PeerUrl(victim);
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < MembershipTimeout)
        {
            var statuses = await Task.WhenAll(others.Select(cluster.TryStatusAsync));
            var agreeing = statuses.Count(s => s is not null && s.Voters.Any(v => ClusterDefinition.SameEndpoint(v, peerUrl)) == voting);
            if (agreeing >= (others.Count / 2) + 1)
            {
                return true;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200));
        }

        return false;
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
