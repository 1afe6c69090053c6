using RaftKv.Node.Cluster;

namespace RaftKv.Node.Api;

/// <summary>The <c>consistency</c> query parameter of every read, and the wait it asks for.</summary>
public static class Reads
{
    /// <summary>Waits until local state may serve the read; null when it may, else the problem to answer.</summary>
    public static async Task<IResult?> WaitAsync(HttpContext context, LinearizableReads reads)
    {
        var consistency = context.Request.Query["consistency"].ToString();
        if (consistency is not ("" or "linearizable" or "lease" or "local"))
        {
            return Problems.BadRequest("consistency must be 'linearizable' (the default), 'lease' or 'local'.");
        }

        if (consistency == "local")
        {
            return null;
        }

        try
        {
            await reads.WaitUntilCurrentAsync(allowLease: consistency == "lease", context.RequestAborted);
            return null;
        }
        catch (ReadUnavailableException e)
        {
            return Problems.Unavailable(context, e.Message);
        }
    }
}
