namespace RaftKv.Testing;

/// <summary>The checkout the tests run from: the folder above the test binaries that holds RaftKv.sln.</summary>
public static class RepositoryRoot
{
    public static string Path { get; } = Find();

    private static string Find()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(System.IO.Path.Combine(directory.FullName, "RaftKv.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("RaftKv.sln not found above the test binaries.");
    }
}
