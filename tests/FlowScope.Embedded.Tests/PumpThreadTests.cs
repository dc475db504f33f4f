using System.Diagnostics;
using FlowScope.Embedded.Buffering;
using FlowScope.Embedded.Capture;
using FlowScope.Embedded.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace FlowScope.Embedded.Tests;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ThreadPoolStarvationGroup
{
    public const string Name = "Starves the thread pool (runs alone)";
}

/// <summary>
/// An app whose thread pool is starved is exactly what a user may be debugging: recording must go on while it is.
/// The pump waits for spans and between batches on a thread of its own, never through the pool.
/// </summary>
[Collection(ThreadPoolStarvationGroup.Name)]
public sealed class PumpThreadTests
{
    [Fact]
    public async Task Spans_are_stored_while_every_thread_pool_thread_is_blocked()
    {
        var options = new FlowScopeOptions();
        var buffer = new SpanBuffer(options.BufferCapacity);
        var store = TestSpans.NewStore(options);
        var pump = new SpanPump(buffer, new SpanConverter(options, "test"), store, new LiveSignal(), new PumpCounters(), NullLogger.Instance);
        using var stop = new CancellationTokenSource();
        var pumping = pump.RunAsync(stop.Token);

        var name = "Test.Starved." + Guid.NewGuid().ToString("N");
        using var capture = new ActivityCapture(buffer, new ActivitySourceFilter([name]));
        capture.Start();
        using var source = new ActivitySource(name);

        ThreadPool.GetMaxThreads(out var maxWorkers, out var maxIo);
        ThreadPool.GetMinThreads(out var minWorkers, out _);
        // Never disposed: queued items still wait on it after the test. (Blocking on a task instead would let the pool
        // see the block and work around it.)
        var release = new ManualResetEventSlim();
        long processedWhileStarved;
        try
        {
            // No more pool threads than the minimum, and each of them blocked.
            Assert.True(ThreadPool.SetMaxThreads(minWorkers, maxIo));
            for (var i = 0; i < 256; i++)
            {
                ThreadPool.UnsafeQueueUserWorkItem(_ => release.Wait(), null);
            }

            // More work queued than the pool's threads can take (the test's own thread is one of them): starved.
            Assert.True(ThreadPool.PendingWorkItemCount > 0, "the thread pool is not starved");

            for (var i = 0; i < 20; i++)
            {
                source.StartActivity("while starved " + i)!.Stop();
            }

            // Not Eventually.TrueAsync: its awaits would need the very pool that is blocked.
            SpinWait.SpinUntil(() => pump.Processed == 20, TimeSpan.FromSeconds(10));
            processedWhileStarved = pump.Processed;
            Assert.True(ThreadPool.PendingWorkItemCount > 0, "the thread pool was no longer starved when the spans were stored");
        }
        finally
        {
            release.Set();
            ThreadPool.SetMaxThreads(maxWorkers, maxIo);
        }

        Assert.Equal(20, processedWhileStarved);
        Assert.Equal(20, store.GetStats().StoredSpans);
        await stop.CancelAsync();
        await pumping.WaitAsync(TimeSpan.FromSeconds(30));
    }
}
