using System.Diagnostics;
using System.Threading.Channels;
using FlowScope.Embedded.Faults;
using FlowScope.Embedded.Workers.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FlowScope.Embedded.Queues.Internal;

/// <summary>
/// An in-process queue on a bounded <see cref="Channel{T}"/>: enqueue records a producer span and stores its context
/// in the envelope; <see cref="QueueOptions.HandlerConcurrency"/> reader loops handle messages, each attempt in its
/// own consumer span whose parent is that producer span, with retries after a jittered backoff and a bounded
/// dead-letter list.
/// </summary>
internal sealed class InProcessQueue<TMessage> : IQueue<TMessage>, IQueueRuntime, IDisposable
{
    private readonly Channel<Envelope> _channel;
    private readonly QueueOptions _options;
    private readonly IServiceScopeFactory _scopes;
    private readonly Func<IServiceProvider, IQueueHandler<TMessage>> _resolveHandler;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly QueueMetrics _metrics;
    private readonly FaultInjector? _faults;
    private readonly CancellationTokenSource _stopping = new();
    private bool _disposed;
    private readonly CancellationTokenSource _abort = new();
    private readonly Lock _deadLock = new();
    private readonly List<QueueDeadLetter<TMessage>> _deadLetters = [];
    private Task[] _loops = [];
    private int _fullLogged;
    private volatile bool _stopped;

    public InProcessQueue(
        string name,
        QueueOptions options,
        IServiceScopeFactory scopes,
        Func<IServiceProvider, IQueueHandler<TMessage>> resolveHandler,
        TimeProvider time,
        ILogger logger,
        FaultInjector? faults = null)
    {
        _faults = faults is { Enabled: true } ? faults : null;
        Name = name;
        _sendName = QueueTracing.SendName(name);
        _processName = QueueTracing.ProcessName(name);
        _options = options;
        _scopes = scopes;
        _resolveHandler = resolveHandler;
        _time = time;
        _logger = logger;
        _metrics = new QueueMetrics();
        _channel = Channel.CreateBounded<Envelope>(new BoundedChannelOptions(options.Capacity)
        {
            FullMode = BoundedChannelFullMode.Wait, // TryWrite fails fast when full; WriteAsync waits
            SingleReader = options.HandlerConcurrency == 1,
            SingleWriter = false,
            AllowSynchronousContinuations = false,
        });
    }

    public string Name { get; }

    // The span names of this queue's messages, made once.
    private readonly string _sendName;
    private readonly string _processName;

    public int Count => _channel.Reader.Count;

    internal QueueMetrics Metrics => _metrics;

    public bool TryEnqueue(TMessage message)
    {
        if (_stopped)
        {
            _metrics.Rejected();
            return false;
        }

        var now = _time.GetUtcNow();
        var id = NewMessageId();
        using var send = QueueTracing.StartSendCore(MessagingAttributes.InProcessSystem, Name, _sendName, id, now);
        if (Write(NewEnvelope(message, id, send, now), now))
        {
            return true;
        }

        Refuse(send);
        return false;
    }

    public async ValueTask EnqueueAsync(TMessage message, CancellationToken cancellationToken = default)
    {
        if (_stopped)
        {
            _metrics.Rejected();
            throw StoppedException();
        }

        var now = _time.GetUtcNow();
        var id = NewMessageId();
        using var send = QueueTracing.StartSendCore(MessagingAttributes.InProcessSystem, Name, _sendName, id, now);
        var envelope = NewEnvelope(message, id, send, now);
        if (Write(envelope, now))
        {
            return;
        }

        if (_options.FullMode == QueueFullMode.Throw)
        {
            Refuse(send);
            throw new QueueFullException($"The queue '{Name}' is full (capacity {_options.Capacity}).");
        }

        try
        {
            await _channel.Writer.WriteAsync(envelope, cancellationToken).ConfigureAwait(false);
            _metrics.Enqueued(_time.GetUtcNow());
        }
        catch (ChannelClosedException)
        {
            Refuse(send);
            throw StoppedException();
        }
        catch (OperationCanceledException ex)
        {
            send.Fail(ex);
            throw;
        }
    }

    private bool Write(Envelope envelope, DateTimeOffset now)
    {
        if (!_channel.Writer.TryWrite(envelope))
        {
            return false;
        }

        _metrics.Enqueued(now);
        return true;
    }

    private void Refuse(QueueSendScope send)
    {
        _metrics.Rejected();
        try
        {
            send.Activity?.SetStatus(ActivityStatusCode.Error, _stopped ? "The queue is stopped." : "The queue is full.");
        }
        catch (Exception ex)
        {
            InstrumentationFailures.Report("queue", ex);
        }

        if (!_stopped && Interlocked.Exchange(ref _fullLogged, 1) == 0)
        {
            AsyncInstrumentationLog.QueueFull(_logger, Name, _options.Capacity);
        }
    }

    private InvalidOperationException StoppedException() => new($"The queue '{Name}' has stopped: the host is shutting down.");

    private static string NewMessageId() => MessageIds.Next();

    private static Envelope NewEnvelope(TMessage message, string id, QueueSendScope send, DateTimeOffset now)
    {
        // The parent of every attempt: the producer span, or whatever was current when nobody recorded one.
        var parent = send.Activity?.Context ?? Activity.Current?.Context ?? default;
        return new Envelope(message, id, send.Context, now) { Parent = parent, ReadyAt = now };
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var loops = new Task[_options.HandlerConcurrency];
        for (var i = 0; i < loops.Length; i++)
        {
            loops[i] = Task.Run(ReadLoopAsync, CancellationToken.None);
        }

        _loops = loops;
        return Task.CompletedTask;
    }

    private async Task ReadLoopAsync()
    {
        // A long-running loop: no ambient activity; each message brings its own context.
        Activity.Current = null;
        var reader = _channel.Reader;
        try
        {
            while (await reader.WaitToReadAsync(_stopping.Token).ConfigureAwait(false))
            {
                while (!_stopping.IsCancellationRequested && reader.TryRead(out var envelope))
                {
                    await ProcessAsync(envelope).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
    }

    internal async Task ProcessAsync(Envelope envelope)
    {
        var now = _time.GetUtcNow();
        var wait = now - envelope.ReadyAt;
        if (wait < TimeSpan.Zero)
        {
            wait = TimeSpan.Zero;
        }

        _metrics.Dequeued(now, wait);
        using var scope = QueueTracing.StartProcessCore(MessagingAttributes.InProcessSystem, Name, _processName, envelope.Parent, envelope.MessageId, envelope.Attempt, wait);
        if (envelope.Parent == default && scope.Activity is { } first)
        {
            envelope.Parent = first.Context; // later attempts join the first attempt's trace
        }

        try
        {
            if (_faults is { IsActive: true } && _faults.TryHit(FaultKind.Queue, Name) is { } fault)
            {
                await InjectAsync(fault, scope.Activity).ConfigureAwait(false);
            }

            var services = _scopes.CreateAsyncScope();
            await using (services.ConfigureAwait(false))
            {
                var handler = _resolveHandler(services.ServiceProvider);
                var context = new QueueMessageContext(Name, envelope.MessageId, envelope.Attempt, _options.MaxAttempts, envelope.EnqueuedAt, envelope.TraceContext);
                await handler.HandleAsync(envelope.Message, context, _abort.Token).ConfigureAwait(false);
            }

            scope.Complete();
            _metrics.Succeeded();
        }
        catch (Exception ex) when (_abort.IsCancellationRequested || (_stopping.IsCancellationRequested && envelope.Attempt < _options.MaxAttempts))
        {
            // Shutting down: a retry could not run any more, and the message is not the handler's fault to bury.
            scope.Fail(ex, QueueOutcome.Abandoned);
            _metrics.Abandoned();
        }
        catch (Exception ex) when (envelope.Attempt < _options.MaxAttempts)
        {
            var delay = Backoff.Compute(envelope.Attempt, _options.BackoffBase, _options.BackoffMax, Random.Shared.NextDouble());
            scope.Fail(ex, QueueOutcome.RetryScheduled);
            _metrics.RetryScheduled();
            AsyncInstrumentationLog.RetryScheduled(_logger, ex, Name, envelope.MessageId, envelope.Attempt, _options.MaxAttempts, Math.Round(delay.TotalMilliseconds, 1));
            envelope.Attempt++;
            _ = RetryLaterAsync(envelope, delay);
        }
        catch (Exception ex)
        {
            scope.Fail(ex, QueueOutcome.DeadLettered);
            _metrics.DeadLettered();
            KeepDeadLetter(new QueueDeadLetter<TMessage>(envelope.Message, envelope.MessageId, envelope.Attempt, envelope.EnqueuedAt, _time.GetUtcNow(), ex, envelope.TraceContext));
            AsyncInstrumentationLog.DeadLettered(_logger, ex, Name, envelope.MessageId, envelope.Attempt);
        }
    }

    /// <summary>An operator's injected delay and failure, before the handler runs: failures take the retry path.</summary>
    private async Task InjectAsync(FaultHit fault, Activity? attempt)
    {
        fault.Mark(attempt, _time.GetUtcNow());
        if (fault.Delay > TimeSpan.Zero)
        {
            await InjectedDelay.WaitAsync(fault.Delay, _time, _abort.Token).ConfigureAwait(false);
        }

        if (fault.Fail)
        {
            throw fault.CreateException();
        }
    }

    private async Task RetryLaterAsync(Envelope envelope, TimeSpan delay)
    {
        // Not the failed attempt's activity: the next attempt gets its parent from the envelope.
        Activity.Current = null;

        // Counted as pending once the delay's timer exists, so whoever sees the count can move the clock past it.
        var delayed = Task.Delay(delay, _time, _stopping.Token);
        _metrics.RetryPending();
        try
        {
            await delayed.ConfigureAwait(false);
            envelope.ReadyAt = _time.GetUtcNow();
            await _channel.Writer.WriteAsync(envelope, _stopping.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ChannelClosedException)
        {
            // The host is stopping; in-memory messages end with the process.
        }
        finally
        {
            _metrics.RetryReleased();
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // StopAsync can come after the services were disposed (seen with WebApplicationFactory on a minimal-hosting
        // app, whose Run() also stops the host): nothing is left to stop, and the app's shutdown must not fail.
        if (Volatile.Read(ref _disposed))
        {
            return;
        }

        _stopped = true;
        _channel.Writer.TryComplete();
        await _stopping.CancelAsync().ConfigureAwait(false);
        using (cancellationToken.Register(static state => ((CancellationTokenSource)state!).Cancel(), _abort))
        {
            try
            {
                await Task.WhenAll(_loops).WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
            }
        }

        var remaining = _channel.Reader.Count;
        if (remaining > 0)
        {
            AsyncInstrumentationLog.StoppedWithMessages(_logger, Name, remaining);
        }
    }

    private void KeepDeadLetter(QueueDeadLetter<TMessage> deadLetter)
    {
        if (_options.DeadLetterCapacity == 0)
        {
            return;
        }

        lock (_deadLock)
        {
            if (_deadLetters.Count >= _options.DeadLetterCapacity)
            {
                _deadLetters.RemoveAt(0);
            }

            _deadLetters.Add(deadLetter);
        }
    }

    public IReadOnlyList<QueueDeadLetter<TMessage>> GetDeadLetters()
    {
        lock (_deadLock)
        {
            return [.. _deadLetters];
        }
    }

    public bool TryRemoveDeadLetter(string messageId)
    {
        lock (_deadLock)
        {
            var index = _deadLetters.FindIndex(d => string.Equals(d.MessageId, messageId, StringComparison.Ordinal));
            if (index < 0)
            {
                return false;
            }

            _deadLetters.RemoveAt(index);
            return true;
        }
    }

    public QueueMetricsSnapshot Snapshot()
    {
        var kept = GetDeadLetters();
        var deadLetters = new DeadLetterSnapshot[kept.Count];
        for (var i = 0; i < kept.Count; i++)
        {
            var d = kept[kept.Count - 1 - i]; // newest first
            var traceId = d.TraceContext.ActivityContext.TraceId;
            deadLetters[i] = new DeadLetterSnapshot(
                d.MessageId,
                traceId == default ? null : traceId.ToHexString(),
                d.Attempts,
                d.EnqueuedAt,
                d.DeadLetteredAt,
                d.Error.GetType().FullName ?? d.Error.GetType().Name,
                d.Error.Message.Length <= QueueMetrics.MaxErrorLength ? d.Error.Message : d.Error.Message[..QueueMetrics.MaxErrorLength]);
        }

        return _metrics.Snapshot(Name, typeof(TMessage).Name, _channel.Reader.Count, _options.Capacity, _time.GetUtcNow(), deadLetters);
    }

    public void Dispose()
    {
        Volatile.Write(ref _disposed, true);
        _stopping.Dispose();
        _abort.Dispose();
    }

    internal sealed class Envelope(TMessage message, string messageId, QueueTraceContext traceContext, DateTimeOffset enqueuedAt)
    {
        public TMessage Message { get; } = message;

        public string MessageId { get; } = messageId;

        public QueueTraceContext TraceContext { get; } = traceContext;

        public DateTimeOffset EnqueuedAt { get; } = enqueuedAt;

        public ActivityContext Parent { get; set; }

        /// <summary>When this attempt became available: the enqueue, or the end of the retry delay.</summary>
        public DateTimeOffset ReadyAt { get; set; }

        public int Attempt { get; set; } = 1;
    }
}
