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

    // The in-memory store keeps a request's stages compactly with the request record; any other store (Redis)
    // gets every stage as a record of its own, as before.
    private readonly bool _compactStages;
    private readonly TimeSpan _batchDelay;
    private readonly List<Activity> _activities = new(MaxBatchSize);
    private readonly List<SpanRecord> _records = new(MaxBatchSize);
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
        _compactStages = store is InMemoryTraceStore;
        _signal = signal;
        _counters = counters;
        _logger = logger;
    }

    /// <summary>Gets how many spans the pump has finished with (stored or counted as failed).</summary>
    public long Processed => Interlocked.Read(ref _processed);

    public async Task RunAsync(CancellationToken stoppingToken)
    {
        // Nothing FlowScope does from here on is captured (store I/O included).
        CaptureSuppression.SuppressCurrentFlow();
        Activity.Current = null;
        try
        {
            while (await _buffer.WaitToReadAsync(stoppingToken).ConfigureAwait(false))
            {
                await DrainAsync(CancellationToken.None).ConfigureAwait(false);

                // Let the next spans gather, unless the buffer is filling up: batching must never cause drops.
                if (_batchDelay > TimeSpan.Zero && _buffer.Count < _buffer.Capacity / 4)
                {
                    await Task.Delay(_batchDelay, stoppingToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        // Shutting down: store what is still waiting.
        await DrainAsync(CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>Moves everything currently in the buffer into the store. Returns the number of spans taken.</summary>
    internal async Task<int> DrainAsync(CancellationToken cancellationToken)
    {
        var total = 0;
        while (_buffer.Drain(_activities, MaxBatchSize) > 0)
        {
            var batch = _activities.Count;
            total += batch;
            foreach (var activity in _activities)
            {
                try
                {
                    _converter.Convert(activity, _records, _compactStages);
                }
                catch (Exception ex)
                {
                    _counters.AddFailed(1);
                    if (!_loggedConversionFailure)
                    {
                        _loggedConversionFailure = true;
                        Log.ConversionFailed(_logger, ex, activity.Source.Name);
                    }
                }
            }

            _activities.Clear();
            try
            {
                await _store.AddAsync(_records, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                _counters.AddFailed(_records.Count);
                if (!_loggedStoreFailure)
                {
                    _loggedStoreFailure = true;
                    Log.StoreFailed(_logger, ex, _records.Count);
                }
            }

            foreach (var observer in _observers)
            {
                try
                {
                    observer.Observe(_records);
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

            _records.Clear();
            Interlocked.Add(ref _processed, batch);
            _signal.Notify();
        }

        return total;
    }
}
