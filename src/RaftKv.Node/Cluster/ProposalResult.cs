using RaftKv.Store.Binary;
using RaftKv.Store.Results;

namespace RaftKv.Node.Cluster;

/// <summary>What became of a write this node tried to get committed.</summary>
public enum ProposalStatus : byte
{
    /// <summary>Committed and applied; <see cref="ProposalResult.Outcome"/> says how.</summary>
    Completed,

    /// <summary>The node asked is not a ready leader; the command was not proposed.</summary>
    NotLeader,

    /// <summary>Definitely not applied: the command was refused before it was proposed (no leader or quorum, an overloaded node).</summary>
    NotApplied,

    /// <summary>The command may or may not be applied, now or later.</summary>
    Unknown,

    /// <summary>Definitely not applied: the node was too busy to propose the command in time.</summary>
    Overloaded,

    /// <summary>Definitely not applied: the node's data volume is low on space.</summary>
    InsufficientStorage,
}

/// <param name="Status">Whether the write completed.</param>
/// <param name="Outcome">The store's answer, when completed.</param>
/// <param name="Detail">Why it did not complete, for the client.</param>
public readonly record struct ProposalResult(ProposalStatus Status, CommandResult? Outcome, string? Detail)
{
    public static ProposalResult Completed(CommandResult outcome) => new(ProposalStatus.Completed, outcome, null);

    public static ProposalResult NotLeader() => new(ProposalStatus.NotLeader, null, "This node is not the leader.");

    public static ProposalResult NotApplied(string detail) => new(ProposalStatus.NotApplied, null, detail);

    public static ProposalResult Unknown(string detail) => new(ProposalStatus.Unknown, null, detail);

    public static ProposalResult Overloaded(string detail) => new(ProposalStatus.Overloaded, null, detail);

    public static ProposalResult InsufficientStorage(string detail) => new(ProposalStatus.InsufficientStorage, null, detail);

    /// <summary>The leader's answer to forwarded writes: one result per command, in order.</summary>
    public static byte[] Encode(IReadOnlyList<ProposalResult> results)
    {
        var writer = new PayloadWriter();
        writer.WriteInt32(results.Count);
        foreach (var result in results)
        {
            writer.WriteByte((byte)result.Status);
            writer.WriteString(result.Detail ?? "");
            writer.WriteBool(result.Outcome is not null);
            if (result.Outcome is { } outcome)
            {
                ResultCodec.Write(writer, outcome);
            }
        }

        return writer.ToArray();
    }

    /// <exception cref="InvalidDataException">The answer is malformed.</exception>
    public static ProposalResult[] Decode(ReadOnlySpan<byte> input)
    {
        var reader = new PayloadReader(input);
        var results = new ProposalResult[reader.ReadCount()];
        for (var i = 0; i < results.Length; i++)
        {
            var status = reader.ReadByte();
            if (status > (byte)ProposalStatus.InsufficientStorage)
            {
                throw new InvalidDataException($"Unknown proposal status {status}.");
            }

            var detail = reader.ReadString();
            var outcome = reader.ReadBool() ? ResultCodec.Read(ref reader) : null;
            results[i] = new ProposalResult((ProposalStatus)status, outcome, detail.Length == 0 ? null : detail);
        }

        return results;
    }
}
