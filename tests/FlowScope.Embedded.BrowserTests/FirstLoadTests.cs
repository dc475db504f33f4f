using System.Text.Json;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace FlowScope.Embedded.BrowserTests;

/// <summary>The dashboard's files come compressed at build time, its API answers compressed; the first load stays small.</summary>
[Collection(BrowserSuite.Name)]
public sealed class FirstLoadTests(BrowserFixture fixture)
{
    /// <summary>The first load's budget: everything transferred until the dashboard shows the app's traces.</summary>
    public const int BudgetBytes = 80 * 1024;

    private sealed record Transfer(string Path, string? Encoding, long Bytes);

    /// <summary>Every request of a page, from the DevTools protocol: URL, content encoding and bytes received.</summary>
    private sealed class NetworkLog
    {
        private readonly Dictionary<string, (string Url, string? Encoding, long Headers, long Streamed, long? Finished)> _requests = [];

        public async Task AttachAsync(IPage page)
        {
            var cdp = await page.Context.NewCDPSessionAsync(page);
            cdp.Event("Network.requestWillBeSent").OnEvent += (_, e) => Update(e, (r, x) => r with { Url = x.GetProperty("request").GetProperty("url").GetString()! });
            cdp.Event("Network.responseReceived").OnEvent += (_, e) => Update(e, (r, x) =>
            {
                var headers = x.GetProperty("response").GetProperty("headers");
                var encoding = headers.EnumerateObject().FirstOrDefault(h => h.Name.Equals("content-encoding", StringComparison.OrdinalIgnoreCase)).Value;
                return r with { Encoding = encoding.ValueKind == JsonValueKind.String ? encoding.GetString() : null };
            });
            cdp.Event("Network.dataReceived").OnEvent += (_, e) => Update(e, (r, x) => r with { Streamed = r.Streamed + x.GetProperty("encodedDataLength").GetInt64() });
            cdp.Event("Network.loadingFinished").OnEvent += (_, e) => Update(e, (r, x) => r with { Finished = (long)x.GetProperty("encodedDataLength").GetDouble() });
            await cdp.SendAsync("Network.enable");
        }

        private void Update(JsonElement? e, Func<(string Url, string? Encoding, long Headers, long Streamed, long? Finished), JsonElement, (string, string?, long, long, long?)> change)
        {
            if (e is not { } x)
            {
                return;
            }

            var id = x.GetProperty("requestId").GetString()!;
            lock (_requests)
            {
                _requests[id] = change(_requests.GetValueOrDefault(id, (string.Empty, null, 0, 0, null)), x);
            }
        }

        /// <summary>The ids of the requests made so far.</summary>
        public HashSet<string> Started()
        {
            lock (_requests)
            {
                return [.. _requests.Keys];
            }
        }

        public List<Transfer> Transfers(HashSet<string>? only = null)
        {
            lock (_requests)
            {
                return _requests.Where(r => r.Value.Url.Length > 0 && (only is null || only.Contains(r.Key)))
                    .Select(r => new Transfer(new Uri(r.Value.Url).AbsolutePath, r.Value.Encoding, r.Value.Finished ?? r.Value.Streamed))
                    .ToList();
            }
        }

        /// <summary>Whether every request of <paramref name="ids"/> has finished, but the live stream, which has data.</summary>
        public bool Done(HashSet<string> ids)
        {
            lock (_requests)
            {
                return ids.All(id => _requests.TryGetValue(id, out var r)
                    && (r.Url.EndsWith("/api/stream", StringComparison.Ordinal) ? r.Streamed > 0 : r.Finished is not null));
            }
        }
    }

    [Fact]
    public async Task The_first_load_transfers_at_most_80_KB_with_every_file_and_answer_compressed()
    {
        await using var app = await ApiTestApp.StartAsync();
        await Parallel.ForAsync(0, 600, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) => Assert.Equal(200, await app.GetAsync($"orders/{i + 1_000}")));

        // What Chromium's network stack counts as transferred (headers and encoded bodies), the live stream included:
        // read from the DevTools protocol, as the browser's own network panel reads it.
        var network = new NetworkLog();
        await using var d = await DashboardPage.OpenAsync(fixture, app.Dashboard, 1600, 1000, network.AttachAsync);

        // Loaded: the traces listed, the header's figures in, the live stream connected and its first batch in.
        var page = d.Page;
        await d.WaitLiveAsync();
        await Expect(page.Locator("#count")).ToHaveTextAsync("200 traces");
        await Expect(page.Locator("#m-uptime")).Not.ToHaveTextAsync("–");
        await Expect(page.Locator("#stat-kept")).Not.ToHaveTextAsync("–");
        await page.WaitForFunctionAsync("() => performance.getEntriesByType('resource').every(r => r.responseEnd > 0 || r.name.includes('api/stream'))");
        // The first load: the requests made until the dashboard showed all this (later polls and the background
        // history are not part of it), each counted whole once it ends (the live stream: what it sent so far).
        var firstLoad = network.Started();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!network.Done(firstLoad))
        {
            Assert.True(DateTime.UtcNow < deadline, "the first load's requests did not finish");
            await Task.Delay(50);
        }

        var loaded = network.Transfers(firstLoad);
        Assert.Contains(loaded, t => t.Path.EndsWith("/api/stream", StringComparison.Ordinal));

        var total = loaded.Sum(t => t.Bytes);
        var report = string.Join("\n", loaded.OrderByDescending(t => t.Bytes).Select(t => $"{t.Bytes,8} {t.Encoding ?? "-",-5} {t.Path}"));
        Assert.True(total <= BudgetBytes, $"the first load transferred {total / 1024.0:0.0} KB (budget {BudgetBytes / 1024} KB):\n{report}");

        // Every script and style came compressed (Brotli: Chromium accepts it), and so did the larger API answers.
        Assert.All(loaded.Where(t => t.Path.EndsWith(".js", StringComparison.Ordinal) || t.Path.EndsWith(".css", StringComparison.Ordinal) || t.Path.EndsWith('/')),
            t => Assert.Equal("br", t.Encoding));
        Assert.Contains(loaded, t => t.Path.EndsWith("/api/traces", StringComparison.Ordinal) && t.Encoding == "br");
        Console.WriteLine($"First load: {total / 1024.0:0.0} KB in {loaded.Count} requests\n{report}");

        // Then the rest of the history, in the background: the list holds as many traces as the store.
        await Expect(page.Locator("#count")).ToHaveTextAsync("600 traces", new() { Timeout = 30_000 });
    }

    [Fact]
    public async Task A_client_that_accepts_only_gzip_or_nothing_gets_that_with_the_right_Vary_and_ETags()
    {
        await using var app = await ApiTestApp.StartAsync();
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(200, await app.GetAsync($"orders/{i}"));
        }

        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (JsonDocument.Parse(await app.Client.GetStringAsync("_flowscope/api/traces?limit=20")).RootElement.GetProperty("traces").GetArrayLength() < 20)
        {
            Assert.True(DateTime.UtcNow < deadline, "the 20 traces were not stored");
            await Task.Delay(50);
        }

        using var handler = new HttpClientHandler { AutomaticDecompression = System.Net.DecompressionMethods.None };
        using var client = new HttpClient(handler) { BaseAddress = app.Dashboard };

        async Task<HttpResponseMessage> Get(string path, string? acceptEncoding, string? ifNoneMatch = null)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            if (acceptEncoding is not null)
            {
                request.Headers.TryAddWithoutValidation("Accept-Encoding", acceptEncoding);
            }

            if (ifNoneMatch is not null)
            {
                request.Headers.TryAddWithoutValidation("If-None-Match", ifNoneMatch);
            }

            return await client.SendAsync(request);
        }

        using var plain = await Get("app.js", null);
        using var gzip = await Get("app.js", "gzip");
        using var brotli = await Get("app.js", "gzip, br");
        Assert.Empty(plain.Content.Headers.ContentEncoding);
        Assert.Equal(["gzip"], gzip.Content.Headers.ContentEncoding);
        Assert.Equal(["br"], brotli.Content.Headers.ContentEncoding);
        Assert.All(new[] { plain, gzip, brotli }, r => Assert.Contains("Accept-Encoding", r.Headers.Vary));
        Assert.True(brotli.Content.Headers.ContentLength < plain.Content.Headers.ContentLength / 3);

        // Each form has its own ETag: a cached gzip copy is not confirmed for a Brotli request.
        var gzipTag = gzip.Headers.ETag!.Tag;
        Assert.NotEqual(gzipTag, brotli.Headers.ETag!.Tag);
        using var again = await Get("app.js", "gzip", gzipTag);
        Assert.Equal(System.Net.HttpStatusCode.NotModified, again.StatusCode);
        using var other = await Get("app.js", "br", gzipTag);
        Assert.Equal(System.Net.HttpStatusCode.OK, other.StatusCode);

        // The decompressed Brotli file is the file.
        await using (var decoded = new System.IO.Compression.BrotliStream(await brotli.Content.ReadAsStreamAsync(), System.IO.Compression.CompressionMode.Decompress))
        using (var reader = new StreamReader(decoded))
        {
            Assert.Equal(await plain.Content.ReadAsStringAsync(), await reader.ReadToEndAsync());
        }

        // API answers: compressed when accepted and large enough, as they are otherwise.
        using var list = await Get("api/traces?limit=20", "gzip");
        Assert.Equal(["gzip"], list.Content.Headers.ContentEncoding);
        await using var gunzip = new System.IO.Compression.GZipStream(await list.Content.ReadAsStreamAsync(), System.IO.Compression.CompressionMode.Decompress);
        using var json = await JsonDocument.ParseAsync(gunzip);
        Assert.Equal(20, json.RootElement.GetProperty("traces").GetArrayLength());
        using var raw = await Get("api/traces?limit=20", null);
        Assert.Empty(raw.Content.Headers.ContentEncoding);
    }
}
