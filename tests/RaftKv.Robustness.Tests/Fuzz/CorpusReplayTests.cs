using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using RaftKv.Fuzz;

namespace RaftKv.Robustness.Tests.Fuzz;

/// <summary>
/// The fuzz targets of tests/RaftKv.Fuzz in CI, without a fuzzer: every seed of the corpus, every truncation of it,
/// every 32-bit field of it set to a length at an edge, and seeded random mutations of it (AFL's havoc, briefly)
/// must each decode or fail with the decoder's typed error. A failure names the target, the seed and the mutation,
/// and gives the input in base64: save it to a file and run <c>raftkv-fuzz replay TARGET FILE</c>.
/// </summary>
[Collection(Name)]
public sealed class CorpusReplayTests(ITestOutputHelper output)
{
    public const string Name = "Corpus replay";

    private const int MutationsPerSeed = 2000;

    /// <summary>Lengths and counts at the edges the decoders check: signs, the size of what remains, their own bounds.</summary>
    private static readonly int[] EdgeInt32s =
    [
        -1, int.MinValue, int.MaxValue, int.MaxValue - 7, 0x7FFF_FFF0, 1 << 24, (64 * 1024 * 1024) + 1, 1 << 20, (1 << 20) + 1,
        4097, 100_000_001, 0, 1, 2, 255, 256,
    ];

    private static readonly long[] EdgeInt64s = [long.MaxValue, long.MinValue, -1, 0, 1, 9_000_000_001, int.MaxValue + 1L];

    private static readonly byte[] EdgeBytes = [0, 1, 2, 3, 4, 0x7F, 0x80, 0xFE, 0xFF];

    private static readonly string CorpusDirectory = Path.Combine(AppContext.BaseDirectory, "corpus");

    public static TheoryData<string> Targets => [.. FuzzTargets.Names];

    private static Dictionary<string, byte[]> Corpus(string target) => Directory.GetFiles(Path.Combine(CorpusDirectory, target))
        .Order(StringComparer.Ordinal)
        .ToDictionary(file => new FileInfo(file).Name, File.ReadAllBytes);

    [Fact]
    public void The_corpus_in_the_repository_is_what_the_generator_makes()
    {
        var made = SeedCorpus.All();
        foreach (var target in FuzzTargets.Names)
        {
            var files = Corpus(target);
            Assert.Equal(made.Where(s => s.Target == target).Select(s => s.Name).Order(StringComparer.Ordinal), files.Keys);
            foreach (var seed in made.Where(s => s.Target == target))
            {
                Assert.True(
                    seed.Bytes.AsSpan().SequenceEqual(files[seed.Name]),
                    $"corpus/{target}/{seed.Name} is not what the encoders make now: run `dotnet run --project tests/RaftKv.Fuzz -- make-corpus tests/RaftKv.Fuzz/corpus`.");
            }
        }

        Assert.Equal(SeedCorpus.HistoryDictionaryText(), File.ReadAllText(Path.Combine(CorpusDirectory, SeedCorpus.HistoryDictionary)));
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void Every_seed_decodes(string target)
    {
        foreach (var (name, bytes) in Corpus(target))
        {
            Assert.True(FuzzTargets.Run(target, bytes), $"corpus/{target}/{name} was refused: a seed must be a valid input.");
        }
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void Truncations_and_lengths_at_the_edges_decode_or_fail_with_the_typed_error(string target)
    {
        var runs = 0;
        foreach (var (name, seed) in Corpus(target))
        {
            for (var length = 0; length < seed.Length; length++)
            {
                Run(target, name, $"truncated to {length} bytes", seed[..length]);
                runs++;
            }

            if (target == FuzzTargets.History)
            {
                continue; // text: its lengths are not fields
            }

            for (var offset = 0; offset + sizeof(int) <= seed.Length; offset++)
            {
                foreach (var value in EdgeInt32s)
                {
                    var mutated = seed.ToArray();
                    BinaryPrimitives.WriteInt32LittleEndian(mutated.AsSpan(offset), value);
                    Run(target, name, $"int32 at offset {offset} set to {value}", mutated);
                    runs++;
                }
            }
        }

        output.WriteLine($"{target}: {runs} inputs");
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void Random_mutations_of_every_seed_decode_or_fail_with_the_typed_error(string target)
    {
        var corpus = Corpus(target);
        var seeds = corpus.Values.ToArray();
        var tokens = target == FuzzTargets.History ? SeedCorpus.HistoryTokens.Select(Encoding.UTF8.GetBytes).ToArray() : [];
        var accepted = 0;
        var clock = Stopwatch.StartNew();
        foreach (var (name, seed) in corpus)
        {
            // One fixed seed per file, so adding a seed leaves the mutations of the others as they were.
            var random = new Random(StableHash(target + "/" + name));
            for (var i = 0; i < MutationsPerSeed; i++)
            {
                var steps = new List<string>();
                var mutated = seed;
                var count = 1 + random.Next(4);
                for (var step = 0; step < count; step++)
                {
                    mutated = Mutate(random, mutated, seeds, tokens, steps);
                }

                accepted += Run(target, name, string.Join(", ", steps), mutated) ? 1 : 0;
            }
        }

        output.WriteLine($"{target}: {corpus.Count * MutationsPerSeed} mutations, {accepted} accepted, {clock.ElapsedMilliseconds} ms");
    }

    private static bool Run(string target, string seed, string mutation, byte[] input)
    {
        try
        {
            return FuzzTargets.Run(target, input);
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
        {
            throw new Xunit.Sdk.XunitException(
                $"The {target} target threw {e.GetType().Name} on corpus/{target}/{seed} mutated ({mutation}): {e.Message}\n" +
                $"input (base64): {Convert.ToBase64String(input)}\n{e}");
        }
    }

    /// <summary>One havoc step, described in <paramref name="steps"/>; the last kind (tokens) only for a target with a dictionary.</summary>
    private static byte[] Mutate(Random random, byte[] input, byte[][] seeds, byte[][] tokens, List<string> steps)
    {
        const int MaxLength = 1 << 16;
        var bytes = new List<byte>(input);
        var at = random.Next(bytes.Count + 1);
        switch (random.Next(tokens.Length > 0 ? 12 : 11))
        {
            case 0 when bytes.Count > 0:
                at = random.Next(bytes.Count);
                var bit = random.Next(8);
                bytes[at] ^= (byte)(1 << bit);
                steps.Add($"bit {bit} of byte {at} flipped");
                break;
            case 1 when bytes.Count > 0:
                at = random.Next(bytes.Count);
                bytes[at] = random.Next(2) == 0 ? EdgeBytes[random.Next(EdgeBytes.Length)] : (byte)random.Next(256);
                steps.Add($"byte {at} set to {bytes[at]}");
                break;
            case 2:
                var inserted = new byte[1 + random.Next(8)];
                random.NextBytes(inserted);
                bytes.InsertRange(at, inserted);
                steps.Add($"{inserted.Length} random bytes inserted at {at}");
                break;
            case 3 when bytes.Count > 0:
                at = random.Next(bytes.Count);
                var deleted = Math.Min(1 + random.Next(8), bytes.Count - at);
                bytes.RemoveRange(at, deleted);
                steps.Add($"{deleted} bytes deleted at {at}");
                break;
            case 4:
                bytes.RemoveRange(at, bytes.Count - at);
                steps.Add($"truncated to {at}");
                break;
            case 5 when bytes.Count >= sizeof(int):
                at = random.Next(bytes.Count - sizeof(int) + 1);
                var length = EdgeInt32s[random.Next(EdgeInt32s.Length)];
                var remaining = bytes.Count - at - sizeof(int);
                length = random.Next(3) switch { 0 => remaining, 1 => remaining + 1, _ => length };
                Span<byte> int32 = stackalloc byte[sizeof(int)];
                BinaryPrimitives.WriteInt32LittleEndian(int32, length);
                Overwrite(bytes, at, int32);

                steps.Add($"int32 at {at} set to {length}");
                break;
            case 6 when bytes.Count >= sizeof(long):
                at = random.Next(bytes.Count - sizeof(long) + 1);
                var number = EdgeInt64s[random.Next(EdgeInt64s.Length)];
                Span<byte> int64 = stackalloc byte[sizeof(long)];
                BinaryPrimitives.WriteInt64LittleEndian(int64, number);
                Overwrite(bytes, at, int64);

                steps.Add($"int64 at {at} set to {number}");
                break;
            case 7:
                var other = seeds[random.Next(seeds.Length)];
                bytes.AddRange(other);
                steps.Add($"a seed of {other.Length} bytes appended");
                break;
            case 8:
                var donor = seeds[random.Next(seeds.Length)];
                var from = random.Next(donor.Length + 1);
                bytes.RemoveRange(at, bytes.Count - at);
                bytes.AddRange(donor.AsSpan(from).ToArray());
                steps.Add($"spliced at {at} with a seed from its byte {from}");
                break;
            case 9 when bytes.Count > 0:
                at = random.Next(bytes.Count);
                var chunk = bytes.GetRange(at, Math.Min(1 + random.Next(32), bytes.Count - at));
                bytes.InsertRange(random.Next(bytes.Count + 1), chunk);
                steps.Add($"{chunk.Count} bytes from {at} duplicated");
                break;
            case 10 when bytes.Count > 0:
                var source = random.Next(bytes.Count);
                var target = random.Next(bytes.Count);
                var copied = Math.Min(1 + random.Next(32), Math.Min(bytes.Count - source, bytes.Count - target));
                var copy = bytes.GetRange(source, copied);
                for (var i = 0; i < copied; i++)
                {
                    bytes[target + i] = copy[i];
                }

                steps.Add($"{copied} bytes from {source} copied over {target}");
                break;
            case 11:
                var token = tokens[random.Next(tokens.Length)];
                var overwrite = random.Next(2) == 0 ? Math.Min(token.Length, bytes.Count - at) : 0;
                bytes.RemoveRange(at, overwrite);
                bytes.InsertRange(at, token);
                steps.Add($"token {Encoding.UTF8.GetString(token)} {(overwrite > 0 ? "written over" : "inserted at")} {at}");
                break;
            default:
                bytes.Add((byte)random.Next(256));
                steps.Add("a random byte appended");
                break;
        }

        return bytes.Count > MaxLength ? [.. bytes.GetRange(0, MaxLength)] : [.. bytes];
    }

    /// <summary>A hash that, unlike string.GetHashCode, is the same in every process.</summary>
    private static int StableHash(string text)
    {
        var hash = 17;
        foreach (var c in text)
        {
            hash = unchecked((hash * 31) + c);
        }

        return hash;
    }

    private static void Overwrite(List<byte> bytes, int at, ReadOnlySpan<byte> value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            bytes[at + i] = value[i];
        }
    }
}

/// <summary>
/// The replay keeps a core busy for seconds; run alone, it cannot slow the scripted-node retry tests
/// past their short bounds (in one CI run a GrpcRegisterClientRetryTests case failed as Info while the replay ran beside it).
/// </summary>
[CollectionDefinition(CorpusReplayTests.Name, DisableParallelization = true)]
public sealed class CorpusReplayGroup;
