using System.CommandLine;

namespace RaftKv.Cli;

/// <summary>Options every command takes: where the cluster is, how to talk to it, how to print.</summary>
internal sealed class GlobalOptions
{
    public Option<string?> Endpoints { get; } = new("--endpoints")
    {
        Description = "Client URLs, comma-separated (default: $RAFTKV_ENDPOINTS, else the members of --cluster).",
        Recursive = true,
    };

    public Option<FileInfo?> Cluster { get; } = new("--cluster")
    {
        Description = "A cluster file whose members' client URLs to use (default: ./cluster.json, if there is one).",
        Recursive = true,
    };

    public Option<string> Output { get; } = new Option<string>("--output", "-o")
    {
        Description = "text (default), or json for scripts (one object; a JSON line per item for ls and watch).",
        DefaultValueFactory = _ => "text",
        Recursive = true,
    }.AcceptOnlyFromAmong("text", "json");

    public Option<string?> User { get; } = new("--user")
    {
        Description = "NAME or NAME:PASSWORD, with authentication on (default: $RAFTKV_USER; the password also from $RAFTKV_PASSWORD).",
        Recursive = true,
    };

    public Option<FileInfo?> CaCert { get; } = new("--cacert")
    {
        Description = "PEM file of the CA that signed the nodes' https certificates (default: $RAFTKV_CACERT).",
        Recursive = true,
    };

    public Option<FileInfo?> Cert { get; } = new("--cert")
    {
        Description = "PEM client certificate, for nodes that require one (default: $RAFTKV_CERT).",
        Recursive = true,
    };

    public Option<FileInfo?> Key { get; } = new("--key")
    {
        Description = "PEM key of --cert (default: $RAFTKV_KEY).",
        Recursive = true,
    };

    public Option<double> Timeout { get; } = new("--timeout")
    {
        Description = "Seconds to wait for each answer (default 10).",
        DefaultValueFactory = _ => 10,
        Recursive = true,
    };

    public IEnumerable<Option> All => [Endpoints, Cluster, Output, User, CaCert, Cert, Key, Timeout];
}
