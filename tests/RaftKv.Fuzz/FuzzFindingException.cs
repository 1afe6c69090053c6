namespace RaftKv.Fuzz;

/// <summary>A decoder accepted an input, but what it decoded breaks a property of its format (a fuzzing finding).</summary>
public sealed class FuzzFindingException : Exception
{
    public FuzzFindingException(string message)
        : base(message)
    {
    }

    public FuzzFindingException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
