using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using RaftKv.Testing;

// Two regions: n1 and n2 in one, with the leader; n3 in the other, every link to it delayed both ways.
// Each operation runs one at a time on the far node and on the near follower, and its latencies are reported.
var oneWay = new Option<int>("--one-way-ms") { Description = "Delay of each direction of a link between the regions (a round trip is twice that).", DefaultValueFactory = _ => 25 };
var operations = new Option<int>("--ops") { Description = "Operations of each kind on each node.", DefaultValueFactory = _ => 200 };
var election = new Option<int>("--election-ms") { Description = "RaftKv:ElectionTimeoutMs for every node.", DefaultValueFactory = _ => 1000 };
var command = new RootCommand("Measures writes and linearizable, lease and local reads on a node a wide-area link away from the leader.") { oneWay, operations, election };
command.SetAction(async (parsed, cancel) =>
{
    var delay = TimeSpan.FromMilliseconds(parsed.GetValue(oneWay));
    var count = parsed.GetValue(operations);
    var settings = new Dictionary<string, string> { ["ElectionTimeoutMs"] = parsed.GetValue(election).ToString(CultureInfo.InvariantCulture) };
    await using var cluster = await TestCluster.StartAsync(3, sharedSettings: settings, networkFaults: true);
    cluster.Delay("n1", "n3", delay);
    cluster.Delay("n2", "n3", delay);

    // The leader must be in the near region: a far leader is moved by restarting it.
    var leader = await cluster.WaitForLeaderAsync();
    while (leader == "n3")
    {
        await cluster.StopAsync("n3");
        cluster.Start("n3");
        leader = await cluster.WaitForLeaderAsync(id => id != "n3");
    }

    await cluster.WaitUntilReadyAsync();
    var near = cluster.Ids.First(id => id != leader && id != "n3");
    Console.WriteLine($"one-way delay {delay.TotalMilliseconds} ms between regions; leader {leader}; near follower {near}; far node n3; {count} operations of each kind, one at a time");
    Console.WriteLine($"{"node",-6} {"operation",-18} {"median ms",10} {"p90 ms",10} {"p99 ms",10} {"max ms",10}");
    string[] consistencies = ["linearizable", "lease", "local"];
    foreach (var node in new[] { "n3", near })
    {
        var client = cluster.Client(node);
        await MeasureAsync(node, "write", count, i => Expect(client.PutAsync(new Uri($"/v1/kv/wan/{node}/{i}", UriKind.Relative), new StringContent("v"), cancel)));
        foreach (var consistency in consistencies)
        {
            await MeasureAsync(node, $"{consistency} read", count, i => Expect(client.GetAsync(new Uri($"/v1/kv/wan/{node}/{i % 10}?consistency={consistency}", UriKind.Relative), cancel)));
        }
    }
});
return await command.Parse(args).InvokeAsync();

static async Task MeasureAsync(string node, string operation, int count, Func<int, Task> run)
{
    var samples = new double[count];
    for (var i = 0; i < count; i++)
    {
        var started = Stopwatch.GetTimestamp();
        await run(i);
        samples[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
    }

    Array.Sort(samples);
    double At(double quantile) => samples[Math.Min(count - 1, (int)Math.Ceiling(quantile * count) - 1)];
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{node,-6} {operation,-18} {At(0.5),10:F1} {At(0.9),10:F1} {At(0.99),10:F1} {samples[^1],10:F1}"));
}

static async Task Expect(Task<HttpResponseMessage> request)
{
    using var response = await request;
    response.EnsureSuccessStatusCode();
}
