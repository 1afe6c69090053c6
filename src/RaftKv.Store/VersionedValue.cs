namespace RaftKv.Store;

/// <summary>A stored value and the store revision of the write that last modified it.</summary>
/// <remarks>The array is never mutated after it is stored, so readers may hold it without a lock.</remarks>
public readonly record struct VersionedValue(byte[] Value, long ModRevision);
