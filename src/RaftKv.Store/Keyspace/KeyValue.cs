namespace RaftKv.Store.Keyspace;

/// <summary>One version of a key, as a read returns it (etcd's <c>mvccpb.KeyValue</c>).</summary>
/// <param name="Key">The key.</param>
/// <param name="Value">The value; empty when the read asked for keys only.</param>
/// <param name="CreateRevision">The revision that created this generation of the key.</param>
/// <param name="ModRevision">The revision of the last change to the key.</param>
/// <param name="Version">1 at creation, +1 on every put since.</param>
/// <param name="Lease">The lease the key is attached to; 0 if none.</param>
public sealed record KeyValue(byte[] Key, byte[] Value, long CreateRevision, long ModRevision, long Version, long Lease);
