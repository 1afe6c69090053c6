using RaftKv.Client;
using RaftKv.Robustness.History;

namespace RaftKv.Robustness.Harness;

/// <summary>
/// The register workload's operations, each recorded as an invoke and exactly one completion (ok, fail = definitely
/// not applied, info = unknown). One interface so that the same workload and checker run over either API the nodes
/// serve: the HTTP API (<see cref="RecordingClient"/>) or etcd's v3 gRPC API (<see cref="GrpcRegisterClient"/>).
/// </summary>
public interface IRegisterClient
{
    int NodeCount { get; }

    /// <summary>A read of <paramref name="key"/> on <paramref name="node"/>, at the run's read consistency unless <paramref name="consistency"/> is given.</summary>
    Task<HistoryEvent> ReadAsync(int process, string key, int node, Consistency? consistency = null);

    /// <summary>A put; an ok one is recorded with the revision it was applied at.</summary>
    Task<HistoryEvent> WriteAsync(int process, string key, string value, int node);

    /// <summary>Puts <paramref name="value"/> only if <paramref name="key"/> holds <paramref name="expected"/>; a compare that did not hold is fail.</summary>
    Task<HistoryEvent> CasAsync(int process, string key, string expected, string value, int node);
}
