using Microsoft.Extensions.FileProviders;

namespace RaftKv.Node.WebConsole;

/// <summary>
/// The web console at <c>/ui</c>: a few static files embedded in this assembly, so that every node
/// serves it with nothing to build or download. The page uses the public API only.
/// </summary>
public static class WebConsoleSetup
{
    public const string Path = "/ui";

    public static void UseWebConsole(this WebApplication app)
    {
        var files = new EmbeddedFileProvider(typeof(WebConsoleSetup).Assembly, "RaftKv.Node.WebConsole.wwwroot");
        // /ui redirects to /ui/, which serves index.html.
        app.UseDefaultFiles(new DefaultFilesOptions { RequestPath = Path, FileProvider = files });
        app.UseStaticFiles(new StaticFileOptions
        {
            RequestPath = Path,
            FileProvider = files,
            // A node upgrade changes the files: let browsers check rather than keep an old copy.
            OnPrepareResponse = context => context.Context.Response.Headers.CacheControl = "no-cache",
        });
    }
}
