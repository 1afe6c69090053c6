namespace RaftKv.Store.Commands;

/// <summary>What a write command does to its key.</summary>
public enum WriteKind : byte
{
    Put = 1,
    Delete = 2,
}
