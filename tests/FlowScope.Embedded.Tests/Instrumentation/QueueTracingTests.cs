using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using FlowScope.Embedded.Capture;
using FlowScope.Embedded.Queues;
using FlowScope.Embedded.Queues.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace FlowScope.Embedded.Tests.Instrumentation;

/// <summary>
/// Tests that create activities on FlowScope's own sources. Other tests' captures listen to <c>FlowScope.*</c>
/// (every FlowScope source is always captured), so these run alone, after the parallel ones.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FlowScopeSourcesTests
{
    public const string Name = "FlowScope sources";
}

[Collection(FlowScopeSourcesTests.Name)]
public sealed class QueueTracingTests : IDisposable
{
    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly ActivityListener _listener;

    public QueueTracingTests()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == QueueTracing.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStopped = _stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public void Dispose() => _listener.Dispose();

    [Fact]
    public async Task Headers_carry_the_producer_span_to_a_consumer_in_a_loop_without_an_ambient_activity()
    {
        using var request = new Activity("request").SetIdFormat(ActivityIdFormat.W3C).Start();
        request.TraceStateString = "vendor=1";
        var headers = new Dictionary<string, string>();
        Activity producer;
        using (var send = QueueTracing.StartSend("rabbitmq", "orders", "m-1"))
        {
            producer = send.Activity!;
            send.Context.Inject(headers, static (h, k, v) => h[k] = v);
        }

        Assert.Same(request, Activity.Current);
        Assert.Equal(request.SpanId, producer.ParentSpanId);
        Assert.Equal(ActivityKind.Producer, producer.Kind);
        Assert.Equal("send orders", producer.DisplayName);
        Assert.Equal($"00-{producer.TraceId}-{producer.SpanId}-00", headers["traceparent"]);
        Assert.Equal("vendor=1", headers["tracestate"]);
        Assert.True(long.TryParse(headers["flowscope-enqueued-at"], CultureInfo.InvariantCulture, out _));

        Activity consumer = null!;
        await Task.Run(() =>
        {
            Activity.Current = null; // a reader loop: nothing ambient
            var context = QueueTraceContext.Extract(headers, static (h, k) => h.GetValueOrDefault(k));
            using var process = QueueTracing.StartProcess("rabbitmq", "orders", context, "m-1", attempt: 2);
            consumer = process.Activity!;
            Assert.NotNull(process.WaitTime);
            process.Fail(new TimeoutException("downstream timed out"), QueueOutcome.DeadLettered);
        });

        Assert.Equal(producer.TraceId, consumer.TraceId);
        Assert.Equal(producer.SpanId, consumer.ParentSpanId);
        Assert.True(consumer.HasRemoteParent);
        Assert.Equal(ActivityKind.Consumer, consumer.Kind);
        Assert.Equal("vendor=1", consumer.TraceStateString);
        // Shown as queue spans by their kind: the app's exporters get no FlowScope-only attribute for it.
        Assert.Null(consumer.GetTagItem("flowscope.component"));
        var converter = new SpanConverter(new FlowScopeOptions(), "test");
        Assert.Equal("queue", converter.ConvertOne(consumer).Component);
        Assert.Equal("queue", converter.ConvertOne(producer).Component);
        Assert.Equal("rabbitmq", consumer.GetTagItem("messaging.system"));
        Assert.Equal("process", consumer.GetTagItem("messaging.operation.type"));
        Assert.Equal("m-1", consumer.GetTagItem("messaging.message.id"));
        Assert.Equal(2, consumer.GetTagItem("flowscope.queue.attempt"));
        Assert.IsType<double>(consumer.GetTagItem("flowscope.queue.wait_ms"));
        Assert.Equal("dead_lettered", consumer.GetTagItem("flowscope.queue.outcome"));
        Assert.Equal(ActivityStatusCode.Error, consumer.Status);
        Assert.Contains(consumer.Events, e => e.Name == "exception");
    }

    [Fact]
    public void A_batch_consumer_span_links_every_message_s_producer()
    {
        var contexts = new List<QueueTraceContext>();
        var producers = new List<Activity>();
        for (var i = 0; i < 3; i++)
        {
            Activity.Current = null;
            using var send = QueueTracing.StartSend("kafka", "events");
            producers.Add(send.Activity!);
            contexts.Add(send.Context);
        }

        contexts.Add(new QueueTraceContext("not a traceparent", null, null)); // ignored, not thrown
        Activity.Current = null;
        using (var batch = QueueTracing.StartProcessBatch("kafka", "events", contexts))
        {
            var links = batch.Activity!.Links.ToArray();
            Assert.Equal(producers.Select(p => p.SpanId), links.Select(l => l.Context.SpanId));
            Assert.Equal(4, batch.Activity.GetTagItem("messaging.batch.message_count"));
            Assert.Equal(default, batch.Activity.ParentSpanId);
        }
    }

    [Fact]
    public void Malformed_or_missing_headers_give_a_context_without_a_parent()
    {
        var empty = QueueTraceContext.Extract(new Dictionary<string, string> { ["flowscope-enqueued-at"] = "soon" }, static (h, k) => h.GetValueOrDefault(k));
        Assert.Null(empty.TraceParent);
        Assert.Null(empty.EnqueuedAt);
        Assert.Equal(default, empty.ActivityContext);

        var headers = new Dictionary<string, string>();
        new QueueTraceContext(null, null, DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123)).Inject(headers, static (h, k, v) => h[k] = v);
        Assert.Equal(["flowscope-enqueued-at"], headers.Keys);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123), QueueTraceContext.Extract(headers, static (h, k) => h.GetValueOrDefault(k)).EnqueuedAt);
    }

    [Fact]
    public async Task A_failed_attempt_waits_its_backoff_on_the_injected_clock_before_the_next_one()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 22, 10, 0, 0, TimeSpan.Zero));
        var handler = new FailingHandler(failures: 1);
        using var services = new ServiceCollection().AddSingleton(handler).BuildServiceProvider();
        using var queue = new InProcessQueue<string>(
            "mail",
            new QueueOptions { MaxAttempts = 3, BackoffBase = TimeSpan.FromSeconds(10), BackoffMax = TimeSpan.FromSeconds(10) },
            services.GetRequiredService<IServiceScopeFactory>(),
            static sp => sp.GetRequiredService<FailingHandler>(),
            time,
            NullLogger.Instance);

        Assert.True(queue.TryEnqueue("hello"));
        time.Advance(TimeSpan.FromMilliseconds(250)); // waits in the queue before the handlers start
        await queue.StartAsync(CancellationToken.None);

        await Eventually.TrueAsync(() => queue.Snapshot() is { Retries: 1, PendingRetries: 1 });
        Assert.Equal(250, queue.Snapshot().WaitP50Ms);
        Assert.Equal(1, queue.Snapshot().Dequeued); // the clock has not moved: the retry still waits

        time.Advance(TimeSpan.FromSeconds(10)); // the longest possible jittered delay
        await Eventually.TrueAsync(() => queue.Snapshot() is { Succeeded: 1, PendingRetries: 0 });
        Assert.Equal([1, 2], handler.Attempts);
        Assert.Equal(2, queue.Snapshot().Dequeued);

        await queue.StopAsync(CancellationToken.None);
        Assert.False(queue.TryEnqueue("after stop"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => queue.EnqueueAsync("after stop").AsTask());
        Assert.Equal(2, queue.Snapshot().Rejected);

        var consumers = _stopped.Where(a => a.Kind == ActivityKind.Consumer && (string?)a.GetTagItem("messaging.destination.name") == "mail").ToArray();
        Assert.Equal(2, consumers.Length);
        Assert.Single(consumers.Select(c => c.TraceId).Distinct());
    }

    private sealed class FailingHandler(int failures) : IQueueHandler<string>
    {
        public ConcurrentQueue<int> Attempts { get; } = new();

        public Task HandleAsync(string message, QueueMessageContext context, CancellationToken cancellationToken)
        {
            Attempts.Enqueue(context.Attempt);
            return context.Attempt <= failures ? throw new InvalidOperationException("not yet") : Task.CompletedTask;
        }
    }
}
