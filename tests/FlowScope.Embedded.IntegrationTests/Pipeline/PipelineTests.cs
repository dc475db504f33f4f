using System.Threading.RateLimiting;
using FlowScope.Embedded.Storage;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FlowScope.Embedded.IntegrationTests.Pipeline;

public sealed class PipelineTests
{
    /// <summary>The stages, outermost first, that a request through <see cref="ConfigurePipeline"/> passes.</summary>
    private static readonly string[] ExpectedChain =
    [
        "ExceptionHandlerMiddleware",
        "StampMiddleware",
        "LoggingStampMiddleware",
        "inline middleware #1 (PipelineTests)",
        "EndpointRoutingMiddleware",
        "RateLimitingMiddleware",
        "AuthenticationMiddleware",
        "AuthorizationMiddleware",
        "GET /items/{id}",
    ];

    private static void AddServices(IServiceCollection services)
    {
        services.AddFlowScope();
        services.AddRouting();
        services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme).AddCookie();
        services.AddAuthorization();
        services.AddRateLimiter(o => o.AddPolicy("open", _ => RateLimitPartition.GetNoLimiter("all")));
    }

    private static void ConfigurePipeline(IApplicationBuilder app, bool callUseFlowScopeLate)
    {
        app.UseExceptionHandler(new ExceptionHandlerOptions { ExceptionHandler = c => c.Response.WriteAsync("handled") });
        if (!callUseFlowScopeLate)
        {
            app.UseFlowScope();
        }

        app.UseMiddleware<StampMiddleware>();
        app.UseMiddleware<LoggingStampMiddleware>();
        app.Use(async (context, next) =>
        {
            context.Response.Headers["X-Inline"] = "1";
            await next(context);
        });
        if (callUseFlowScopeLate)
        {
            app.UseFlowScope();
        }

        app.UseRouting();
        app.UseRateLimiter();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseEndpoints(e => e.MapGet("/items/{id}", async (string id) =>
        {
            await Task.Yield();
            return $"item {id}";
        }).RequireRateLimiting("open"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task With_minimal_hosting_every_middleware_is_a_stage_nested_in_pipeline_order(bool useFlowScopeLate)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        AddServices(builder.Services);
        await using var app = builder.Build();
        ConfigurePipeline(app, useFlowScopeLate);
        await app.StartAsync();

        using var client = app.GetTestClient();
        Assert.Equal("item 7", await client.GetStringAsync("/items/7"));

        await AssertChainAsync(app.Services.GetRequiredService<ITraceStore>());
    }

    [Fact]
    public async Task With_Startup_style_hosting_every_middleware_is_a_stage_nested_in_pipeline_order()
    {
        using var host = await new HostBuilder()
            .ConfigureLogging(l => l.ClearProviders())
            .ConfigureWebHost(web => web
                .UseTestServer()
                .ConfigureServices(AddServices)
                .Configure(app => ConfigurePipeline(app, callUseFlowScopeLate: false)))
            .StartAsync();

        using var client = host.GetTestClient();
        Assert.Equal("item 7", await client.GetStringAsync("/items/7"));

        await AssertChainAsync(host.Services.GetRequiredService<ITraceStore>());
        await host.StopAsync();
    }

    private static async Task AssertChainAsync(ITraceStore store)
    {
        TraceDetail? trace = null;
        await Eventually.TrueAsync(async () =>
        {
            var summary = (await store.QueryAsync(new TraceQuery { Name = "/items/" })).Traces.FirstOrDefault();
            trace = summary is null ? null : await store.GetTraceAsync(summary.TraceId);
            return trace is not null;
        });

        var spans = trace!.Spans;
        var root = spans.Single(s => s.ParentSpanId is null);
        Assert.Equal("GET /items/{id}", root.Name);

        // Walk from the root down the chain of stages.
        var chain = new List<SpanRecord>();
        var parent = root;
        while (spans.SingleOrDefault(s => s.ParentSpanId == parent.SpanId) is { } child)
        {
            chain.Add(child);
            parent = child;
        }

        var names = chain.Select(s => s.Name).ToList();
        var positions = ExpectedChain.Select(n => names.IndexOf(n)).ToArray();
        Assert.True(positions.All(p => p >= 0), $"Expected the chain to contain [{string.Join(", ", ExpectedChain)}]; it was [{string.Join(", ", names)}].");
        Assert.Equal(positions.Order(), positions); // in pipeline order, each nested in the one before

        Assert.DoesNotContain(names, n => n.Contains('<', StringComparison.Ordinal) || n.Contains("RequestCapture", StringComparison.Ordinal));
        var endpoint = chain.Single(s => s.Name == "GET /items/{id}");
        Assert.Equal("endpoint", endpoint.Component);
        Assert.All(chain.Where(s => s != endpoint), s => Assert.Equal("middleware", s.Component));

        foreach (var stage in chain)
        {
            var self = stage.SelfTime!.Value.TotalMilliseconds;
            Assert.InRange(self, 0, stage.Duration.TotalMilliseconds + 0.001);
            Assert.True(stage.StartTime >= root.StartTime && stage.EndTime <= root.EndTime + TimeSpan.FromMilliseconds(1), $"{stage.Name} lies outside the request");
        }

        // Total time of a stage covers the stages nested in it.
        for (var i = 1; i < chain.Count; i++)
        {
            Assert.True(chain[i - 1].Duration >= chain[i].Duration - TimeSpan.FromMilliseconds(0.05), $"{chain[i - 1].Name} is shorter than {chain[i].Name}");
        }
    }

    [Fact]
    public async Task A_stage_that_throws_is_marked_failed_and_the_handler_that_catches_it_is_not()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        AddServices(builder.Services);
        await using var app = builder.Build();
        app.UseExceptionHandler(new ExceptionHandlerOptions { ExceptionHandler = c => c.Response.WriteAsync("handled") });
        app.UseFlowScope();
        app.UseMiddleware<ThrowingMiddleware>();
        app.MapGet("/never", () => "never");
        await app.StartAsync();
        using var client = app.GetTestClient();

        var response = await client.GetAsync("/never");
        Assert.Equal(500, (int)response.StatusCode);

        var store = app.Services.GetRequiredService<ITraceStore>();
        var summary = (await store.QueryAsync(new TraceQuery { Name = "never" })).Traces.FirstOrDefault();
        await Eventually.TrueAsync(async () => (summary = (await store.QueryAsync(new TraceQuery { Name = "never" })).Traces.FirstOrDefault()) is not null);
        var spans = (await store.GetTraceAsync(summary!.TraceId))!.Spans;

        var thrower = spans.Single(s => s.Name == "ThrowingMiddleware");
        Assert.Equal(System.Diagnostics.ActivityStatusCode.Error, thrower.Status);
        Assert.Contains(thrower.Events, e => e.Name == "exception");
        var handler = spans.Single(s => s.Name == "ExceptionHandlerMiddleware");
        Assert.NotEqual(System.Diagnostics.ActivityStatusCode.Error, handler.Status);
        Assert.True(summary.IsError); // the response was a 500
    }
}

public sealed class AsyncStageTests
{
    [Fact]
    public async Task Asynchronous_stages_end_when_their_own_work_ends_and_an_exception_after_an_await_fails_each_stage_it_leaves()
    {
        await using var app = await StartAsync("/slow/{fail}", "failed after waiting", a => a.UseMiddleware<SlowAfterNextMiddleware>()); // 40 ms of its own after the rest has finished
        using var client = app.GetTestClient();

        Assert.Equal("done", await client.GetStringAsync("/slow/false"));
        await Assert.ThrowsAnyAsync<Exception>(() => client.GetAsync("/slow/true"));

        foreach (var (summary, spans) in await StoredAsync(app, "/slow/", 2))
        {
            var outer = spans.Single(s => s.Name == nameof(SlowAfterNextMiddleware));
            var endpoint = spans.Single(s => s.Component == "endpoint" && s.Name == "GET /slow/{fail}");
            Assert.True(endpoint.Duration >= TimeSpan.FromMilliseconds(15), $"endpoint {endpoint.Duration.TotalMilliseconds} ms");
            var failed = summary.IsError;
            Assert.True(outer.EndTime >= endpoint.EndTime, "the middleware ends after the endpoint it awaited");
            if (!failed)
            {
                // The endpoint's stage ended when its task did, not when the middleware around it finished (the
                // middleware's 40-ms delay may fire a timer tick early, hence 30).
                Assert.True(outer.EndTime - endpoint.EndTime >= TimeSpan.FromMilliseconds(30), $"outer ends {(outer.EndTime - endpoint.EndTime).TotalMilliseconds} ms after the endpoint");
            }

            Assert.Equal(failed ? System.Diagnostics.ActivityStatusCode.Error : System.Diagnostics.ActivityStatusCode.Unset, endpoint.Status);
            Assert.Equal(failed ? System.Diagnostics.ActivityStatusCode.Error : System.Diagnostics.ActivityStatusCode.Unset, outer.Status);
            if (failed)
            {
                var exception = Assert.Single(endpoint.Events, e => e.Name == "exception");
                Assert.Contains(exception.Attributes, a => a.Key == "exception.message" && a.Value == "failed after waiting");
            }
        }
    }

    [Fact]
    public async Task Middleware_that_pass_on_an_asynchronous_endpoint_s_task_end_with_it_and_fail_with_it()
    {
        await using var app = await StartAsync("/pass/{fail}", "failed behind two middleware", a =>
        {
            a.UseMiddleware<SlowAfterNextMiddleware>(); // the request goes on 40 ms after the endpoint (unless it failed)
            a.UseMiddleware<StampMiddleware>();        // return next(context): passes the inner task on
            a.Use((context, next) => next(context));  // the same, inline
        });
        using var client = app.GetTestClient();

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal("done", await client.GetStringAsync("/pass/false"));
            await Assert.ThrowsAnyAsync<Exception>(() => client.GetAsync("/pass/true"));
        }

        foreach (var (summary, spans) in await StoredAsync(app, "/pass/", 6))
        {
            var endpoint = spans.Single(s => s.Component == "endpoint" && s.Name == "GET /pass/{fail}");
            var stamp = spans.Single(s => s.Name == nameof(StampMiddleware));
            var inline = spans.Single(s => s.Component == "middleware" && s.Name.StartsWith("inline middleware", StringComparison.Ordinal));
            Assert.True(endpoint.Duration >= TimeSpan.FromMilliseconds(15), $"endpoint {endpoint.Duration.TotalMilliseconds} ms");
            foreach (var outer in new[] { stamp, inline })
            {
                // Each ended when the endpoint's task completed: not before it, not at the end of the request.
                Assert.True(outer.EndTime >= endpoint.EndTime, $"{outer.Name} ended before the endpoint");
                Assert.True(outer.EndTime - endpoint.EndTime < TimeSpan.FromMilliseconds(25), $"{outer.Name} ended {(outer.EndTime - endpoint.EndTime).TotalMilliseconds} ms after the endpoint");
                Assert.True(outer.Duration >= endpoint.Duration, $"{outer.Name} is shorter than the endpoint");
                Assert.Equal(summary.IsError ? System.Diagnostics.ActivityStatusCode.Error : System.Diagnostics.ActivityStatusCode.Unset, outer.Status);
            }

            Assert.Equal(summary.IsError, endpoint.Events.Any(e => e.Name == "exception"));
            Assert.DoesNotContain(stamp.Events, e => e.Name == "exception"); // the innermost stage holds the exception
        }
    }

    /// <summary>An app with FlowScope, <paramref name="pipeline"/>, and an endpoint that waits 20 ms and then answers "done" or fails with <paramref name="failure"/>.</summary>
    private static async Task<WebApplication> StartAsync(string route, string failure, Action<WebApplication> pipeline)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        builder.Services.AddFlowScope();
        var app = builder.Build();
        app.UseFlowScope();
        pipeline(app);
        app.MapGet(route, async (bool fail) =>
        {
            await Task.Delay(20); // the endpoint's own (asynchronous) work
            return fail ? throw new InvalidOperationException(failure) : "done";
        });
        await app.StartAsync();
        return app;
    }

    /// <summary>Waits until <paramref name="count"/> traces named like <paramref name="name"/> are stored; returns them with their spans.</summary>
    private static async Task<List<(TraceSummary Summary, IReadOnlyList<SpanRecord> Spans)>> StoredAsync(WebApplication app, string name, int count)
    {
        var store = app.Services.GetRequiredService<ITraceStore>();
        TraceSummary[] traces = [];
        await Eventually.TrueAsync(async () => (traces = [.. (await store.QueryAsync(new TraceQuery { Name = name })).Traces]).Length == count);
        var result = new List<(TraceSummary, IReadOnlyList<SpanRecord>)>();
        foreach (var summary in traces)
        {
            result.Add((summary, (await store.GetTraceAsync(summary.TraceId))!.Spans));
        }

        return result;
    }
}

/// <summary>Does 40 ms of work of its own after the rest of the pipeline has finished, unless the rest failed.</summary>
public sealed class SlowAfterNextMiddleware(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context)
    {
        await next(context);
        await Task.Delay(40);
    }
}

public sealed class StampMiddleware(RequestDelegate next)
{
    public Task Invoke(HttpContext context)
    {
        context.Response.Headers["X-Stamp"] = "1";
        return next(context);
    }
}

/// <summary>A middleware whose Invoke takes services: bound through a closure, still named by its type.</summary>
public sealed class LoggingStampMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context, ILogger<LoggingStampMiddleware> logger)
    {
        logger.LogDebug("stamping");
        return next(context);
    }
}

public sealed class ThrowingMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context) =>
        context.Request.Path.StartsWithSegments("/never") ? throw new InvalidOperationException("refused") : next(context);
}
