using System.Diagnostics;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;

namespace RaftKv.WebConsole.Tests;

/// <summary>
/// Debian's headless Chromium, driven by its own ChromeDriver (packages chromium and
/// chromium-driver): nothing is downloaded at test time. Each instance has a fresh profile.
/// </summary>
public sealed class Browser : IDisposable
{
    public const string ChromiumPath = "/usr/bin/chromium";
    public const string DriverPath = "/usr/bin/chromedriver";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly string profile = Directory.CreateTempSubdirectory(TestCluster.Marker + "chromium-").FullName;

    public Browser()
    {
        if (!File.Exists(ChromiumPath) || !File.Exists(DriverPath))
        {
            throw new InvalidOperationException($"The browser tests need {ChromiumPath} and {DriverPath}: apt-get install chromium chromium-driver (.ci/run does).");
        }

        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(DriverPath)!, Path.GetFileName(DriverPath));
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        var options = new ChromeOptions { BinaryLocation = ChromiumPath };

        // As root on a closed network: no sandbox, and none of Chromium's background connections.
        options.AddArguments(
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1400,1100",
            "--user-data-dir=" + profile);
        Driver = new ChromeDriver(service, options, Timeout);
        Driver.Manage().Timeouts().PageLoad = Timeout;
        Driver.Manage().Timeouts().AsynchronousJavaScript = Timeout;
    }

    public ChromeDriver Driver { get; }

    /// <summary>Polls the page until <paramref name="condition"/> holds; at the deadline, fails with what the page shows.</summary>
    public void WaitFor(string what, Func<IWebDriver, bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                if (condition(Driver))
                {
                    return;
                }
            }
            catch (Exception e) when (e is StaleElementReferenceException or NoSuchElementException)
            {
                // The page redrew between finding an element and reading it: ask again.
            }

            if (clock.Elapsed > Timeout)
            {
                throw new TimeoutException($"Timed out after {Timeout.TotalSeconds:0} s waiting for {what}. The page says:\n{Driver.FindElement(By.TagName("body")).Text}");
            }

            Thread.Sleep(100);
        }
    }

    public void Dispose()
    {
        Driver.Quit();
        Driver.Dispose();
        try
        {
            Directory.Delete(profile, recursive: true);
        }
        catch (IOException)
        {
            // Chromium may still be closing a file; the folder is under the test marker, which the test script sweeps.
        }
    }
}
