using System.Net;
using System.Text.Json;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using Xunit.Abstractions;

namespace RaftKv.WebConsole.Tests;

/// <summary>The web console at /ui, in a real headless browser, against a real five-node cluster.</summary>
public sealed class WebConsoleTests(ITestOutputHelper output)
{
    /// <summary>Where the screenshot goes: the test's output folder, or $RAFTKV_ARTIFACTS.</summary>
    private static string Artifacts => Environment.GetEnvironmentVariable("RAFTKV_ARTIFACTS") is { Length: > 0 } folder
        ? folder
        : Path.Combine(AppContext.BaseDirectory, "artifacts");

    [Fact]
    public async Task On_a_follower_the_console_shows_the_cluster_puts_and_deletes_keys_lists_them_by_page_and_tails_a_watch()
    {
        await using var cluster = await TestCluster.StartAsync(5);
        var leader = await cluster.WaitForLeaderAsync();
        await cluster.WaitUntilReadyAsync();
        var follower = cluster.Ids.First(id => id != leader);
        using var browser = new Browser();
        var page = browser.Driver;
        page.Navigate().GoToUrl(new Uri(cluster.Url(follower), "/ui"));

        // The cluster view: five members, exactly one leader, and the page knows which node it is on.
        browser.WaitFor("five members with one leader", _ =>
        {
            var rows = page.FindElements(By.CssSelector("#members tbody tr"));
            return rows.Count == 5 && rows.Count(r => r.GetDomAttribute("data-role") == "leader") == 1
                && rows.Single(r => r.GetDomAttribute("data-role") == "leader").GetDomAttribute("data-member") == leader;
        });
        Assert.Equal([.. cluster.Ids.Order()], page.FindElements(By.CssSelector("#members tbody tr")).Select(r => r.GetDomAttribute("data-member")!).Order());
        Assert.Contains($"node {follower} (follower)", page.FindElement(By.Id("node-name")).Text, StringComparison.Ordinal);
        Assert.False(page.FindElement(By.Id("sign-in")).Displayed, "sign-in shown with authentication off");

        // A watch tail of a prefix, started before the writes.
        Type(page, "watch-prefix", "ui/");
        page.FindElement(By.Id("watch-toggle")).Click();
        browser.WaitFor("the watch to start", _ => page.FindElement(By.Id("watch-state")).Text.StartsWith("watching", StringComparison.Ordinal));

        // A put through the page: answered with its revision, shown, and there through the HTTP API of another node.
        var revision = Put(browser, "ui/greeting", "hello from the browser");
        browser.WaitFor("the key's value", _ => page.FindElement(By.Id("detail-value")).Text == "hello from the browser");
        using (var read = await cluster.Client(leader).GetAsync("/v1/kv/ui/greeting"))
        {
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
            Assert.Equal("hello from the browser", await read.Content.ReadAsStringAsync());
            Assert.Equal($"\"{revision}\"", read.Headers.ETag?.Tag);
        }

        // The watch saw the page's put, and a put made elsewhere.
        browser.WaitFor("the page's put in the watch tail", _ => WatchEvent(page, "ui/greeting", revision) is not null);
        using (var elsewhere = await cluster.Client(leader).PutAsync("/v1/kv/ui/other", new StringContent("from the API")))
        {
            Assert.Equal(HttpStatusCode.OK, elsewhere.StatusCode);
        }

        browser.WaitFor("the API's put in the watch tail", _ => page.FindElements(By.CssSelector("#watch-events li[data-key='ui/other']")).Count == 1);
        Assert.Contains("PUT ui/other = from the API", page.FindElement(By.CssSelector("#watch-events li[data-key='ui/other']")).Text, StringComparison.Ordinal);

        // Revisions: a second put of the same key shows both versions, newest first.
        var second = Put(browser, "ui/greeting", "hello again");
        browser.WaitFor("two revisions of the key", _ => page.FindElements(By.CssSelector("#revisions tbody tr")).Count == 2);
        var revisions = page.FindElements(By.CssSelector("#revisions tbody tr")).Select(r => r.Text).ToList();
        Assert.StartsWith($"{second} put 2 hello again", revisions[0], StringComparison.Ordinal);
        Assert.StartsWith($"{revision} put 1 hello from the browser", revisions[1], StringComparison.Ordinal);

        // Paging: two keys under the prefix, one per page.
        Type(page, "prefix", "ui/");
        Type(page, "page-size", "1");
        page.FindElement(By.CssSelector("#list-form button")).Click();
        browser.WaitFor("the first page", _ => ListedKeys(page).SequenceEqual(["ui/greeting"]));
        Assert.Contains("2 key(s)", page.FindElement(By.Id("list-summary")).Text, StringComparison.Ordinal);
        page.FindElement(By.Id("next-page")).Click();
        browser.WaitFor("the second page", _ => ListedKeys(page).SequenceEqual(["ui/other"]));
        Assert.False(page.FindElement(By.Id("next-page")).Enabled, "a next page after the last");

        // A key from the list opens it; delete removes it, through the API too, and the watch shows the delete.
        page.FindElement(By.CssSelector("#key-list tbody tr[data-key='ui/other']")).Click();
        browser.WaitFor("the listed key opened", _ => page.FindElement(By.Id("detail-key")).Text == "ui/other");
        page.FindElement(By.Id("delete-key")).Click();
        browser.WaitFor("the delete", _ => page.FindElement(By.Id("put-result")).Text.StartsWith("deleted \"ui/other\"", StringComparison.Ordinal));
        using (var gone = await cluster.Client(follower).GetAsync("/v1/kv/ui/other"))
        {
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }

        browser.WaitFor("the delete in the watch tail", _ => page.FindElements(By.CssSelector("#watch-events li.delete[data-key='ui/other']")).Count == 1);

        // Throughput from the node's own counters, under a few seconds of writes through this node.
        using (var load = new CancellationTokenSource())
        {
            var writer = Task.Run(async () =>
            {
                for (var i = 0; !load.IsCancellationRequested; i++)
                {
                    using var put = await cluster.Client(follower).PutAsync($"/v1/kv/load/{i % 50}", new StringContent($"v{i}"), CancellationToken.None);
                }
            });
            browser.WaitFor("eight rate samples, some above zero", _ =>
                page.ExecuteScript("return state.samples.writes.length >= 8 && state.samples.writes.some(rate => rate > 0)") is true);
            await load.CancelAsync();
            await writer;
        }

        var points = page.FindElement(By.CssSelector("#writes-spark polyline")).GetDomAttribute("points") ?? "";
        Assert.True(points.Split(' ').Length >= 8, $"sparkline points: {points}");
        Assert.False(page.FindElement(By.Id("error")).Displayed, page.FindElement(By.Id("error")).Text);

        Directory.CreateDirectory(Artifacts);
        var screenshot = Path.Combine(Artifacts, "web-console.png");
        page.GetScreenshot().SaveAsFile(screenshot);
        output.WriteLine($"screenshot: {screenshot}");
        Assert.True(new FileInfo(screenshot).Length > 10_000, "an empty screenshot");
    }

    [Fact]
    public async Task The_cluster_view_shows_a_stopped_member_as_down_and_the_status_api_says_why()
    {
        await using var cluster = await TestCluster.StartAsync(3);
        var leader = await cluster.WaitForLeaderAsync();
        var stopped = cluster.Ids.First(id => id != leader);
        var viewer = cluster.Ids.First(id => id != leader && id != stopped);
        cluster.Kill(stopped);

        using var clusterStatus = await cluster.Client(viewer).GetAsync("/v1/cluster/status");
        Assert.Equal(HttpStatusCode.OK, clusterStatus.StatusCode);
        using var body = JsonDocument.Parse(await clusterStatus.Content.ReadAsStringAsync());
        var members = body.RootElement.GetProperty("members").EnumerateArray().ToDictionary(m => m.GetProperty("id").GetString()!);
        Assert.Equal(JsonValueKind.Null, members[stopped].GetProperty("status").ValueKind);
        Assert.False(string.IsNullOrEmpty(members[stopped].GetProperty("error").GetString()));
        Assert.Equal("leader", members[leader].GetProperty("status").GetProperty("role").GetString());

        using var browser = new Browser();
        var page = browser.Driver;
        page.Navigate().GoToUrl(new Uri(cluster.Url(viewer), "/ui/"));
        browser.WaitFor("the stopped member shown down", _ =>
            page.FindElements(By.CssSelector($"#members tbody tr[data-member='{stopped}']")) is [var row]
            && row.GetDomAttribute("data-role") == "unreachable" && row.Text.Contains("down:", StringComparison.Ordinal));
    }

    private static void Type(ChromeDriver page, string id, string text)
    {
        var input = page.FindElement(By.Id(id));
        input.Clear();
        input.SendKeys(text);
    }

    /// <summary>Puts through the page's form; returns the revision the page shows.</summary>
    private static long Put(Browser browser, string key, string value)
    {
        var page = browser.Driver;
        var before = page.FindElement(By.Id("put-result")).GetDomAttribute("data-revision");
        Type(page, "put-key", key);
        Type(page, "put-value", value);
        page.FindElement(By.CssSelector("#put-form button")).Click();
        browser.WaitFor($"the put of {key}", _ => page.FindElement(By.Id("put-result")).GetDomAttribute("data-revision") is { } shown && shown != before);
        Assert.StartsWith($"put \"{key}\" at revision", page.FindElement(By.Id("put-result")).Text, StringComparison.Ordinal);
        return long.Parse(page.FindElement(By.Id("put-result")).GetDomAttribute("data-revision")!, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static IWebElement? WatchEvent(ChromeDriver page, string key, long revision)
        => page.FindElements(By.CssSelector($"#watch-events li[data-key='{key}'][data-revision='{revision}']")).FirstOrDefault();

    private static List<string> ListedKeys(ChromeDriver page)
        => [.. page.FindElements(By.CssSelector("#key-list tbody tr")).Select(r => r.GetDomAttribute("data-key")!)];
}
