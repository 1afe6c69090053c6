using RaftKv.Robustness.History;

namespace RaftKv.Robustness.Tests.Checking;

/// <summary>Short constructors for hand-built operations on one key.</summary>
internal static class Ops
{
    public const string Key = "k";

    public static Operation Write(int process, string value, long invoke, long complete, string key = Key) =>
        new(process, OperationFunction.Write, key, value, null, null, OperationOutcome.Ok, invoke, complete, "n1");

    public static Operation Read(int process, string? output, long invoke, long complete, string key = Key) =>
        new(process, OperationFunction.Read, key, null, null, output, OperationOutcome.Ok, invoke, complete, "n2");

    public static Operation Cas(int process, string expected, string value, long invoke, long complete, string key = Key) =>
        new(process, OperationFunction.Cas, key, value, expected, null, OperationOutcome.Ok, invoke, complete, "n3");

    /// <summary>The operation's outcome is unknown: it may take effect any time after its invoke, or never.</summary>
    public static Operation Info(this Operation operation) =>
        operation with { Type = OperationOutcome.Info, Output = null, CompleteTime = long.MaxValue };

    public static Operation Failed(this Operation operation) =>
        operation with { Type = OperationOutcome.Fail, Output = null, Revision = null };
}
