using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using static FlowScope.Embedded.IntegrationTests.Database.BlogHost;

namespace FlowScope.Embedded.IntegrationTests.Database;

/// <summary>EF Core on SQLite in a Startup-class MVC app: what the API shows of its database commands.</summary>
public sealed class DatabaseCaptureTests
{
    [Fact]
    public async Task A_request_doing_one_plus_n_queries_is_marked_with_the_count()
    {
        await using var blog = await BlogHost.StartAsync();
        using (var response = await blog.Client.GetAsync("/blog/articles"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var (summary, detail) = await blog.WaitForTraceAsync("url.path", "/blog/articles", d => DatabaseSpans(d).Count() == 1 + ArticleCount, query: "&nPlusOne=true");
        Assert.Equal(ArticleCount, summary.GetProperty("nPlusOne").GetInt32());
        Assert.Equal(1 + ArticleCount, summary.GetProperty("databaseCount").GetInt32());
        Assert.Equal(0, summary.GetProperty("duplicateQueries").GetInt32());

        var commands = DatabaseSpans(detail).ToList();
        var ids = Spans(detail).Select(s => s.GetProperty("spanId").GetString()).ToHashSet();
        foreach (var command in commands)
        {
            Assert.Equal("client", command.GetProperty("kind").GetString());
            Assert.Equal("sqlite", Attribute(command, "db.system.name"));
            Assert.StartsWith("flowscope-blog-", Attribute(command, "db.namespace"));
            Assert.Equal("SELECT", Attribute(command, "db.operation.name"));
            Assert.Contains("FROM \"", Attribute(command, "db.query.text"));

            // Inside the request's trace, under one of its spans (the MVC stage that ran them).
            Assert.Contains(command.GetProperty("parentSpanId").GetString(), ids);
        }

        var perArticle = commands.Where(c => Attribute(c, "db.collection.name") == "Comments").ToList();
        Assert.Equal(ArticleCount, perArticle.Count);
        Assert.All(perArticle, c => Assert.Equal("SELECT Comments", c.GetProperty("name").GetString()));
        Assert.Single(commands, c => c.GetProperty("name").GetString() == "SELECT Articles");

        // The span (here a request stage) that issued them carries the repeated statement, normalised.
        var issuer = Spans(detail).Single(s => s.GetProperty("spanId").GetString() == perArticle[0].GetProperty("parentSpanId").GetString());
        Assert.Equal(ArticleCount.ToString(System.Globalization.CultureInfo.InvariantCulture), Attribute(issuer, "flowscope.db.repeated_count"));
        var statement = Attribute(issuer, "flowscope.db.repeated_statement")!;
        Assert.Contains("FROM \"Comments\"", statement);
        Assert.Contains("= ?", statement);
        Assert.DoesNotContain("@", statement);
        Assert.True(double.Parse(Attribute(issuer, "flowscope.db.repeated_ms")!, System.Globalization.CultureInfo.InvariantCulture) > 0);
    }

    [Fact]
    public async Task A_request_doing_three_different_queries_is_not_marked()
    {
        await using var blog = await BlogHost.StartAsync();
        using (var response = await blog.Client.GetAsync("/blog/articles/summary"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var (summary, detail) = await blog.WaitForTraceAsync("url.path", "/blog/articles/summary", d => DatabaseSpans(d).Count() == 3);
        Assert.Equal(3, summary.GetProperty("databaseCount").GetInt32());
        Assert.Equal(0, summary.GetProperty("nPlusOne").GetInt32());
        Assert.DoesNotContain(Spans(detail), s => Attribute(s, "flowscope.db.repeated_statement") is not null);

        var marked = await blog.GetJsonAsync("/_flowscope/api/traces?nPlusOne=true");
        Assert.DoesNotContain(marked.GetProperty("traces").EnumerateArray(), t => t.GetProperty("traceId").GetString() == summary.GetProperty("traceId").GetString());
    }

    [Fact]
    public async Task The_same_query_with_the_same_values_counts_as_duplicates()
    {
        await using var blog = await BlogHost.StartAsync();
        using (var response = await blog.Client.GetAsync("/BlogHome/Repeat/5"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var (summary, _) = await blog.WaitForTraceAsync("url.path", "/BlogHome/Repeat/5", d => DatabaseSpans(d).Count() == 5);
        Assert.Equal(4, summary.GetProperty("duplicateQueries").GetInt32());
        Assert.Equal(5, summary.GetProperty("nPlusOne").GetInt32());
    }

    [Fact]
    public async Task A_failing_command_shows_the_providers_message()
    {
        await using var blog = await BlogHost.StartAsync();
        using (var response = await blog.Client.GetAsync("/blog/articles/broken"))
        {
            Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        }

        var (_, detail) = await blog.WaitForTraceAsync("url.path", "/blog/articles/broken", d => DatabaseSpans(d).Any());
        var failed = Assert.Single(DatabaseSpans(detail));
        Assert.Equal("error", failed.GetProperty("status").GetString());
        Assert.Contains("no such table: MissingTable", failed.GetProperty("statusMessage").GetString());
        Assert.Equal("SELECT MissingTable", failed.GetProperty("name").GetString());
        Assert.Contains(failed.GetProperty("events").EnumerateArray(), e => e.GetProperty("name").GetString() == "exception");
    }

    [Fact]
    public async Task Dapper_on_a_wrapped_sqlite_connection_is_captured()
    {
        await using var blog = await BlogHost.StartAsync();
        using (var response = await blog.Client.GetAsync("/blog/articles/dapper"))
        {
            Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        }

        var (summary, detail) = await blog.WaitForTraceAsync("url.path", "/blog/articles/dapper", d => DatabaseSpans(d).Count() == 2);
        Assert.Equal(2, summary.GetProperty("databaseCount").GetInt32());
        var commands = DatabaseSpans(detail).OrderBy(s => s.GetProperty("startTime").GetDateTimeOffset()).ToList();
        Assert.Equal("SELECT Title FROM Articles WHERE Id <= @max ORDER BY Id", Attribute(commands[0], "db.query.text"));
        Assert.Equal("SELECT Articles", commands[0].GetProperty("name").GetString());
        Assert.Equal("SELECT Comments", commands[1].GetProperty("name").GetString());
        Assert.All(commands, c => Assert.Equal("sqlite", Attribute(c, "db.system.name")));
    }

    [Fact]
    public async Task Commands_of_a_hosted_worker_are_captured_and_marked_on_its_root()
    {
        await using var blog = await BlogHost.StartAsync();
        blog.Services.GetRequiredService<DigestWorker>().Request("ada");

        var (summary, detail) = await blog.WaitForTraceAsync("name", "build digest", d => DatabaseSpans(d).Count() == 1 + ArticleCount);
        Assert.Equal(ArticleCount, summary.GetProperty("nPlusOne").GetInt32());
        Assert.Equal(1 + ArticleCount, summary.GetProperty("databaseCount").GetInt32());
        var root = Spans(detail).Single(s => s.GetProperty("name").GetString() == "build digest");
        Assert.All(DatabaseSpans(detail), c => Assert.Equal(root.GetProperty("spanId").GetString(), c.GetProperty("parentSpanId").GetString()));
        Assert.Equal(ArticleCount.ToString(System.Globalization.CultureInfo.InvariantCulture), Attribute(root, "flowscope.db.repeated_count"));
    }

    [Fact]
    public async Task With_OpenTelemetrys_EF_Core_instrumentation_each_command_appears_once()
    {
        await using var blog = await BlogHost.StartAsync(new() { ["Blog:OpenTelemetry"] = "true" });
        using (var response = await blog.Client.GetAsync("/blog/articles"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var (summary, detail) = await blog.WaitForTraceAsync("url.path", "/blog/articles", d => DatabaseSpans(d).Count() >= 1 + ArticleCount);
        Assert.Equal(1 + ArticleCount, DatabaseSpans(detail).Count());
        Assert.Equal(1 + ArticleCount, summary.GetProperty("databaseCount").GetInt32());
        var ids = Spans(detail).Select(s => s.GetProperty("spanId").GetString()).ToHashSet();
        Assert.All(DatabaseSpans(detail), c => Assert.Contains(c.GetProperty("parentSpanId").GetString(), ids));

        // OpenTelemetry's instrumentation ran too, and exported its own spans.
        var exported = blog.Services.GetRequiredService<List<Activity>>();
        await Eventually.TrueAsync(() => Task.FromResult(exported.Count(a => a.Source.Name.Contains("EntityFrameworkCore", StringComparison.Ordinal)) >= 1 + ArticleCount));
    }

    [Fact]
    public async Task Parameter_values_appear_in_no_api_response_or_stream()
    {
        const string Secret = "Needle-5f1c-private-title";
        await using var blog = await BlogHost.StartAsync();
        await using var stream = await SseClient.ConnectAsync(blog.Client, "/_flowscope/api/stream");
        using (var response = await blog.Client.PostAsJsonAsync("/blog/articles/find", new FindRequest(Secret)))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var (summary, detail) = await blog.WaitForTraceAsync("url.path", "/blog/articles/find", d => DatabaseSpans(d).Count() >= 2);
        var traceId = summary.GetProperty("traceId").GetString()!;
        var streamed = await stream.ReadUntilAsync(e => e.Data.Contains(traceId, StringComparison.Ordinal));

        // The statements are there, with their placeholders; the value is nowhere.
        Assert.Contains(DatabaseSpans(detail), c => Attribute(c, "db.query.text")!.Contains("WHERE \"a\".\"Title\" = @", StringComparison.Ordinal));
        Assert.Contains(DatabaseSpans(detail), c => Attribute(c, "db.operation.name") == "INSERT");
        Assert.DoesNotContain(Secret, streamed.Data, StringComparison.Ordinal);

        // Everything the dashboard reads, the OTLP export included (built from the trace detail).
        foreach (var url in new[] { "/_flowscope/api/traces?limit=200", "/_flowscope/api/traces/" + traceId, "/_flowscope/api/map", "/_flowscope/api/metrics", "/_flowscope/api/stats", "/_flowscope/api/traces?q=Needle" })
        {
            using var response = await blog.Client.GetAsync(url);
            Assert.DoesNotContain(Secret, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Parameter_values_are_recorded_only_when_asked_and_then_redacted()
    {
        const string Title = "Visible-title-42";
        await using var blog = await BlogHost.StartAsync(new() { ["FlowScope:CaptureDatabaseParameters"] = "true" });
        using (var response = await blog.Client.PostAsJsonAsync("/blog/articles/find", new FindRequest(Title)))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var (_, detail) = await blog.WaitForTraceAsync("url.path", "/blog/articles/find", d => DatabaseSpans(d).Count() >= 2);
        Assert.Contains(DatabaseSpans(detail), c => c.GetProperty("attributes").EnumerateObject().Any(a => a.Name.StartsWith("db.query.parameter.", StringComparison.Ordinal) && a.Value.GetString() == Title));

        // Redacted like every attribute: a parameter named as a secret keeps no value.
        const string Password = "hunter2-5d0e";
        using (var response = await blog.Client.PostAsJsonAsync("/blog/articles/check", new FindRequest(Password)))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var (_, check) = await blog.WaitForTraceAsync("url.path", "/blog/articles/check", d => DatabaseSpans(d).Any());
        Assert.Equal("[REDACTED]", Attribute(Assert.Single(DatabaseSpans(check)), "db.query.parameter.password"));
        Assert.DoesNotContain(Password, check.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_provider_reporting_its_own_spans_under_EF_Core_is_counted_once()
    {
        await using var blog = await BlogHost.StartAsync(new() { ["Blog:NpgsqlLikeSpans"] = "true" });
        var before = Volatile.Read(ref NpgsqlLikeSpans.Made);
        using (var response = await blog.Client.GetAsync("/blog/articles/summary"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var (summary, detail) = await blog.WaitForTraceAsync("url.path", "/blog/articles/summary", d => DatabaseSpans(d).Count() >= 3);
        Assert.True(Volatile.Read(ref NpgsqlLikeSpans.Made) - before >= 3, "the provider's own spans were made");
        Assert.Equal(3, DatabaseSpans(detail).Count());
        Assert.All(DatabaseSpans(detail), c => Assert.Equal("FlowScope.Database", c.GetProperty("source").GetString()));
        Assert.Equal(3, summary.GetProperty("databaseCount").GetInt32());
    }

    [Fact]
    public async Task The_threshold_is_an_option()
    {
        await using var blog = await BlogHost.StartAsync(new() { ["FlowScope:NPlusOneThreshold"] = (ArticleCount + 1).ToString(System.Globalization.CultureInfo.InvariantCulture) });
        using (var response = await blog.Client.GetAsync("/blog/articles"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var (summary, detail) = await blog.WaitForTraceAsync("url.path", "/blog/articles", d => DatabaseSpans(d).Count() == 1 + ArticleCount);
        Assert.Equal(0, summary.GetProperty("nPlusOne").GetInt32());
        Assert.Equal(1 + ArticleCount, summary.GetProperty("databaseCount").GetInt32());
        Assert.DoesNotContain(Spans(detail), s => Attribute(s, "flowscope.db.repeated_statement") is not null);
    }
}
