using System.Diagnostics;
using System.Globalization;
using HdrHistogram;
using Spectre.Console;

namespace RaftKv.LoadGen;

/// <summary>
/// Once a second until the workers are done: the phase, the last second's throughput, p50 and p99, and the
/// errors so far (failed requests, warm-up included). On a terminal it is one line redrawn in place (Spectre.Console's live display, on stderr);
/// redirected, as in the scripts' logs, it is a plain line a second.
/// </summary>
internal static class ProgressLine
{
    public static async Task ShowAsync(Task running, long t0, Window window, LiveCounters live)
    {
        if (Console.IsErrorRedirected)
        {
            await TickAsync(running, t0, window, live, async second => await Console.Error.WriteLineAsync(second.Text()));
            return;
        }

        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        await console.Live(new Markup("starting")).StartAsync(context => TickAsync(running, t0, window, live, second =>
        {
            context.UpdateTarget(new Markup(second.Markup()));
            return Task.CompletedTask;
        }));
    }

    private static async Task TickAsync(Task running, long t0, Window window, LiveCounters live, Func<Second, Task> show)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        var (lastTime, lastCompleted) = (t0, 0L);
        HistogramBase? interval = null;
        while (await Task.WhenAny(running, timer.WaitForNextTickAsync().AsTask()) != running)
        {
            var (now, completed) = (Stopwatch.GetTimestamp(), live.Completed);
            interval = live.Latency.GetIntervalHistogram(interval);
            await show(new Second(
                Stopwatch.GetElapsedTime(t0, now).TotalSeconds,
                now < window.Start ? "warm-up" : now < window.End ? "measured" : "draining",
                (completed - lastCompleted) / Stopwatch.GetElapsedTime(lastTime, now).TotalSeconds,
                interval.ValueAtQuantile(0.5) / 1e6,
                interval.ValueAtQuantile(0.99) / 1e6,
                live.Errors));
            (lastTime, lastCompleted) = (now, completed);
        }
    }

    private readonly record struct Second(double Elapsed, string Phase, double Rate, double P50Ms, double P99Ms, long Errors)
    {
        public string Text() => string.Create(
            CultureInfo.InvariantCulture,
            $"{Elapsed,5:0}s {Phase,-8} {Rate,8:0} ops/s  p50 {P50Ms,7:0.00}  p99 {P99Ms,7:0.00} ms  errors {Errors}");

        public string Markup() => string.Create(
            CultureInfo.InvariantCulture,
            $"{Elapsed,5:0}s [{(Phase == "measured" ? "green" : "yellow")}]{Phase,-8}[/] [bold]{Rate,8:0}[/] ops/s  p50 {P50Ms,7:0.00}  p99 {P99Ms,7:0.00} ms  errors [{(Errors > 0 ? "red" : "default")}]{Errors}[/]");
    }
}
