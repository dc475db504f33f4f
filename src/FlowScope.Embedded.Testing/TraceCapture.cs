using System.Collections.Concurrent;
using FlowScope.Embedded.Storage;
using FlowScope.Embedded.Testing.Internal;
using Microsoft.Extensions.DependencyInjection;

namespace FlowScope.Embedded.Testing;

/// <summary>
/// Captures the traces of the requests one test makes against an app running FlowScope, and hands them over complete.
/// Requests sent through <see cref="CreateHandler"/> each start a trace of their own (a fresh <c>traceparent</c>), so a
/// test sees its requests only, whatever else the app is doing. Waiting is bounded and wakes on the store's own
/// change signal: nothing sleeps.
/// </summary>
/// <remarks>
/// The app must call <c>services.AddFlowScopeTesting()</c> (with <c>WebApplicationFactory</c>, in
/// <c>ConfigureTestServices</c>). Create one capture per test; it is thread-safe.
/// </remarks>
public sealed class TraceCapture
{
    /// <summary>How long <see cref="GetTraceAsync"/> and the other waits wait when no timeout is given: 10 seconds.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    private readonly ObservedTraceStore _store;
    private readonly ConcurrentQueue<string> _traceIds = new();

    private TraceCapture(ObservedTraceStore store) => _store = store;

    /// <summary>Gets the ids of the traces started by this capture's requests, in the order they were sent.</summary>
    public IReadOnlyList<string> TraceIds => [.. _traceIds];

    /// <summary>Creates a capture for the app whose services are <paramref name="services"/> (<c>factory.Services</c>, <c>host.Services</c>).</summary>
    /// <param name="services">The app's root service provider.</param>
    /// <returns>A new capture with no traces yet.</returns>
    /// <exception cref="InvalidOperationException">The app did not call <c>AddFlowScopeTesting()</c> after <c>AddFlowScope()</c>.</exception>
    public static TraceCapture For(IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        var store = services.GetService<ITraceStore>();
        return store switch
        {
            ObservedTraceStore observed => new TraceCapture(observed),
            null => throw new InvalidOperationException(
                "The app has no FlowScope trace store: call services.AddFlowScope() and then services.AddFlowScopeTesting()."),
            _ => throw new InvalidOperationException(
                "The app's trace store is not observed: call services.AddFlowScopeTesting() after AddFlowScope() and after " +
                "anything that replaces the store (with WebApplicationFactory, in ConfigureTestServices)."),
        };
    }

    /// <summary>
    /// Creates a message handler that starts a new trace for each request and records its id. Use it as the outermost
    /// handler: <c>factory.CreateDefaultClient(capture.CreateHandler())</c>, or
    /// <c>new HttpClient(capture.CreateHandler(new SocketsHttpHandler()))</c> for an app on Kestrel.
    /// </summary>
    /// <param name="innerHandler">The handler that sends the requests, or <see langword="null"/> when the caller chains it (as <c>CreateDefaultClient</c> does).</param>
    /// <returns>A new handler; a handler belongs to one client.</returns>
    public DelegatingHandler CreateHandler(HttpMessageHandler? innerHandler = null)
    {
        var handler = new TraceparentHandler(this);
        if (innerHandler is not null)
        {
            handler.InnerHandler = innerHandler;
        }

        return handler;
    }

    /// <summary>
    /// Gets the trace of the request that produced <paramref name="response"/>, once its root span (the request) is
    /// stored and <paramref name="until"/> holds.
    /// </summary>
    /// <param name="response">A response to a request sent through <see cref="CreateHandler"/>.</param>
    /// <param name="until">A further condition, such as <c>t =&gt; t.IsQueueHandled("orders")</c> for work that ends after the response; <see langword="null"/> for none.</param>
    /// <param name="timeout">How long to wait; <see langword="null"/> for <see cref="DefaultTimeout"/>.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The trace.</returns>
    /// <exception cref="ArgumentException">The request was not sent through this capture's handler.</exception>
    /// <exception cref="TraceAssertionException">The trace was not complete in time; the message shows what was stored.</exception>
    public Task<CapturedTrace> GetTraceAsync(HttpResponseMessage response, Func<CapturedTrace, bool>? until = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(response);
        var traceId = TraceparentHandler.TraceIdOf(response.RequestMessage);
        if (traceId is null || !_traceIds.Contains(traceId))
        {
            throw new ArgumentException("The response's request was not sent through this capture's handler (TraceCapture.CreateHandler).", nameof(response));
        }

        return GetTraceByIdAsync(traceId, until, timeout, cancellationToken);
    }

    /// <summary>Gets the trace of the last request this capture sent, once complete (see <see cref="GetTraceAsync"/>).</summary>
    /// <param name="until">A further condition; <see langword="null"/> for none.</param>
    /// <param name="timeout">How long to wait; <see langword="null"/> for <see cref="DefaultTimeout"/>.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The trace.</returns>
    /// <exception cref="InvalidOperationException">This capture has sent no request.</exception>
    /// <exception cref="TraceAssertionException">The trace was not complete in time.</exception>
    public Task<CapturedTrace> GetLastTraceAsync(Func<CapturedTrace, bool>? until = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var last = _traceIds.LastOrDefault() ?? throw new InvalidOperationException("This capture has sent no request yet: send one through a client made with CreateHandler().");
        return GetTraceByIdAsync(last, until, timeout, cancellationToken);
    }

    /// <summary>
    /// Gets the trace of the request that produced <paramref name="response"/> once the message it sent to
    /// <paramref name="queue"/> has been handled successfully (the handler runs after the response).
    /// </summary>
    /// <param name="response">A response to a request sent through <see cref="CreateHandler"/>.</param>
    /// <param name="queue">The queue's name (<c>messaging.destination.name</c>).</param>
    /// <param name="timeout">How long to wait; <see langword="null"/> for <see cref="DefaultTimeout"/>.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The trace, with the queue hop and the handler's spans.</returns>
    /// <exception cref="TraceAssertionException">The handler had not succeeded in time; the message shows the trace and says why.</exception>
    public async Task<CapturedTrace> WaitForQueueHandledAsync(HttpResponseMessage response, string queue, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(queue);
        try
        {
            return await GetTraceAsync(response, t => t.IsQueueHandled(queue), timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TraceAssertionException timedOut) when (timedOut.Trace is { Root: not null } trace)
        {
            // Say which part is missing: the send, the processing or a successful attempt.
            try
            {
                trace.AssertQueueHandled(queue);
            }
            catch (TraceAssertionException why)
            {
                throw new TraceAssertionException(
                    $"Trace {trace.TraceId} was not complete within {TraceText.Ms(timeout ?? DefaultTimeout)}: the condition did not hold. {why.Message}", trace);
            }

            throw;
        }
    }

    /// <summary>
    /// Gets a trace by id — one this capture started, or any other the app recorded (a trace id the app returned) —
    /// once its local root is stored and <paramref name="until"/> holds.
    /// </summary>
    /// <param name="traceId">The W3C trace id (32 lowercase hex digits).</param>
    /// <param name="until">A further condition; <see langword="null"/> for none.</param>
    /// <param name="timeout">How long to wait; <see langword="null"/> for <see cref="DefaultTimeout"/>.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The trace.</returns>
    /// <exception cref="TraceAssertionException">The trace was not complete in time.</exception>
    public async Task<CapturedTrace> GetTraceByIdAsync(string traceId, Func<CapturedTrace, bool>? until = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(traceId);
        var limit = timeout ?? DefaultTimeout;
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(limit, TimeSpan.Zero, nameof(timeout));

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(limit);
        CapturedTrace? last = null;
        while (true)
        {
            // Taken before reading, so a batch stored between the read and the wait still wakes us.
            var changed = _store.Changed.Next;
            var detail = await _store.GetTraceAsync(traceId, cancellationToken).ConfigureAwait(false);
            if (detail is not null)
            {
                last = new CapturedTrace(detail);
                if (last.Root is not null && (until is null || until(last)))
                {
                    return last;
                }
            }

            try
            {
                await changed.WaitAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw TimedOut(traceId, limit, last, until is not null);
            }
        }
    }

    internal void Record(string traceId) => _traceIds.Enqueue(traceId);

    private static TraceAssertionException TimedOut(string traceId, TimeSpan limit, CapturedTrace? last, bool hasCondition)
    {
        var waited = TraceText.Ms(limit);
        if (last is null)
        {
            return new TraceAssertionException(
                $"FlowScope recorded nothing of trace {traceId} within {waited}. Does the request reach the app, with FlowScope " +
                "capturing it (AddFlowScope and UseFlowScope) and the traceparent header kept?", trace: null);
        }

        var missing = last.Root is null
            ? "its root span (the request) had not ended"
            : hasCondition ? "the condition did not hold" : "it was not complete";
        return new TraceAssertionException($"Trace {traceId} was not complete within {waited}: {missing}. As stored:{Environment.NewLine}{last}", last);
    }
}
