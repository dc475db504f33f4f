using System.Diagnostics;
using System.Threading.Channels;
using FlowScope.Embedded.Queues;
using FlowScope.Embedded.Queues.Internal;
using FlowScope.Embedded.Storage;
using FlowScope.Embedded.Workers;
using FlowScope.Embedded.Workers.Internal;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FlowScope.Embedded.IntegrationTests.Instrumentation;

/// <summary>An order placed by a request; the handler fails its first <see cref="FailAttempts"/> attempts.</summary>
internal sealed record OrderPlaced(int Id, int FailAttempts);

/// <summary>A request for a digest, forwarded by a queue handler to <see cref="DigestWorker"/>.</summary>
internal sealed record DigestRequested(string User);

internal sealed class FlakyOrderHandler : IQueueHandler<OrderPlaced>
{
    public Task HandleAsync(OrderPlaced message, QueueMessageContext context, CancellationToken cancellationToken)
    {
        if (context.Attempt <= message.FailAttempts)
        {
            throw new InvalidOperationException($"Payment service unavailable for order {message.Id} (attempt {context.Attempt}).");
        }

        using var activity = TestApp.Source.StartActivity("charge card");
        return Task.CompletedTask;
    }
}

/// <summary>Hands each digest request, with the trace context its message carried, to the digest worker.</summary>
internal sealed class DigestRequestHandler(DigestWorker worker) : IQueueHandler<DigestRequested>
{
    public Task HandleAsync(DigestRequested message, QueueMessageContext context, CancellationToken cancellationToken) =>
        worker.Requests.Writer.WriteAsync((message.User, (QueueTraceContext?)context.TraceContext), cancellationToken).AsTask();
}

/// <summary>A background worker that sends digests as units of work, in the trace of the message that asked for one if any.</summary>
internal sealed class DigestWorker(IWorkerScope<DigestWorker> scope) : BackgroundService
{
    public Channel<(string User, QueueTraceContext? Cause)> Requests { get; } = Channel.CreateUnbounded<(string, QueueTraceContext?)>();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var (user, cause) in Requests.Reader.ReadAllAsync(stoppingToken))
        {
            using var work = scope.StartUnitOfWork("send digest", cause);
            work.Activity?.SetTag("digest.user", user);
            if (user == "nobody")
            {
                work.Fail(new ArgumentException("No such user."));
            }
        }
    }
}

/// <summary>A background worker that fails shortly after it starts.</summary>
internal sealed class FaultingWorker : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        throw new InvalidOperationException("The mailbox connection was refused.");
    }
}

/// <summary>A plain hosted service (not a BackgroundService).</summary>
internal sealed class CacheWarmer : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Records the state FlowScope shows for it while the host starts it.</summary>
internal sealed class StartupProbe(WorkerRegistry registry) : IHostedService
{
    public string? StateDuringStart { get; private set; }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        StateDuringStart = registry.Snapshot().SingleOrDefault(w => w.Name == nameof(StartupProbe))?.State;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>The test app with queues and workers, started on a test server.</summary>
internal static class AsyncTestApp
{
    public static async Task<TestApp> StartAsync(
        Action<IFlowScopeBuilder>? queues = null,
        Action<WebApplicationBuilder>? configureBuilder = null,
        Dictionary<string, string?>? configuration = null,
        Action<WebApplication>? map = null)
    {
        return await TestApp.StartAsync(
            configuration,
            configureBuilder: builder =>
            {
                var flowScope = builder.Services.AddFlowScope();
                queues?.Invoke(flowScope);
                configureBuilder?.Invoke(builder);
            },
            beforeFlowScope: map);
    }

    public static void MapOrderEndpoint(WebApplication app) =>
        app.MapGet("/orders/{id:int}", (int id, int fails, IQueue<OrderPlaced> queue) =>
            queue.TryEnqueue(new OrderPlaced(id, fails)) ? Results.Accepted() : Results.StatusCode(503));

    public static QueueMetricsSnapshot Queue(this TestApp app, string name) =>
        app.App.Services.GetRequiredService<QueueRegistry>().Snapshot().Single(q => q.Name == name);

    public static WorkerSnapshot Worker(this TestApp app, string name) =>
        app.App.Services.GetRequiredService<WorkerRegistry>().Snapshot().Single(w => w.Name == name);

    public static async Task<TraceDetail> TraceAsync(this TestApp app, string traceId) =>
        (await app.Store.GetTraceAsync(traceId)) ?? throw new InvalidOperationException($"Trace {traceId} is not stored.");

    /// <summary>
    /// Waits for a trace holding <paramref name="spanCount"/> spans besides the request's pipeline stages, and returns
    /// it without those stages: each remaining span's parent is its nearest ancestor that is not a stage, so
    /// assertions read "the producer is a child of the request" whatever middleware the test app has.
    /// </summary>
    public static async Task<TraceDetail> WaitForSpansAsync(this TestApp app, Func<TraceSummary, bool> predicate, int spanCount, string because = "")
    {
        TraceDetail? found = null;
        await Eventually.TrueAsync(
            async () =>
            {
                foreach (var summary in (await app.Store.QueryAsync(new TraceQuery { Limit = TraceQuery.MaxLimit })).Traces.Where(predicate))
                {
                    if (await app.Store.GetTraceAsync(summary.TraceId) is { } detail && WithoutStages(detail).Spans.Count >= spanCount)
                    {
                        found = detail;
                        return true;
                    }
                }

                return false;
            },
            because: because);

        var result = WithoutStages(found!);
        Assert.Equal(spanCount, result.Spans.Count);
        return result;
    }

    private static TraceDetail WithoutStages(TraceDetail detail)
    {
        var byId = detail.Spans.ToDictionary(s => s.SpanId);
        static bool IsStage(SpanRecord s) => s.Source == "FlowScope.Pipeline";
        string? Ancestor(string? parent)
        {
            while (parent is not null && byId.TryGetValue(parent, out var p) && IsStage(p))
            {
                parent = p.ParentSpanId;
            }

            return parent;
        }

        var spans = detail.Spans.Where(s => !IsStage(s)).Select(s => new SpanRecord(
            s.TraceId, s.SpanId, Ancestor(s.ParentSpanId), s.Name, s.Kind, s.Component, s.StartTime, s.Duration, s.Status,
            s.StatusMessage, s.Attributes, s.Events, s.Links, s.Source, s.Instance, s.HasRemoteParent)).ToArray();
        return detail with { Spans = spans };
    }

    public static string Attr(this SpanRecord span, string key) =>
        span.GetAttribute(key) ?? throw new Xunit.Sdk.XunitException($"Span '{span.Name}' has no attribute '{key}'. It has: {string.Join(", ", span.Attributes.Select(a => a.Key))}");

}
