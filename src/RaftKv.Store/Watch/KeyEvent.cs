using RaftKv.Store.Keyspace;

namespace RaftKv.Store.Watch;

public enum KeyEventType
{
    Put,
    Delete,
}

/// <summary>One change to one key, as a watch reports it (etcd's <c>mvccpb.Event</c>).</summary>
/// <param name="Type">A put or a delete.</param>
/// <param name="Kv">The key after the change; for a delete only its key and the revision of the delete.</param>
/// <param name="PrevKv">The key before the change, if it existed.</param>
public sealed record KeyEvent(KeyEventType Type, KeyValue Kv, KeyValue? PrevKv);
