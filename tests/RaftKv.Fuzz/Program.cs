using RaftKv.Fuzz;
using SharpFuzz;

// README.md has the commands of a real campaign.
const string Usage = """
    usage: raftkv-fuzz <command|snapshot|history>              run under afl-fuzz (SharpFuzz out-of-process mode)
           raftkv-fuzz <command|snapshot|history> --libfuzzer  run under libfuzzer-dotnet
           raftkv-fuzz replay <command|snapshot|history> FILE...  run the target once per file: accepted, refused, or the exception
           raftkv-fuzz make-corpus DIR                         write the seed corpus to DIR/<target>/
    """;

switch (args)
{
    case [var target] when FuzzTargets.Names.Contains(target):
        Fuzzer.OutOfProcess.Run(stream =>
        {
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            FuzzTargets.Run(target, buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
        });
        return 0;
    case [var target, "--libfuzzer"] when FuzzTargets.Names.Contains(target):
        Fuzzer.LibFuzzer.Run(span => FuzzTargets.Run(target, span));
        return 0;
    case ["replay", var target, .. var files] when FuzzTargets.Names.Contains(target) && files.Length > 0:
        var status = 0;
        foreach (var file in files)
        {
            try
            {
                Console.WriteLine($"{file}: {(FuzzTargets.Run(target, File.ReadAllBytes(file)) ? "accepted" : "refused with the typed error")}");
            }
#pragma warning disable CA1031 // Replay reports whatever a crashing input throws, and goes on with the next.
            catch (Exception e)
#pragma warning restore CA1031
            {
                Console.WriteLine($"{file}: CRASH {e}");
                status = 1;
            }
        }

        return status;
    case ["make-corpus", var directory]:
        SeedCorpus.Write(directory);
        Console.WriteLine($"wrote {SeedCorpus.All().Count} seeds under {directory}");
        return 0;
    default:
        await Console.Error.WriteLineAsync(Usage);
        return 64;
}
