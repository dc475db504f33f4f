using System.Diagnostics;
using FlowScope.Embedded.Capture;
using FlowScope.Embedded.Diagnostics;
using FlowScope.Embedded.Storage;
using Microsoft.Extensions.Logging;

namespace FlowScope.Embedded.Buffering;

/// <summary>
/// The single reader of the span buffer: drains it in batches, converts activities to span records, adds them to
/// the store and wakes live subscribers. Every failure is contained, counted and logged once.
/// </summary>
internal sealed class SpanPump
{
    internal const int MaxBatchSize = 1_024;

    /// <summary>
    /// How long spans gather in the buffer after a drain before the pump looks again. Without it a busy app woke the
    /// pump for nearly every request (a thread-pool dispatch, the store's and observers' locks and a live-stream
    /// notification per wake-up, on the same cores as the requests). Well under the dashboard's live-update interval.
    /// </summary>
    internal static readonly TimeSpan DefaultBatchDelay = TimeSpan.FromMilliseconds(10);

    private readonly SpanBuffer _buffer;
    private readonly SpanConverter _converter;
    private readonly ITraceStore _store;
    private readonly LiveSignal _signal;
    private readonly PumpCounters _counters;
    private readonly ILogger _logger;
    private readonly ISpanBatchObserver[] _observers;

    private readonly TimeSpan _batchDelay;
    private readonly List<Activity> _activities = new(MaxBatchSize);
    private readonly SpanBatch _batch = new();
    private long _processed;
    private bool _loggedConversionFailure;
    private bool _loggedStoreFailure;
    private bool _loggedObserverFailure;

    public SpanPump(SpanBuffer buffer, SpanConverter converter, ITraceStore store, LiveSignal signal, PumpCounters counters, ILogger logger, IEnumerable<ISpanBatchObserver>? observers = null, TimeSpan? batchDelay = null)
    {
        _batchDelay = batchDelay ?? DefaultBatchDelay;
        _observers = observers?.ToArray() ?? [];
        _buffer = buffer;
        _converter = converter;
        _store = store;
        _signal = signal;
        _counters = counters;
        _logger = logger;
    }

    /// <summary>Gets how many spans the pump has finished with (stored or counted as failed).</summary>
    public long Processed => Interlocked.Read(ref _processed);

    /// <summary>
    /// Runs the pump on a thread of its own until <paramref name="stoppingToken"/> is cancelled or the buffer is
    /// completed, then stores what is still waiting. The returned task completes when the pump has stopped.
    /// </summary>
    /// <remarks>
    /// A dedicated thread, not the thread pool: between batches it sleeps in the kernel. A pool thread woken for each
    /// batch spun for a while after it (the pool's wait for more work) on the cores that serve the app's requests.
    /// </remarks>
    public Task RunAsync(CancellationToken stoppingToken)
    {
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                Run(stoppingToken);
                stopped.TrySetResult();
            }
            catch (Exception ex)
            {
                // Never let an exception escape a thread of FlowScope's own: it would end the app's process.
                stopped.TrySetException(ex);
            }
        })
        {
            IsBackground = true,
            Name = "FlowScope pump",
        };

        // No execution context from the starter (its Activity.Current, its async locals) flows into the pump.
        thread.UnsafeStart();
        return stopped.Task;
    }

    private void Run(CancellationToken stoppingToken)
    {
        // Nothing FlowScope does from here on is captured (store I/O included).
        CaptureSuppression.SuppressCurrentFlow();
        Activity.Current = null;
        using var wakeOnStop = stoppingToken.UnsafeRegister(static buffer => ((SpanBuffer)buffer!).WakeReader(), _buffer);
        try
        {
            while (_buffer.WaitToRead(stoppingToken))
            {
                Drain();

                // Let the next spans gather, unless the buffer is filling up: batching must never cause drops.
                if (_batchDelay > TimeSpan.Zero && _buffer.Count < _buffer.Capacity / 4
                    && stoppingToken.WaitHandle.WaitOne(_batchDelay))
                {
                    break; // stopping
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        // Shutting down: store what is still waiting.
        Drain();
    }

    /// <summary>Moves everything currently in the buffer into the store. Returns the number of activities taken.</summary>
    internal int Drain()
    {
        var total = 0;
        while (_buffer.Drain(_activities, MaxBatchSize) > 0)
        {
            var batch = _activities.Count;
            total += batch;
            long unconverted = 0;
            foreach (var activity in _activities)
            {
                try
                {
                    _converter.Convert(activity, _batch);
                }
                catch (Exception ex)
                {
                    unconverted += SpanBuffer.SpanCountOf(activity);
                    if (!_loggedConversionFailure)
                    {
                        _loggedConversionFailure = true;
                        Log.ConversionFailed(_logger, ex, activity.Source.Name);
                    }
                }
            }

            _activities.Clear();
            lock (_counters.Gate)
            {
                _counters.AddCaptured(_batch.SpanCount + unconverted);
                _counters.AddFailed(unconverted);
                try
                {
                    // The stores FlowScope ships complete at once (AsTask is then free); another store's pending add is
                    // waited for here, on the pump's own thread.
                    _store.AddAsync(_batch, CancellationToken.None).AsTask().GetAwaiter().GetResult();
                }
                catch (Exception ex)
                {
                    _counters.AddFailed(_batch.SpanCount);
                    if (!_loggedStoreFailure)
                    {
                        _loggedStoreFailure = true;
                        Log.StoreFailed(_logger, ex, _batch.SpanCount);
                    }
                }
            }

            foreach (var observer in _observers)
            {
                try
                {
                    observer.Observe(_batch);
                }
                catch (Exception ex)
                {
                    if (!_loggedObserverFailure)
                    {
                        _loggedObserverFailure = true;
                        Log.ObserverFailed(_logger, ex, observer.GetType().Name);
                    }
                }
            }

            _batch.Clear();
            Interlocked.Add(ref _processed, batch);
            _signal.Notify();
        }

        return total;
    }
}
