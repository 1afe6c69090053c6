using System.CommandLine;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using RaftKv.Client;

namespace RaftKv.Cli;

/// <summary>One invocation's view of the cluster: its endpoints, a client for them, and how to print.</summary>
internal sealed class Connection : IDisposable
{
    private Connection(IReadOnlyList<Uri> endpoints, RaftKvClient client, bool json, CliConsole console)
    {
        Endpoints = endpoints;
        Client = client;
        Json = json;
        Console = console;
    }

    public IReadOnlyList<Uri> Endpoints { get; }

    public RaftKvClient Client { get; }

    /// <summary>Print JSON rather than text.</summary>
    public bool Json { get; }

    public CliConsole Console { get; }

    /// <exception cref="UsageException">No endpoints, or an unreadable cluster file or certificate.</exception>
    public static Connection Open(ParseResult parsed, GlobalOptions options, CliConsole console, Func<string, string?> environment)
    {
        var endpoints = ResolveEndpoints(parsed.GetValue(options.Endpoints), environment("RAFTKV_ENDPOINTS"), parsed.GetValue(options.Cluster));
        var timeout = parsed.GetValue(options.Timeout);
        if (timeout <= 0 || double.IsNaN(timeout))
        {
            throw new UsageException("--timeout must be a positive number of seconds.");
        }

        HttpMessageHandler handler = Transport(
            parsed.GetValue(options.CaCert) ?? FileFrom(environment("RAFTKV_CACERT")),
            parsed.GetValue(options.Cert) ?? FileFrom(environment("RAFTKV_CERT")),
            parsed.GetValue(options.Key) ?? FileFrom(environment("RAFTKV_KEY")));
        if ((parsed.GetValue(options.User) ?? environment("RAFTKV_USER")) is { Length: > 0 } user)
        {
            var (name, password) = user.IndexOf(':', StringComparison.Ordinal) is var colon and >= 0
                ? (user[..colon], user[(colon + 1)..])
                : (user, environment("RAFTKV_PASSWORD") ?? throw new UsageException($"--user {user} needs a password: NAME:PASSWORD, or $RAFTKV_PASSWORD."));
            handler = new TokenHandler(name, password, handler);
        }

        // One write per run: a fresh connection for it costs little, and lets a refused connection say "not applied" (exit 2) rather than "unknown".
        // --timeout bounds the whole command, retries on other endpoints included.
        var client = new RaftKvClient(
            new RaftKvClientOptions
            {
                Endpoints = [.. endpoints],
                RequestTimeout = TimeSpan.FromSeconds(timeout),
                CallTimeout = TimeSpan.FromSeconds(timeout),
                FreshConnectionPerWrite = true,
            },
            handler);
        return new Connection(endpoints, client, parsed.GetValue(options.Output) == "json", console);
    }

    /// <summary>From <c>--endpoints</c>, else <c>$RAFTKV_ENDPOINTS</c>, else the cluster file (given, or ./cluster.json).</summary>
    /// <exception cref="UsageException">None of them gives an endpoint, or one is not an http(s) URL.</exception>
    public static IReadOnlyList<Uri> ResolveEndpoints(string? flag, string? variable, FileInfo? clusterFile)
    {
        var list = flag ?? variable;
        if (list is not null)
        {
            var urls = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(ParseUrl).ToList();
            return urls.Count > 0 ? urls : throw new UsageException("--endpoints (or $RAFTKV_ENDPOINTS) lists no URL.");
        }

        var file = clusterFile ?? new FileInfo("cluster.json");
        if (!file.Exists)
        {
            throw new UsageException(clusterFile is null
                ? "No endpoints: give --endpoints http://host:port,..., set $RAFTKV_ENDPOINTS, or --cluster cluster.json (none in this directory)."
                : $"The cluster file '{file.FullName}' does not exist.");
        }

        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(file.FullName));
            var members = document.RootElement.GetProperty("members").EnumerateArray().Select(m => ParseUrl(m.GetProperty("url").GetString() ?? "")).ToList();
            return members.Count > 0 ? members : throw new UsageException($"The cluster file '{file.FullName}' has no members.");
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or IOException)
        {
            throw new UsageException($"The cluster file '{file.FullName}' is not usable: {e.Message}");
        }
    }

    public void Dispose() => Client.Dispose();

    private static Uri ParseUrl(string text)
        => Uri.TryCreate(text, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps)
            ? url
            : throw new UsageException($"'{text}' is not an http:// or https:// URL.");

    private static FileInfo? FileFrom(string? path) => string.IsNullOrEmpty(path) ? null : new FileInfo(path);

    private static SocketsHttpHandler Transport(FileInfo? caCert, FileInfo? cert, FileInfo? key)
    {
        var handler = new SocketsHttpHandler();
        try
        {
            if (caCert is not null)
            {
                var authority = X509Certificate2.CreateFromPemFile(caCert.FullName);
                handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                {
                    if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
                    {
                        return false;
                    }

                    using var chain = new X509Chain();
                    chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    chain.ChainPolicy.CustomTrustStore.Add(authority);
                    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    return chain.Build(new X509Certificate2(certificate));
                };
            }

            if (cert is not null)
            {
                var keyFile = key ?? throw new UsageException("--cert needs --key (or $RAFTKV_KEY).");
                handler.SslOptions.ClientCertificates = [X509Certificate2.CreateFromPemFile(cert.FullName, keyFile.FullName)];
            }
        }
        catch (Exception e) when (e is IOException or System.Security.Cryptography.CryptographicException)
        {
            throw new UsageException($"A certificate could not be read: {e.Message}");
        }

        return handler;
    }

    /// <summary>
    /// With authentication on: a token from <c>POST /v1/auth/token</c>, fetched once and sent as a bearer on every
    /// request (a password check per request would cost the server a PBKDF2 each). With authentication off, nothing.
    /// </summary>
    private sealed class TokenHandler(string name, string password, HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        private readonly SemaphoreSlim fetching = new(1);
        private readonly AuthenticationHeaderValue basic = new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{name}:{password}")));
        private string? token;
        private bool authDisabled;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var bearer = await TokenAsync(request.RequestUri!, cancellationToken);
            request.Headers.Authorization = bearer is null ? (authDisabled ? null : basic) : new AuthenticationHeaderValue("Bearer", bearer);
            var response = await base.SendAsync(request, cancellationToken);
            if (response.StatusCode == System.Net.HttpStatusCode.Unauthorized && bearer is not null)
            {
                // Expired: the next request fetches a new one (a watch that reconnects, a keep-alive loop).
                Interlocked.CompareExchange(ref token, null, bearer);
            }

            return response;
        }

        protected override void Dispose(bool disposing)
        {
            fetching.Dispose();
            base.Dispose(disposing);
        }

        private async Task<string?> TokenAsync(Uri target, CancellationToken cancellation)
        {
            var current = Volatile.Read(ref token);
            if (current is not null || authDisabled)
            {
                return current;
            }

            await fetching.WaitAsync(cancellation);
            try
            {
                if (token is not null || authDisabled)
                {
                    return token;
                }

                using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(target, "/v1/auth/token"));
                request.Headers.Authorization = basic;
                using var response = await base.SendAsync(request, cancellation);
                if (response.StatusCode == System.Net.HttpStatusCode.Conflict)
                {
                    authDisabled = true;
                    return null;
                }

                if (!response.IsSuccessStatusCode)
                {
                    // Bad credentials, say: the request goes with them, and its 401 says why.
                    return null;
                }

                using var body = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellation), default, cancellation);
                return token = body.RootElement.GetProperty("token").GetString();
            }
            finally
            {
                fetching.Release();
            }
        }
    }
}
