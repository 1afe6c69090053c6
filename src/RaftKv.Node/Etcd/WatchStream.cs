using System.Threading.Channels;
using Etcdserverpb;
using Grpc.Core;
using RaftKv.Node.Auth;
using RaftKv.Node.Cluster;
using RaftKv.Node.Watch;
using RaftKv.Store.Keyspace;
using RaftKv.Store.Watch;

namespace RaftKv.Node.Etcd;

/// <summary>
/// One client's watch stream, as etcd serves it (<c>v3rpc/watch.go</c>): creates are answered in the
/// order they came, with ids from 0; each watch pulls its revisions from the <see cref="WatchHub"/>
/// and filters them; every response goes out through one queue, so a watch's events never pass its
/// created or canceled answer.
/// </summary>
internal sealed class WatchStream(
    EtcdAdapter etcd,
    WatchHub hub,
    LinearizableReads reads,
    TimeProvider time,
    IAsyncStreamReader<WatchRequest> requests,
    IServerStreamWriter<WatchResponse> responses,
    bool requiresLeader,
    Caller caller)
{
    /// <summary>etcd's reason for a watch its user may not read, as the Go client prints a gRPC error.</summary>
    private const string PermissionDeniedReason = "rpc error: code = PermissionDenied desc = etcdserver: permission denied";

    /// <summary>etcd's default <c>--max-request-bytes</c> and gRPC overhead: a fragmenting watch splits responses larger than this.</summary>
    private const int FragmentBytes = 2 * 1024 * 1024;

    // Bounded: a client that reads slowly holds its watches back, not the node's memory.
    private readonly Channel<WatchResponse> outgoing = Channel.CreateBounded<WatchResponse>(new BoundedChannelOptions(64) { SingleReader = true });
    private readonly Dictionary<long, ActiveWatch> watches = [];
    private readonly Lock gate = new();
    private long nextId;

    public async Task RunAsync(CancellationToken token)
    {
        var sending = SendAllAsync(token);
        try
        {
            while (await requests.MoveNext(token))
            {
                var request = requests.Current;
                switch (request.RequestUnionCase)
                {
                    case WatchRequest.RequestUnionOneofCase.CreateRequest:
                        await CreateAsync(request.CreateRequest, token);
                        break;
                    case WatchRequest.RequestUnionOneofCase.CancelRequest:
                        await CancelAsync(request.CancelRequest.WatchId, token);
                        break;
                    case WatchRequest.RequestUnionOneofCase.ProgressRequest when ProgressRevision() is { } revision:
                        await SendAsync(new WatchResponse { Header = etcd.Header(revision), WatchId = -1 }, token);
                        break;
                }
            }

            // The client closed its side: its watches go on until it goes away, as etcd's do.
            await Task.Delay(Timeout.Infinite, token);
        }
        finally
        {
            ActiveWatch[] all;
            lock (gate)
            {
                all = [.. watches.Values];
                watches.Clear();
            }

            foreach (var watch in all)
            {
                await watch.StopAsync();
            }

            outgoing.Writer.TryComplete();

            // The stream is ending anyway, on the client's or the node's account: what the send loop
            // makes of that is no news.
            await sending.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    private async Task CreateAsync(WatchCreateRequest create, CancellationToken token)
    {
        // As etcd reads a create: an empty key is the smallest key, "\0" as the end means every key from the key on.
        var key = create.Key.IsEmpty ? [0] : create.Key.ToByteArray();
        var range = new KeyRange(key, create.RangeEnd.ToByteArray());
        long id;
        string? refused = null;
        lock (gate)
        {
            id = create.WatchId != 0 ? create.WatchId : NextFreeId();
            if (create.StartRevision < 0)
            {
                refused = EtcdErrors.Compacted().Status.Detail;
            }
            else if (range.End is { } end && !range.IsSingleKey && end.AsSpan().SequenceCompareTo(key) <= 0)
            {
                refused = "mvcc: watcher range is empty";
            }
            else if (watches.ContainsKey(id))
            {
                refused = "mvcc: duplicate watch ID provided on the WatchStream";
            }
        }

        if (refused is not null)
        {
            await SendAsync(new WatchResponse { Header = etcd.Header(), WatchId = -1, Created = true, Canceled = true, CancelReason = refused }, token);
            return;
        }

        await WaitUntilCurrentAsync(token);

        // Checked once, over the whole range, when the watch is created, as etcd does; the stream stays open.
        if (!caller.MayRead(etcd.Auth, range))
        {
            await SendAsync(new WatchResponse { Header = etcd.Header(), WatchId = -1, Created = true, Canceled = true, CancelReason = PermissionDeniedReason }, token);
            return;
        }

        var keyspace = etcd.Keyspace;
        var start = create.StartRevision > 0 ? create.StartRevision : keyspace.Revision + 1;
        await SendAsync(new WatchResponse { Header = etcd.Header(keyspace.Revision), WatchId = id, Created = true }, token);

        var watch = new ActiveWatch(id, start, create, CancellationTokenSource.CreateLinkedTokenSource(token));
        lock (gate)
        {
            watches[id] = watch;
        }

        watch.Pump = PumpAsync(watch, range);
    }

    /// <summary>
    /// A read index first, as the HTTP watch takes one, so that a watch from "now" starts after every
    /// acknowledged write. A client that asked for a leader loses the stream when there is none; etcd
    /// serves the others from local state, and so does RaftKv.
    /// </summary>
    private async Task WaitUntilCurrentAsync(CancellationToken token)
    {
        try
        {
            await reads.WaitUntilCurrentAsync(allowLease: false, token);
        }
        catch (ReadUnavailableException) when (!requiresLeader)
        {
        }
        catch (ReadUnavailableException)
        {
            throw EtcdErrors.NoLeader();
        }
    }

    private long NextFreeId()
    {
        while (watches.ContainsKey(nextId))
        {
            nextId++;
        }

        return nextId++;
    }

    private async Task CancelAsync(long id, CancellationToken token)
    {
        ActiveWatch? watch;
        lock (gate)
        {
            watches.Remove(id, out watch);
        }

        if (watch is null)
        {
            return;
        }

        // Stopped before the answer is queued: no event of this watch follows it.
        await watch.StopAsync();
        await SendAsync(new WatchResponse { Header = etcd.Header(), WatchId = id, Canceled = true }, token);
    }

    private async Task PumpAsync(ActiveWatch watch, KeyRange range)
    {
        var token = watch.Stop.Token;
        var noPut = watch.Create.Filters.Contains(WatchCreateRequest.Types.FilterType.Noput);
        var noDelete = watch.Create.Filters.Contains(WatchCreateRequest.Types.FilterType.Nodelete);
        var lastSent = time.GetTimestamp();
        try
        {
            try
            {
                await foreach (var batch in hub.WatchAsync(range, watch.Start, watch.Create.PrevKv, markCaughtUp: true, token))
                {
                    if (!batch.IsProgress)
                    {
                        var events = noPut || noDelete
                            ? [.. batch.Events!.Where(e => e.Type == KeyEventType.Put ? !noPut : !noDelete)]
                            : batch.Events!;
                        if (events.Count > 0)
                        {
                            await SendEventsAsync(watch, batch.Revision, events, token);
                            lastSent = time.GetTimestamp();
                        }
                    }
                    else if (watch.Create.ProgressNotify && time.GetElapsedTime(lastSent) >= hub.ProgressInterval * 0.75)
                    {
                        await SendAsync(new WatchResponse { Header = etcd.Header(batch.Revision), WatchId = watch.Id }, token);
                        lastSent = time.GetTimestamp();
                    }

                    Volatile.Write(ref watch.SentThrough, batch.Revision);
                }
            }
            catch (WatchCompactedException e)
            {
                // As etcd's: the client makes its error from compact_revision.
                await SendAsync(new WatchResponse { Header = etcd.Header(), WatchId = watch.Id, Canceled = true, CompactRevision = e.CompactRevision }, token);

                // Off the stream only once its answer is queued: until then, a cancel or the stream's end stops it like any other.
                bool removed;
                lock (gate)
                {
                    removed = watches.Remove(watch.Id);
                }

                if (removed)
                {
                    watch.Stop.Dispose();
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
    }

    /// <summary>One revision's events in one response, or, for a watch that asked to fragment, in pieces of at most <see cref="FragmentBytes"/>.</summary>
    private async Task SendEventsAsync(ActiveWatch watch, long revision, IReadOnlyList<KeyEvent> events, CancellationToken token)
    {
        var response = new WatchResponse { Header = etcd.Header(revision), WatchId = watch.Id };
        var size = 0;
        foreach (var change in events)
        {
            var message = EtcdMessages.ToMessage(change);
            var messageSize = message.CalculateSize();
            if (watch.Create.Fragment && response.Events.Count > 0 && size + messageSize > FragmentBytes)
            {
                response.Fragment = true;
                await SendAsync(response, token);
                response = new WatchResponse { Header = etcd.Header(revision), WatchId = watch.Id };
                size = 0;
            }

            response.Events.Add(message);
            size += messageSize;
        }

        await SendAsync(response, token);
    }

    /// <summary>
    /// The revision a progress request can vouch for: every watch of the stream has sent all its
    /// events up to it; null, as etcd answers nothing, on a stream without watches. etcd answers only
    /// when every watch is synced; this answers at once, with the furthest revision that is true of.
    /// </summary>
    private long? ProgressRevision()
    {
        lock (gate)
        {
            return watches.Count == 0 ? null : watches.Values.Min(w => Volatile.Read(ref w.SentThrough));
        }
    }

    private ValueTask SendAsync(WatchResponse response, CancellationToken token) => outgoing.Writer.WriteAsync(response, token);

    private async Task SendAllAsync(CancellationToken token)
    {
        await foreach (var response in outgoing.Reader.ReadAllAsync(token))
        {
            await responses.WriteAsync(response, token);
        }
    }

    private sealed class ActiveWatch(long id, long start, WatchCreateRequest create, CancellationTokenSource stop)
    {
        public long SentThrough = start - 1;

        public long Id => id;

        public long Start => start;

        public WatchCreateRequest Create => create;

        public CancellationTokenSource Stop => stop;

        public Task Pump { get; set; } = Task.CompletedTask;

        public async Task StopAsync()
        {
            await stop.CancelAsync();
            await Pump;
            stop.Dispose();
        }
    }
}
