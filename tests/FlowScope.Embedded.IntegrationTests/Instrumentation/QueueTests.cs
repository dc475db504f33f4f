using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using FlowScope.Embedded.Queues;
using FlowScope.Embedded.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace FlowScope.Embedded.IntegrationTests.Instrumentation;

public sealed class QueueTests
{
    private static void FastRetries(QueueOptions o)
    {
        o.BackoffBase = TimeSpan.FromMilliseconds(1);
        o.BackoffMax = TimeSpan.FromMilliseconds(5);
    }

    [Fact]
    public async Task A_message_enqueued_by_a_request_and_retried_once_tells_the_whole_story_in_the_request_s_trace()
    {
        await using var app = await AsyncTestApp.StartAsync(
            queues: f => f.AddQueue<OrderPlaced, FlakyOrderHandler>("orders", o => { FastRetries(o); o.MaxAttempts = 3; }),
            map: AsyncTestApp.MapOrderEndpoint);

        using var response = await app.Client.GetAsync("/orders/42?fails=1");
        Assert.Equal(202, (int)response.StatusCode);

        // request + producer + two attempts + the handler's own span on the second attempt
        var trace = await app.WaitForSpansAsync(t => t.Route == "/orders/{id:int}", spanCount: 5);
        var root = Assert.Single(trace.Spans, s => s.ParentSpanId is null);
        Assert.Equal("GET /orders/{id:int}", root.Name);
        Assert.Equal(SpanComponents.Server, root.Component);

        var producer = Assert.Single(trace.Spans, s => s.Kind == ActivityKind.Producer);
        Assert.Equal("send orders", producer.Name);
        Assert.Equal(SpanComponents.Queue, producer.Component);
        Assert.Equal(root.SpanId, producer.ParentSpanId);
        Assert.Equal("in_process", producer.Attr("messaging.system"));
        Assert.Equal("orders", producer.Attr("messaging.destination.name"));
        Assert.Equal("send", producer.Attr("messaging.operation.type"));
        var messageId = producer.Attr("messaging.message.id");

        var attempts = trace.Spans.Where(s => s.Kind == ActivityKind.Consumer).OrderBy(s => int.Parse(s.Attr("flowscope.queue.attempt"), CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(2, attempts.Length);
        Assert.All(attempts, a =>
        {
            Assert.Equal("process orders", a.Name);
            Assert.Equal(SpanComponents.Queue, a.Component);
            Assert.Equal(producer.SpanId, a.ParentSpanId); // the envelope's context, not Activity.Current
            Assert.False(a.HasRemoteParent);
            Assert.Equal("process", a.Attr("messaging.operation.type"));
            Assert.Equal("orders", a.Attr("messaging.destination.name"));
            Assert.Equal(messageId, a.Attr("messaging.message.id"));
            Assert.True(double.Parse(a.Attr("flowscope.queue.wait_ms"), CultureInfo.InvariantCulture) >= 0);
            Assert.True(a.StartTime >= producer.StartTime);
        });

        var (first, second) = (attempts[0], attempts[1]);
        Assert.Equal("1", first.Attr("flowscope.queue.attempt"));
        Assert.Equal(ActivityStatusCode.Error, first.Status);
        Assert.Equal("Payment service unavailable for order 42 (attempt 1).", first.StatusMessage);
        Assert.Equal("retry_scheduled", first.Attr("flowscope.queue.outcome"));
        var exception = Assert.Single(first.Events, e => e.Name == "exception");
        Assert.Contains(exception.Attributes, a => a.Key == "exception.type" && a.Value == typeof(InvalidOperationException).FullName);
        Assert.Contains(exception.Attributes, a => a.Key == "exception.stacktrace" && a.Value.Contains(nameof(FlakyOrderHandler), StringComparison.Ordinal));

        Assert.Equal("2", second.Attr("flowscope.queue.attempt"));
        Assert.Equal(ActivityStatusCode.Unset, second.Status);
        Assert.Equal("ok", second.Attr("flowscope.queue.outcome"));
        Assert.True(second.StartTime >= first.EndTime);
        var handlerWork = Assert.Single(trace.Spans, s => s.Name == "charge card");
        Assert.Equal(second.SpanId, handlerWork.ParentSpanId);

        Assert.True(trace.Summary.IsError); // the failed attempt stays visible in the summary
        Assert.Contains(SpanComponents.Queue, trace.Summary.Components);

        // The same shape through the dashboard API.
        var json = await app.GetJsonAsync($"/_flowscope/api/traces/{trace.Summary.TraceId}");
        var consumers = json.GetProperty("spans").EnumerateArray().Where(s => s.GetProperty("kind").GetString() == "consumer").ToArray();
        Assert.Equal(["retry_scheduled", "ok"], consumers.Select(s => s.GetProperty("attributes").GetProperty("flowscope.queue.outcome").GetString()));
    }

    [Fact]
    public async Task A_message_that_keeps_failing_is_dead_lettered_after_its_last_attempt()
    {
        await using var app = await AsyncTestApp.StartAsync(
            queues: f => f.AddQueue<OrderPlaced, FlakyOrderHandler>("orders", o => { FastRetries(o); o.MaxAttempts = 3; }),
            map: AsyncTestApp.MapOrderEndpoint);

        await app.Client.GetAsync("/orders/7?fails=100");

        var trace = await app.WaitForSpansAsync(t => t.Route == "/orders/{id:int}", spanCount: 5);
        var attempts = trace.Spans.Where(s => s.Kind == ActivityKind.Consumer).OrderBy(s => s.Attr("flowscope.queue.attempt")).ToArray();
        Assert.Equal(["1", "2", "3"], attempts.Select(a => a.Attr("flowscope.queue.attempt")));
        Assert.Equal(["retry_scheduled", "retry_scheduled", "dead_lettered"], attempts.Select(a => a.Attr("flowscope.queue.outcome")));
        Assert.All(attempts, a => Assert.Equal(ActivityStatusCode.Error, a.Status));

        await Eventually.TrueAsync(() => Task.FromResult(app.Queue("orders").DeadLettered == 1));
        var metrics = app.Queue("orders");
        var dead = Assert.Single(metrics.DeadLetters);
        Assert.Equal(attempts[0].Attr("messaging.message.id"), dead.MessageId);
        Assert.Equal(trace.Summary.TraceId, dead.TraceId);
        Assert.Equal(3, dead.Attempts);
        Assert.Equal(typeof(InvalidOperationException).FullName, dead.ErrorType);
        Assert.Equal("Payment service unavailable for order 7 (attempt 3).", dead.Error);
        Assert.Equal(0, metrics.Succeeded);
        Assert.Equal(2, metrics.Retries);

        // The app gets the message itself back, to inspect or enqueue again.
        var queue = app.App.Services.GetRequiredService<IQueue<OrderPlaced>>();
        var letter = Assert.Single(queue.GetDeadLetters());
        Assert.Equal(new OrderPlaced(7, 100), letter.Message);
        Assert.Equal(dead.MessageId, letter.MessageId);
        Assert.Equal(3, letter.Attempts);
        Assert.IsType<InvalidOperationException>(letter.Error);
        Assert.Equal(trace.Summary.TraceId, letter.TraceContext.ActivityContext.TraceId.ToHexString());
        Assert.True(queue.TryRemoveDeadLetter(letter.MessageId));
        Assert.False(queue.TryRemoveDeadLetter(letter.MessageId));
        Assert.Empty(app.Queue("orders").DeadLetters);
        Assert.Equal(1, app.Queue("orders").DeadLettered); // the count stays
    }

    [Fact]
    public async Task The_dead_letter_list_is_bounded_and_keeps_the_newest()
    {
        await using var app = await AsyncTestApp.StartAsync(
            queues: f => f.AddQueue<OrderPlaced, FlakyOrderHandler>("orders", o => { o.MaxAttempts = 1; o.DeadLetterCapacity = 2; }));
        var queue = app.App.Services.GetRequiredService<IQueue<OrderPlaced>>();

        for (var i = 1; i <= 4; i++)
        {
            await queue.EnqueueAsync(new OrderPlaced(i, 1));
        }

        await Eventually.TrueAsync(() => Task.FromResult(app.Queue("orders").DeadLettered == 4));
        Assert.Equal([3, 4], queue.GetDeadLetters().Select(d => d.Message.Id));
        Assert.Equal(2, app.Queue("orders").DeadLetters.Count);
        Assert.Equal(0, app.Queue("orders").Retries); // one attempt only: straight to the dead letters
    }

    [Fact]
    public async Task Queue_metrics_count_the_traffic_exactly()
    {
        await using var app = await AsyncTestApp.StartAsync(
            queues: f => f.AddQueue<OrderPlaced, FlakyOrderHandler>("orders", o => { FastRetries(o); o.MaxAttempts = 3; o.HandlerConcurrency = 2; }));
        var queue = app.App.Services.GetRequiredService<IQueue<OrderPlaced>>();

        for (var i = 0; i < 5; i++)
        {
            Assert.True(queue.TryEnqueue(new OrderPlaced(i, 0)));
        }

        await queue.EnqueueAsync(new OrderPlaced(10, 1));
        await queue.EnqueueAsync(new OrderPlaced(11, 1));
        await queue.EnqueueAsync(new OrderPlaced(12, 99));

        await Eventually.TrueAsync(() => Task.FromResult(app.Queue("orders") is { Succeeded: 7, DeadLettered: 1, InFlight: 0, PendingRetries: 0 }), because: "all messages settle");
        var metrics = app.Queue("orders");
        Assert.Equal(8, metrics.Enqueued);
        Assert.Equal(5 + (2 * 2) + 3, metrics.Dequeued);
        Assert.Equal(2 + 2, metrics.Retries);
        Assert.Equal(0, metrics.Depth);
        Assert.Equal(0, metrics.Rejected);
        Assert.Equal(QueueOptions.DefaultCapacity, metrics.Capacity);
        Assert.Equal(nameof(OrderPlaced), metrics.MessageType);
        Assert.True(metrics.EnqueueRatePerSecond > 0, "enqueue rate");
        Assert.True(metrics.DequeueRatePerSecond >= metrics.EnqueueRatePerSecond, "every message was dequeued at least once in the window");
        Assert.True(metrics.WaitP95Ms >= metrics.WaitP50Ms && metrics.WaitP50Ms >= 0);

        // The same numbers on the FlowScope.Queues meter, for apps that export metrics.
        var measured = new Dictionary<string, long>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "FlowScope.Queues")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            if (tags.ToArray().Contains(new KeyValuePair<string, object?>("messaging.destination.name", "orders")))
            {
                measured[instrument.Name] = value;
            }
        });
        listener.Start();
        listener.RecordObservableInstruments();
        Assert.Equal(8, measured["flowscope.queue.enqueued"]);
        Assert.Equal(12, measured["flowscope.queue.dequeued"]);
        Assert.Equal(4, measured["flowscope.queue.retries"]);
        Assert.Equal(1, measured["flowscope.queue.dead_lettered"]);
        Assert.Equal(0, measured["flowscope.queue.depth"]);
    }

    [Fact]
    public async Task A_full_queue_refuses_and_counts_and_EnqueueAsync_follows_the_full_mode()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var app = await AsyncTestApp.StartAsync(
            queues: f => f
                .AddQueue<OrderPlaced, GatedHandler>("strict", o => { o.Capacity = 2; o.FullMode = QueueFullMode.Throw; })
                .AddQueue<DigestRequested, GatedDigestHandler>("patient", o => { o.Capacity = 1; o.FullMode = QueueFullMode.Wait; }),
            configureBuilder: b => b.Services.AddSingleton(gate));
        var strict = app.App.Services.GetRequiredService<IQueue<OrderPlaced>>();
        var patient = app.App.Services.GetRequiredService<IQueue<DigestRequested>>();

        Assert.True(strict.TryEnqueue(new OrderPlaced(1, 0)));
        await Eventually.TrueAsync(() => Task.FromResult(app.Queue("strict").InFlight == 1), because: "the first message is being handled");
        Assert.True(strict.TryEnqueue(new OrderPlaced(2, 0)));
        Assert.True(strict.TryEnqueue(new OrderPlaced(3, 0)));
        Assert.Equal(2, strict.Count);
        Assert.False(strict.TryEnqueue(new OrderPlaced(4, 0)));
        await Assert.ThrowsAsync<QueueFullException>(() => strict.EnqueueAsync(new OrderPlaced(5, 0)).AsTask());

        Assert.True(patient.TryEnqueue(new DigestRequested("a")));
        await Eventually.TrueAsync(() => Task.FromResult(app.Queue("patient").InFlight == 1));
        Assert.True(patient.TryEnqueue(new DigestRequested("b")));
        var waiting = patient.EnqueueAsync(new DigestRequested("c")).AsTask();
        Assert.False(waiting.IsCompleted); // waits for room instead of failing

        gate.SetResult();
        await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        await Eventually.TrueAsync(() => Task.FromResult(app.Queue("strict").Succeeded == 3 && app.Queue("patient").Succeeded == 3));
        Assert.Equal(2, app.Queue("strict").Rejected);
        Assert.Equal(3, app.Queue("strict").Enqueued);
        Assert.Equal(0, app.Queue("patient").Rejected);

        // A refused enqueue is a failed producer span.
        var refused = await app.WaitForTraceAsync(t => t.Name == "send strict" && t.IsError);
        Assert.Equal("The queue is full.", (await app.TraceAsync(refused.TraceId)).Spans.Single().StatusMessage);
    }

    [Fact]
    public async Task Queues_keep_working_when_FlowScope_is_disabled()
    {
        await using var app = await AsyncTestApp.StartAsync(
            queues: f => f.AddQueue<OrderPlaced, FlakyOrderHandler>("orders", FastRetries),
            configuration: new() { ["FlowScope:Enabled"] = "false" });

        Assert.True(app.App.Services.GetRequiredService<IQueue<OrderPlaced>>().TryEnqueue(new OrderPlaced(1, 1)));

        await Eventually.TrueAsync(() => Task.FromResult(app.Queue("orders").Succeeded == 1));
        Assert.Equal(1, app.Queue("orders").Retries);
        Assert.Equal(0, app.Store.GetStats().StoredSpans);
    }

    [Fact]
    public async Task Queue_options_come_from_configuration_and_bad_values_stop_the_host_naming_the_key()
    {
        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => AsyncTestApp.StartAsync(
            queues: f => f.AddQueue<OrderPlaced, FlakyOrderHandler>("orders"),
            configuration: new() { ["FlowScope:Queues:orders:MaxAttempts"] = "0" }));
        Assert.Contains("FlowScope:Queues:orders:MaxAttempts", error.Message, StringComparison.Ordinal);

        await using var app = await AsyncTestApp.StartAsync(
            queues: f => f.AddQueue<OrderPlaced, FlakyOrderHandler>("orders"),
            configuration: new() { ["FlowScope:Queues:orders:Capacity"] = "17" });
        Assert.Equal(17, app.Queue("orders").Capacity);

        var services = new ServiceCollection();
        var builder = services.AddFlowScope().AddQueue<OrderPlaced, FlakyOrderHandler>("orders");
        Assert.Throws<ArgumentException>(() => builder.AddQueue<OrderPlaced, FlakyOrderHandler>("orders"));
    }

    internal sealed class GatedHandler(TaskCompletionSource gate) : IQueueHandler<OrderPlaced>
    {
        public Task HandleAsync(OrderPlaced message, QueueMessageContext context, CancellationToken cancellationToken) => gate.Task;
    }

    internal sealed class GatedDigestHandler(TaskCompletionSource gate) : IQueueHandler<DigestRequested>
    {
        public Task HandleAsync(DigestRequested message, QueueMessageContext context, CancellationToken cancellationToken) => gate.Task;
    }
}
