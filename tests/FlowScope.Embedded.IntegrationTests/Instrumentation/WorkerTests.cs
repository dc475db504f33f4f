using System.Diagnostics;
using FlowScope.Embedded.Queues;
using FlowScope.Embedded.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace FlowScope.Embedded.IntegrationTests.Instrumentation;

public sealed class WorkerTests
{
    private static Task<TestApp> StartWithWorkersAsync(Dictionary<string, string?>? configuration = null) => AsyncTestApp.StartAsync(
        queues: f => f.AddQueue<DigestRequested, DigestRequestHandler>("digests"),
        configureBuilder: b =>
        {
            b.Services.Configure<HostOptions>(o => o.BackgroundServiceExceptionBehavior = BackgroundServiceExceptionBehavior.Ignore);
            b.Services.AddSingleton<DigestWorker>();
            b.Services.AddHostedService(sp => sp.GetRequiredService<DigestWorker>());
            b.Services.AddHostedService<FaultingWorker>();
            b.Services.AddHostedService<CacheWarmer>();
            b.Services.AddSingleton<StartupProbe>();
            b.Services.AddHostedService(sp => sp.GetRequiredService<StartupProbe>());
        },
        configuration: configuration,
        map: app => app.MapGet("/digest/{user}", (string user, IQueue<DigestRequested> queue) =>
            queue.TryEnqueue(new DigestRequested(user)) ? Results.Accepted() : Results.StatusCode(503)));

    [Fact]
    public async Task Every_hosted_service_is_listed_without_code_change_and_a_throwing_worker_shows_faulted_with_its_exception()
    {
        await using var app = await StartWithWorkersAsync();

        await Eventually.TrueAsync(() => Task.FromResult(app.Worker(nameof(FaultingWorker)).State == "faulted"));
        var faulted = app.Worker(nameof(FaultingWorker));
        Assert.Equal(typeof(FaultingWorker).FullName, faulted.Type);
        Assert.Equal("System.InvalidOperationException: The mailbox connection was refused.", faulted.LastError);
        Assert.Contains("FaultingWorker.ExecuteAsync", faulted.LastErrorDetail, StringComparison.Ordinal);
        Assert.Equal(1, faulted.Errors);
        Assert.NotNull(faulted.StartedAt);
        Assert.True(faulted.IsHostedService);

        Assert.Equal("running", app.Worker(nameof(DigestWorker)).State);
        Assert.Equal("running", app.Worker(nameof(CacheWarmer)).State);
        Assert.Equal("starting", app.App.Services.GetRequiredService<StartupProbe>().StateDuringStart); // listed before any service starts
        var names = app.App.Services.GetRequiredService<Workers.Internal.WorkerRegistry>().Snapshot().Select(w => w.Name).ToArray();
        Assert.DoesNotContain(names, n => n.Contains("FlowScope", StringComparison.Ordinal) || n.Contains("Queue", StringComparison.Ordinal) || n == "GenericWebHostService");

        // The fault is also a trace of its own, with the exception.
        var summary = await app.WaitForTraceAsync(t => t.Name == "FaultingWorker faulted");
        var span = Assert.Single((await app.TraceAsync(summary.TraceId)).Spans);
        Assert.Equal(SpanComponents.Worker, span.Component);
        Assert.Equal(ActivityStatusCode.Error, span.Status);
        Assert.Equal(nameof(FaultingWorker), span.Attr("flowscope.worker.name"));
        Assert.Contains(span.Events, e => e.Name == "exception" && e.Attributes.Any(a => a.Key == "exception.message" && a.Value == "The mailbox connection was refused."));

        await app.App.StopAsync();
        Assert.Equal("faulted", app.Worker(nameof(FaultingWorker)).State);
        Assert.Equal("stopped", app.Worker(nameof(DigestWorker)).State);
        Assert.Equal("stopped", app.Worker(nameof(CacheWarmer)).State);
    }

    [Fact]
    public async Task A_unit_of_work_without_a_cause_is_a_trace_of_its_own_and_moves_the_worker_between_running_and_idle()
    {
        await using var app = await StartWithWorkersAsync();
        var worker = app.App.Services.GetRequiredService<DigestWorker>();
        Assert.Equal(0, app.Worker(nameof(DigestWorker)).Runs);

        await worker.Requests.Writer.WriteAsync(("ada", null));

        var summary = await app.WaitForTraceAsync(t => t.Name == "send digest");
        var span = Assert.Single((await app.TraceAsync(summary.TraceId)).Spans);
        Assert.Null(span.ParentSpanId);
        Assert.Equal(SpanComponents.Worker, span.Component);
        Assert.Equal(ActivityKind.Internal, span.Kind);
        Assert.Equal(nameof(DigestWorker), span.Attr("flowscope.worker.name"));
        Assert.Equal("ada", span.Attr("digest.user"));
        Assert.Equal("ok", span.Attr("flowscope.worker.outcome"));

        await Eventually.TrueAsync(() => Task.FromResult(app.Worker(nameof(DigestWorker)) is { State: "idle", Runs: 1 }));
        Assert.NotNull(app.Worker(nameof(DigestWorker)).LastRunAt);

        await worker.Requests.Writer.WriteAsync(("nobody", null));
        await Eventually.TrueAsync(() => Task.FromResult(app.Worker(nameof(DigestWorker)) is { Runs: 2, Errors: 1 }));
        Assert.Equal("System.ArgumentException: No such user.", app.Worker(nameof(DigestWorker)).LastError);
        Assert.Equal("idle", app.Worker(nameof(DigestWorker)).State);
        var failed = await app.WaitForTraceAsync(t => t.Name == "send digest" && t.IsError);
        Assert.Equal("error", (await app.TraceAsync(failed.TraceId)).Spans.Single().Attr("flowscope.worker.outcome"));
    }

    [Fact]
    public async Task A_unit_of_work_started_with_a_message_s_context_joins_the_trace_of_the_request_that_sent_it()
    {
        await using var app = await StartWithWorkersAsync();

        await app.Client.GetAsync("/digest/grace");

        // request → send digests → process digests, and the worker's unit of work under the producer span
        var trace = await app.WaitForSpansAsync(t => t.Route == "/digest/{user}", spanCount: 4);
        var producer = Assert.Single(trace.Spans, s => s.Kind == ActivityKind.Producer);
        var consumer = Assert.Single(trace.Spans, s => s.Kind == ActivityKind.Consumer);
        var work = Assert.Single(trace.Spans, s => s.Name == "send digest");
        Assert.Equal(producer.SpanId, consumer.ParentSpanId);
        Assert.Equal(producer.SpanId, work.ParentSpanId);
        Assert.False(work.HasRemoteParent); // the context was captured in this process
        Assert.Equal(SpanComponents.Worker, work.Component);
        Assert.Equal("grace", work.Attr("digest.user"));
        Assert.Equal([SpanComponents.Queue, SpanComponents.Server, SpanComponents.Worker], trace.Spans.Select(s => s.Component).Distinct().Order());
    }

    [Fact]
    public async Task With_FlowScope_disabled_no_worker_is_observed()
    {
        await using var app = await StartWithWorkersAsync(new() { ["FlowScope:Enabled"] = "false" });

        Assert.DoesNotContain(app.App.Services.GetRequiredService<Workers.Internal.WorkerRegistry>().Snapshot(), w => w.IsHostedService);
        Assert.Null(app.App.Services.GetRequiredService<StartupProbe>().StateDuringStart);
    }
}
