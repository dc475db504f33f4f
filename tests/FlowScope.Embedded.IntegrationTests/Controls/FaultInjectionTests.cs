using System.Diagnostics;
using System.Net;
using System.Text.Json;
using FlowScope.Embedded.Faults;
using FlowScope.Embedded.IntegrationTests.Instrumentation;
using FlowScope.Embedded.Queues;
using FlowScope.Embedded.Storage;
using FlowScope.Embedded.Workers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace FlowScope.Embedded.IntegrationTests.Controls;

public sealed class FaultInjectionTests
{
    private static readonly Dictionary<string, string?> Enabled = new() { ["FlowScope:EnableFaultInjection"] = "true" };

    private static Task<TestApp> StartAsync(Dictionary<string, string?>? configuration = null) =>
        TestApp.StartAsync(configuration ?? Enabled, beforeFlowScope: app =>
        {
            // An exception handler outermost, as real apps have: an injected failure becomes a 500.
            app.UseExceptionHandler(e => e.Run(c =>
            {
                c.Response.StatusCode = StatusCodes.Status500InternalServerError;
                return Task.CompletedTask;
            }));
            app.UseMiddleware<AuditMiddleware>();
        });

    [Fact]
    public async Task An_injected_delay_on_a_middleware_shows_in_the_next_request_s_span_and_is_marked()
    {
        await using var app = await StartAsync();
        var op = new OperatorClient(app.Client);
        Assert.True((await op.OpenAsync()).GetProperty("canOperate").GetBoolean());

        var list = await op.GetJsonAsync("api/faults");
        Assert.True(list.GetProperty("enabled").GetBoolean());
        var targets = list.GetProperty("targets").EnumerateArray().Select(t => (t.GetProperty("kind").GetString(), t.GetProperty("name").GetString())).ToList();
        Assert.Contains(("middleware", nameof(AuditMiddleware)), targets);
        Assert.Contains(("endpoint", "/hello/{id:int}"), targets);
        Assert.DoesNotContain(targets, t => t.Item2!.Contains("FlowScope", StringComparison.Ordinal));

        var fault = await op.InjectAsync(new { kind = "middleware", component = nameof(AuditMiddleware), delayMs = 250, maxHits = 1 });
        var id = fault.GetProperty("id").GetString()!;
        Assert.Equal(250, fault.GetProperty("delayMs").GetDouble());
        Assert.Equal(JsonValueKind.Null, fault.GetProperty("expiresAt").ValueKind); // a hit count, no time limit

        Assert.Equal("hello 1", await app.Client.GetStringAsync("/hello/1"));
        var stage = await StageAsync(app, "/hello/1", nameof(AuditMiddleware));
        Assert.True(stage.Duration >= TimeSpan.FromMilliseconds(250), $"the stage took {stage.Duration.TotalMilliseconds} ms");
        Assert.Equal(id, stage.GetAttribute(FaultInjector.IdAttribute));
        Assert.Equal("250", stage.GetAttribute(FaultInjector.DelayAttribute));
        Assert.Equal("false", stage.GetAttribute(FaultInjector.FailureAttribute));
        var mark = Assert.Single(stage.Events, e => e.Name == FaultInjector.EventName);
        Assert.Contains(mark.Attributes, a => a.Key == "message" && a.Value.Contains("250 ms delay", StringComparison.Ordinal));

        // Its one hit is used up: it is gone, and the next request runs untouched.
        Assert.Empty((await op.GetJsonAsync("api/faults")).GetProperty("faults").EnumerateArray());
        Assert.Equal("hello 2", await app.Client.GetStringAsync("/hello/2"));
        var after = await StageAsync(app, "/hello/2", nameof(AuditMiddleware));
        Assert.Null(after.GetAttribute(FaultInjector.IdAttribute));
        Assert.DoesNotContain(after.Events, e => e.Name == FaultInjector.EventName);
    }

    [Fact]
    public async Task An_injected_failure_fails_requests_until_it_is_stopped_and_is_marked_on_the_span()
    {
        await using var app = await StartAsync();
        var op = new OperatorClient(app.Client);
        await op.OpenAsync();
        var fault = await op.InjectAsync(new { kind = "endpoint", component = "/hello/{id:int}", failureRate = 1.0 });
        var id = fault.GetProperty("id").GetString()!;
        Assert.NotEqual(JsonValueKind.Null, fault.GetProperty("expiresAt").ValueKind); // the default time limit applies

        Assert.Equal(HttpStatusCode.InternalServerError, (await app.Client.GetAsync("/hello/5")).StatusCode);
        Assert.Equal(HttpStatusCode.InternalServerError, (await app.Client.GetAsync("/hello/6")).StatusCode);
        var endpoint = await StageAsync(app, "/hello/5", "GET /hello/{id:int}");
        Assert.Equal(ActivityStatusCode.Error, endpoint.Status);
        Assert.Equal("true", endpoint.GetAttribute(FaultInjector.FailureAttribute));
        Assert.Contains(endpoint.Events, e => e.Name == "exception" && e.Attributes.Any(a => a.Value == typeof(InjectedFaultException).FullName));

        var listed = Assert.Single((await op.GetJsonAsync("api/faults")).GetProperty("faults").EnumerateArray());
        Assert.Equal(2, listed.GetProperty("hits").GetInt64());
        Assert.Equal(2, listed.GetProperty("failuresInjected").GetInt64());

        using (var stop = await op.DeleteAsync("api/faults/" + id))
        {
            Assert.Equal(HttpStatusCode.NoContent, stop.StatusCode);
        }

        Assert.Equal("hello 7", await app.Client.GetStringAsync("/hello/7"));
        Assert.Null((await StageAsync(app, "/hello/7", "GET /hello/{id:int}")).GetAttribute(FaultInjector.IdAttribute));
        using var again = await op.DeleteAsync("api/faults/" + id);
        await OperatorClient.ProblemAsync(again, 404);
    }

    [Fact]
    public async Task An_injected_failure_on_a_queue_handler_drives_the_retry_and_dead_letter_paths_and_removing_it_restores_them()
    {
        await using var app = await AsyncTestApp.StartAsync(
            queues: f => f.AddQueue<OrderPlaced, FlakyOrderHandler>("orders", o =>
            {
                o.BackoffBase = TimeSpan.FromMilliseconds(1);
                o.BackoffMax = TimeSpan.FromMilliseconds(5);
                o.MaxAttempts = 3;
            }),
            configuration: Enabled,
            map: AsyncTestApp.MapOrderEndpoint);
        var op = new OperatorClient(app.Client);
        await op.OpenAsync();
        await op.InjectAsync(new { kind = "queue", component = "orders", failureRate = 1.0, delayMs = 5 });

        await app.Client.GetAsync("/orders/1?fails=0"); // a message the handler would accept
        var trace = await app.WaitForSpansAsync(t => t.Route == "/orders/{id:int}", spanCount: 5);
        var attempts = trace.Spans.Where(s => s.Kind == ActivityKind.Consumer).OrderBy(s => s.Attr("flowscope.queue.attempt")).ToArray();
        Assert.Equal(["retry_scheduled", "retry_scheduled", "dead_lettered"], attempts.Select(a => a.Attr("flowscope.queue.outcome")));
        Assert.All(attempts, a =>
        {
            Assert.Equal("true", a.Attr(FaultInjector.FailureAttribute));
            Assert.Equal("5", a.Attr(FaultInjector.DelayAttribute));
            Assert.Contains(a.Events, e => e.Name == FaultInjector.EventName);
        });
        await Eventually.TrueAsync(() => Task.FromResult(app.Queue("orders").DeadLettered == 1));
        Assert.Equal(typeof(InjectedFaultException).FullName, Assert.Single(app.Queue("orders").DeadLetters).ErrorType);
        Assert.Equal(0, app.Queue("orders").Succeeded);

        using (var stopAll = await op.DeleteAsync("api/faults"))
        {
            Assert.Equal(HttpStatusCode.NoContent, stopAll.StatusCode);
        }

        await app.Client.GetAsync("/orders/2?fails=0");
        await Eventually.TrueAsync(() => Task.FromResult(app.Queue("orders").Succeeded == 1), because: "the next message is handled normally");
        Assert.Equal(1, app.Queue("orders").DeadLettered);
    }

    [Fact]
    public async Task An_injected_failure_on_a_worker_fails_its_unit_of_work_through_the_worker_s_own_error_path()
    {
        await using var app = await AsyncTestApp.StartAsync(
            configureBuilder: b =>
            {
                b.Services.AddSingleton<ReconcileWorker>();
                b.Services.AddHostedService(sp => sp.GetRequiredService<ReconcileWorker>());
            },
            configuration: Enabled);
        var worker = app.App.Services.GetRequiredService<ReconcileWorker>();
        var op = new OperatorClient(app.Client);
        await op.OpenAsync();
        await Eventually.TrueAsync(async () => (await op.GetJsonAsync("api/faults")).GetProperty("targets").EnumerateArray()
            .Any(t => t.GetProperty("kind").GetString() == "worker" && t.GetProperty("name").GetString() == nameof(ReconcileWorker)));
        await op.InjectAsync(new { kind = "worker", component = nameof(ReconcileWorker), failureRate = 1.0, maxHits = 1 });

        await worker.Requests.Writer.WriteAsync("first");
        await worker.Requests.Writer.WriteAsync("second");
        await Eventually.TrueAsync(() => Task.FromResult(worker.Done.Count == 1 && worker.Failures.Count == 1));
        var failure = Assert.IsType<InjectedFaultException>(Assert.Single(worker.Failures));
        Assert.Equal(nameof(ReconcileWorker), failure.Component);
        Assert.Equal(["second"], worker.Done);

        var failed = await app.WaitForTraceAsync(t => t.Name == "reconcile" && t.IsError);
        var span = Assert.Single((await app.TraceAsync(failed.TraceId)).Spans);
        Assert.Equal("true", span.Attr(FaultInjector.FailureAttribute));
        Assert.Equal("error", span.Attr("flowscope.worker.outcome"));
        Assert.Equal(1, app.Worker(nameof(ReconcileWorker)).Errors);
    }

    [Fact]
    public async Task With_fault_injection_disabled_in_options_the_API_refuses_and_nothing_is_injected()
    {
        await using var app = await StartAsync(configuration: []);
        var op = new OperatorClient(app.Client);
        var session = await op.OpenAsync();
        Assert.False(session.GetProperty("faultInjection").GetBoolean());
        Assert.True(session.GetProperty("canOperate").GetBoolean());

        var list = await op.GetJsonAsync("api/faults");
        Assert.False(list.GetProperty("enabled").GetBoolean());
        Assert.Empty(list.GetProperty("targets").EnumerateArray());

        using var post = await op.PostAsync("api/faults", new { kind = "middleware", component = nameof(AuditMiddleware), delayMs = 100 });
        var problem = await OperatorClient.ProblemAsync(post, 403);
        Assert.Contains("FlowScope:EnableFaultInjection", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        using var delete = await op.DeleteAsync("api/faults");
        await OperatorClient.ProblemAsync(delete, 403);
        Assert.False(app.App.Services.GetRequiredService<FaultInjector>().IsActive);
    }

    [Fact]
    public async Task Every_field_is_validated_with_a_problem_naming_it_and_active_injections_are_bounded()
    {
        await using var app = await StartAsync();
        var op = new OperatorClient(app.Client);
        await op.OpenAsync();
        var cases = new (object Body, string Parameter)[]
        {
            (new { kind = "database", component = "x", delayMs = 1 }, "kind"),
            (new { kind = "middleware", delayMs = 1 }, "component"),
            (new { kind = "middleware", component = "NoSuchMiddleware", delayMs = 1 }, "component"),
            (new { kind = "middleware", component = nameof(AuditMiddleware) }, "delayMs"),
            (new { kind = "middleware", component = nameof(AuditMiddleware), delayMs = -1 }, "delayMs"),
            (new { kind = "middleware", component = nameof(AuditMiddleware), delayMs = 60_001 }, "delayMs"),
            (new { kind = "middleware", component = nameof(AuditMiddleware), delayMs = 100, maxDelayMs = 50 }, "maxDelayMs"),
            (new { kind = "middleware", component = nameof(AuditMiddleware), failureRate = 1.5 }, "failureRate"),
            (new { kind = "middleware", component = nameof(AuditMiddleware), delayMs = 1, durationSeconds = 0 }, "durationSeconds"),
            (new { kind = "middleware", component = nameof(AuditMiddleware), delayMs = 1, maxHits = 0 }, "maxHits"),
            (new { kind = "middleware", component = nameof(AuditMiddleware), delayMs = "soon" }, "delayMs"),
        };
        foreach (var (body, parameter) in cases)
        {
            using var response = await op.PostAsync("api/faults", body);
            var problem = await OperatorClient.ProblemAsync(response, 400);
            Assert.Equal(parameter, problem.GetProperty("parameter").GetString());
            Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("detail").GetString()));
        }

        using (var notJson = await op.SendAsync(HttpMethod.Post, "api/faults", new StringContent("kind=middleware")))
        {
            await OperatorClient.ProblemAsync(notJson, 415);
        }

        Assert.False(app.App.Services.GetRequiredService<FaultInjector>().IsActive); // nothing bad got in

        for (var i = 0; i < FaultInjector.MaxActive; i++)
        {
            await op.InjectAsync(new { kind = "middleware", component = nameof(AuditMiddleware), delayMs = 1, maxHits = 1_000 });
        }

        using var tooMany = await op.PostAsync("api/faults", new { kind = "middleware", component = nameof(AuditMiddleware), delayMs = 1 });
        await OperatorClient.ProblemAsync(tooMany, 409);
        Assert.Equal(FaultInjector.MaxActive, (await op.GetJsonAsync("api/faults")).GetProperty("faults").GetArrayLength());
    }

    private static async Task<SpanRecord> StageAsync(TestApp app, string path, string stageName)
    {
        SpanRecord? found = null;
        await Eventually.TrueAsync(
            async () =>
            {
                foreach (var summary in (await app.Store.QueryAsync(new TraceQuery { Limit = TraceQuery.MaxLimit })).Traces)
                {
                    if (await app.Store.GetTraceAsync(summary.TraceId) is { } detail
                        && detail.Spans.Any(s => s.GetAttribute("url.path") == path)
                        && detail.Spans.FirstOrDefault(s => s.Name == stageName) is { } stage)
                    {
                        found = stage;
                        return true;
                    }
                }

                return false;
            },
            because: $"a trace of {path} with the stage {stageName}");
        return found!;
    }
}

/// <summary>A pass-through middleware with a name to inject into.</summary>
internal sealed class AuditMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context) => next(context);
}

/// <summary>A worker that handles its failures, as a worker should: each request is one unit of work.</summary>
internal sealed class ReconcileWorker(IWorkerScope<ReconcileWorker> scope) : BackgroundService
{
    public System.Threading.Channels.Channel<string> Requests { get; } = System.Threading.Channels.Channel.CreateUnbounded<string>();

    public System.Collections.Concurrent.ConcurrentQueue<Exception> Failures { get; } = new();

    public System.Collections.Concurrent.ConcurrentQueue<string> Done { get; } = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var item in Requests.Reader.ReadAllAsync(stoppingToken))
        {
            try
            {
                using var work = scope.StartUnitOfWork("reconcile");
                Done.Enqueue(item);
            }
            catch (Exception ex)
            {
                Failures.Enqueue(ex);
            }
        }
    }
}
