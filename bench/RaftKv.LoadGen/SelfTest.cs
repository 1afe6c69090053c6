namespace RaftKv.LoadGen;

/// <summary>
/// <c>--self-test</c>: records random data sets in histograms (two halves merged, as the workers' are)
/// and compares every reported figure with the exact one from the sorted samples.
/// </summary>
internal static class SelfTest
{
    // What the histogram promises: a reported value within 1/256 of the exact one.
    private const double Tolerance = 1.0 / 256;

    public static int Run(int seed)
    {
        var random = new Random(seed);
        var dataSets = new (string Name, Func<long> Next)[]
        {
            ("small integers", () => random.Next(0, 600)),
            ("uniform to 1 s", () => random.NextInt64(0, 1_000_000_000)),
            ("log-normal around 1 ms", () => (long)Math.Exp(Math.Log(1e6) + (1.5 * Gaussian(random)))),
            ("Pareto tail from 100 us", () => (long)(100_000 / Math.Pow(1 - random.NextDouble(), 1 / 1.2))),
        };

        var failures = 0;
        foreach (var (name, next) in dataSets)
        {
            var samples = new long[200_000];
            var first = new Histogram();
            var second = new Histogram();
            for (var i = 0; i < samples.Length; i++)
            {
                samples[i] = next();
                (i % 2 == 0 ? first : second).Record(samples[i]);
            }

            var histogram = new Histogram();
            histogram.Add(first);
            histogram.Add(second);
            Array.Sort(samples);

            var checks = new List<(string Figure, double Expected, double Actual)>
            {
                ("count", samples.Length, histogram.Count),
                ("mean", samples.Average(s => (double)s), histogram.Mean),
                ("min", samples[0], histogram.Min),
                ("max", samples[^1], histogram.Max),
            };
            foreach (var q in new[] { 0.001, 0.1, 0.5, 0.9, 0.99, 0.999, 0.9999, 1.0 })
            {
                var exact = samples[Math.Max(1, (long)Math.Ceiling(q * samples.Length)) - 1];
                checks.Add(($"q{q}", exact, histogram.ValueAtQuantile(q)));
            }

            foreach (var (figure, expected, actual) in checks)
            {
                var ok = Math.Abs(actual - expected) <= Tolerance * Math.Abs(expected);
                failures += ok ? 0 : 1;
                Console.WriteLine($"{(ok ? "ok  " : "FAIL")} {name,-24} {figure,-8} exact {expected,16:0.###} histogram {actual,16:0.###}");
            }
        }

        Console.WriteLine(failures == 0 ? "self-test passed" : $"self-test FAILED: {failures} figure(s) off by more than {Tolerance:P2}");
        return failures == 0 ? 0 : 1;
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
