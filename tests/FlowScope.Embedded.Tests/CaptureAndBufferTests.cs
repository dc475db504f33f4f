using System.Diagnostics;
using FlowScope.Embedded.Buffering;
using FlowScope.Embedded.Capture;
using FlowScope.Embedded.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace FlowScope.Embedded.Tests;

public sealed class CaptureAndBufferTests
{
    private static (ActivitySource Source, ActivityCapture Capture) StartCapture(SpanBuffer buffer)
    {
        var name = "Test.Capture." + Guid.NewGuid().ToString("N");
        var capture = new ActivityCapture(buffer, new ActivitySourceFilter([name]));
        capture.Start();
        return (new ActivitySource(name), capture);
    }

    [Fact]
    public void A_full_buffer_drops_instead_of_blocking_and_counts_every_drop()
    {
        var buffer = new SpanBuffer(capacity: 16);
        var (source, capture) = StartCapture(buffer);
        using (source)
        using (capture)
        {
            for (var i = 0; i < 100; i++)
            {
                source.StartActivity("work")!.Stop();
            }
        }

        Assert.Equal(16, buffer.Count);
        Assert.Equal(84, buffer.Dropped);
    }

    [Fact]
    public async Task Every_produced_span_is_either_stored_or_counted_as_dropped()
    {
        var options = new FlowScopeOptions { BufferCapacity = 64, MaxTraces = 100_000 };
        var buffer = new SpanBuffer(options.BufferCapacity);
        var store = TestSpans.NewStore(options);
        var counters = new PumpCounters();
        var pump = new SpanPump(buffer, new SpanConverter(options, "test"), store, new LiveSignal(), counters, NullLogger.Instance);
        using var stop = new CancellationTokenSource();
        var pumping = pump.RunAsync(stop.Token);

        const int Produced = 20_000;
        var (source, capture) = StartCapture(buffer);
        using (source)
        using (capture)
        {
            // Two producers race the pump so that some spans are dropped and most are not.
            await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
            {
                for (var i = 0; i < Produced / 2; i++)
                {
                    source.StartActivity("work")!.Stop();
                }
            })));
        }

        await Eventually.TrueAsync(() => buffer.Count == 0 && pump.Processed == buffer.Accepted);
        await stop.CancelAsync();
        buffer.Complete();
        await pumping;

        var stats = store.GetStats();
        Assert.Equal(0, counters.Failed);
        Assert.Equal(Produced, stats.StoredSpans + buffer.Dropped);
        Assert.Equal(buffer.Accepted, stats.StoredSpans);
        var totals = counters.Read(buffer, store);
        Assert.Equal(Produced, totals.Captured);
        Assert.Equal(totals.Captured, totals.Store.StoredSpans + totals.Dropped + totals.Store.RejectedSpans + totals.Store.EvictedSpans + totals.Failed);
    }

    [Fact]
    public async Task The_pump_runs_on_its_own_thread_and_waits_for_a_store_that_completes_later()
    {
        var options = new FlowScopeOptions();
        var buffer = new SpanBuffer(options.BufferCapacity);
        var store = new SlowStore(TestSpans.NewStore(options));
        var counters = new PumpCounters();
        var pump = new SpanPump(buffer, new SpanConverter(options, "test"), store, new LiveSignal(), counters, NullLogger.Instance);
        using var stop = new CancellationTokenSource();
        var pumping = pump.RunAsync(stop.Token);

        var (source, capture) = StartCapture(buffer);
        using (source)
        using (capture)
        {
            for (var i = 0; i < 50; i++)
            {
                source.StartActivity("work " + i)!.Stop();
            }

            // The pump is already waiting for the next span (no batch is pending): this one wakes it.
            await Eventually.TrueAsync(() => pump.Processed == 50);
            source.StartActivity("late")!.Stop();
            await Eventually.TrueAsync(() => pump.Processed == 51);
        }

        await stop.CancelAsync();
        await pumping.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(0, counters.Failed);
        Assert.Equal(51, store.GetStats().StoredSpans);
        Assert.All(store.Threads, thread => Assert.Equal((false, "FlowScope pump"), thread));
    }

    /// <summary>A store whose adds complete later, on another thread; notes which thread each add came from.</summary>
    private sealed class SlowStore(InMemoryTraceStore inner) : ITraceStore
    {
        public List<(bool IsThreadPoolThread, string? Name)> Threads { get; } = [];

        public async ValueTask AddAsync(SpanBatch batch, CancellationToken cancellationToken = default)
        {
            lock (Threads)
            {
                Threads.Add((Thread.CurrentThread.IsThreadPoolThread, Thread.CurrentThread.Name));
            }

            // The pump reuses its batch once this add completes: keep a copy.
            var serialized = new System.Buffers.ArrayBufferWriter<byte>();
            batch.WriteTo(serialized);
            var copy = SpanBatch.Read(serialized.WrittenSpan);
            await Task.Yield();
            await inner.AddAsync(copy, cancellationToken);
        }

        public ValueTask<TracePage> QueryAsync(TraceQuery query, CancellationToken cancellationToken = default) => inner.QueryAsync(query, cancellationToken);

        public ValueTask<TraceDetail?> GetTraceAsync(string traceId, CancellationToken cancellationToken = default) => inner.GetTraceAsync(traceId, cancellationToken);

        public ValueTask<TraceChanges> GetChangesAsync(long afterVersion, int maxCount, CancellationToken cancellationToken = default) => inner.GetChangesAsync(afterVersion, maxCount, cancellationToken);

        public TraceStoreStats GetStats() => inner.GetStats();
    }

    [Fact]
    public void Activities_from_unlisted_sources_and_ignored_requests_are_not_captured()
    {
        var buffer = new SpanBuffer(capacity: 16);
        var (source, capture) = StartCapture(buffer);
        using var other = new ActivitySource("Some.Other.Source." + Guid.NewGuid().ToString("N"));
        using (source)
        using (capture)
        {
            Assert.Null(other.StartActivity("not listened to"));

            var ignored = source.StartActivity("dashboard request")!;
            HttpRequestInfo.MarkIgnored(ignored);
            ignored.Stop();

            CaptureSuppression.SuppressCurrentFlow();
            Assert.Null(source.StartActivity("inside FlowScope's own work"));
        }

        Assert.Equal(0, buffer.Count);
    }

    [Fact]
    public void Capture_never_marks_activities_as_recorded()
    {
        var buffer = new SpanBuffer(capacity: 16);
        var (source, capture) = StartCapture(buffer);
        using (source)
        using (capture)
        {
            using var activity = source.StartActivity("work")!;
            Assert.True(activity.IsAllDataRequested);
            Assert.False(activity.Recorded);
            Assert.Equal(ActivityTraceFlags.None, activity.ActivityTraceFlags);
        }
    }
}
