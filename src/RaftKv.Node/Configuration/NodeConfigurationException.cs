namespace RaftKv.Node.Configuration;

/// <summary>Bad configuration found at start-up; the node prints the message and exits.</summary>
public sealed class NodeConfigurationException(string message) : Exception(message);
