using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FlowScope.Embedded.IntegrationTests.Database;

/// <summary>Hosts <see cref="BlogStartup"/> on a test server over a SQLite file of its own.</summary>
internal sealed class BlogHost : IAsyncDisposable
{
    public const int ArticleCount = 6;

    private readonly IHost _host;
    private readonly string _file;

    private BlogHost(IHost host, string file)
    {
        _host = host;
        _file = file;
        Client = host.GetTestClient();
    }

    public HttpClient Client { get; }

    public IServiceProvider Services => _host.Services;

    public static async Task<BlogHost> StartAsync(Dictionary<string, string?>? settings = null)
    {
        var file = Path.Combine(Path.GetTempPath(), $"flowscope-blog-{Guid.NewGuid():N}.db");
        var all = new Dictionary<string, string?> { ["Blog:ConnectionString"] = $"Data Source={file}" };
        foreach (var (key, value) in settings ?? [])
        {
            all[key] = value;
        }

        // The schema and data exist before the app starts (as with a deployed database), outside any capture.
        using (var seed = new BlogContext(new Microsoft.EntityFrameworkCore.DbContextOptionsBuilder<BlogContext>().UseSqliteFile(file).Options))
        {
            BlogContext.Seed(seed);
        }

        var host = await new HostBuilder()
            .ConfigureAppConfiguration(c => c.AddInMemoryCollection(all))
            .ConfigureLogging(l => l.ClearProviders())
            .ConfigureWebHost(web => web.UseTestServer().UseStartup<BlogStartup>())
            .StartAsync();
        return new BlogHost(host, file);
    }

    public async Task<JsonElement> GetJsonAsync(string url)
    {
        using var response = await Client.GetAsync(url);
        Assert.True(response.IsSuccessStatusCode, $"GET {url} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>
    /// Waits until the API holds a trace with a span whose <paramref name="attribute"/> is <paramref name="value"/>
    /// (a request's <c>url.path</c>, a worker's name) and that satisfies <paramref name="predicate"/>; returns its
    /// summary and its detail (read together).
    /// </summary>
    public async Task<(JsonElement Summary, JsonElement Detail)> WaitForTraceAsync(string attribute, string value, Func<JsonElement, bool>? predicate = null, string query = "")
    {
        (JsonElement, JsonElement) found = default;
        await Eventually.TrueAsync(
            async () =>
            {
                var list = await GetJsonAsync("/_flowscope/api/traces?limit=200" + query);
                foreach (var trace in list.GetProperty("traces").EnumerateArray())
                {
                    var detail = await GetJsonAsync("/_flowscope/api/traces/" + trace.GetProperty("traceId").GetString());
                    if (Spans(detail).Any(s => Attribute(s, attribute) == value || (attribute == "name" && s.GetProperty("name").GetString() == value))
                        && (predicate is null || predicate(detail)))
                    {
                        found = (detail.GetProperty("summary"), detail);
                        return true;
                    }
                }

                return false;
            },
            because: $"a trace with {attribute} = {value}{query}");
        return found;
    }

    public static IEnumerable<JsonElement> Spans(JsonElement detail) => detail.GetProperty("spans").EnumerateArray();

    public static IEnumerable<JsonElement> DatabaseSpans(JsonElement detail) => Spans(detail).Where(s => s.GetProperty("component").GetString() == "database");

    public static string? Attribute(JsonElement span, string key) =>
        span.GetProperty("attributes").TryGetProperty(key, out var value) ? value.GetString() : null;

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _host.StopAsync();
        _host.Dispose();
        SqliteConnection.ClearAllPools();
        File.Delete(_file);
    }
}

internal static class SqliteOptions
{
    public static Microsoft.EntityFrameworkCore.DbContextOptionsBuilder<BlogContext> UseSqliteFile(this Microsoft.EntityFrameworkCore.DbContextOptionsBuilder<BlogContext> builder, string file) =>
        Microsoft.EntityFrameworkCore.SqliteDbContextOptionsBuilderExtensions.UseSqlite(builder, $"Data Source={file}");
}
