using System.Diagnostics;
using System.Globalization;
using FlowScope.Embedded.Storage;
using FlowScope.Embedded.Testing.Internal;

namespace FlowScope.Embedded.Testing;

/// <summary>
/// One trace as FlowScope stored it, with assertions. Each assertion returns the trace (or the span it found) so they
/// chain; a failed one throws <see cref="TraceAssertionException"/> whose message shows the trace as a text tree
/// (<see cref="ToString"/>).
/// </summary>
public sealed class CapturedTrace
{
    private const string OutcomeAttribute = "flowscope.queue.outcome";
    private const string DestinationAttribute = "messaging.destination.name";

    /// <summary>Creates a captured trace from what the store returned.</summary>
    /// <param name="detail">The trace's summary and spans.</param>
    public CapturedTrace(TraceDetail detail)
    {
        ArgumentNullException.ThrowIfNull(detail);
        Summary = detail.Summary;
        Spans = detail.Spans;
        Root = Spans.Where(s => s.ParentSpanId is null || s.HasRemoteParent).OrderBy(s => s.StartTime).FirstOrDefault();
        DatabaseCommands = [.. Spans.Where(s => s.Component == SpanComponents.Database).OrderBy(s => s.StartTime)];
    }

    /// <summary>Gets the trace id.</summary>
    public string TraceId => Summary.TraceId;

    /// <summary>Gets the trace's summary (name, duration, counts, N+1 and duplicate marks).</summary>
    public TraceSummary Summary { get; }

    /// <summary>Gets every span of the trace.</summary>
    public IReadOnlyList<SpanRecord> Spans { get; }

    /// <summary>
    /// Gets the trace's local root: the request (or worker run) that started it in this app, or
    /// <see langword="null"/> while it has not ended.
    /// </summary>
    public SpanRecord? Root { get; }

    /// <summary>Gets the trace's database commands (spans of component <c>database</c>), in start order.</summary>
    public IReadOnlyList<SpanRecord> DatabaseCommands { get; }

    /// <summary>Gets the spans of <paramref name="component"/> (a <see cref="SpanComponents"/> name), optionally only those named <paramref name="name"/>.</summary>
    /// <param name="component">The component, such as <see cref="SpanComponents.Database"/>.</param>
    /// <param name="name">The span name to match exactly, or <see langword="null"/> for any.</param>
    /// <returns>The matching spans, in start order.</returns>
    public IReadOnlyList<SpanRecord> FindSpans(string component, string? name = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(component);
        return [.. Spans.Where(s => s.Component == component && (name is null || s.Name == name)).OrderBy(s => s.StartTime)];
    }

    /// <summary>
    /// Gets whether a message sent to <paramref name="queue"/> in this trace was processed successfully: the trace
    /// holds the producer span and a consumer attempt with outcome <c>ok</c>. Use it as the condition of
    /// <see cref="TraceCapture.GetTraceAsync"/> to wait for a handler that runs after the response.
    /// </summary>
    /// <param name="queue">The queue's name (<c>messaging.destination.name</c>).</param>
    /// <returns><see langword="true"/> when the hop happened and its handler succeeded.</returns>
    public bool IsQueueHandled(string queue)
    {
        ArgumentException.ThrowIfNullOrEmpty(queue);
        return QueueSpans(queue, ActivityKind.Producer).Any() && HandledAttempt(queue) is not null;
    }

    /// <summary>Asserts the trace holds exactly <paramref name="expected"/> database commands.</summary>
    /// <param name="expected">The number of database commands.</param>
    /// <returns>This trace.</returns>
    /// <exception cref="TraceAssertionException">The count differs.</exception>
    public CapturedTrace AssertDatabaseCommands(int expected)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(expected);
        if (DatabaseCommands.Count != expected)
        {
            throw Fail($"Expected {Count(expected, "database command")}, found {DatabaseCommands.Count}.");
        }

        return this;
    }

    /// <summary>Asserts the trace holds at most <paramref name="max"/> database commands.</summary>
    /// <param name="max">The largest number of database commands allowed.</param>
    /// <returns>This trace.</returns>
    /// <exception cref="TraceAssertionException">There are more.</exception>
    public CapturedTrace AssertAtMostDatabaseCommands(int max)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(max);
        if (DatabaseCommands.Count > max)
        {
            throw Fail($"Expected at most {Count(max, "database command")}, found {DatabaseCommands.Count}.");
        }

        return this;
    }

    /// <summary>
    /// Asserts FlowScope did not mark the trace as N+1: no normalised statement repeated as often as the threshold
    /// (<c>FlowScopeOptions.NPlusOneThreshold</c>).
    /// </summary>
    /// <returns>This trace.</returns>
    /// <exception cref="TraceAssertionException">The trace carries an N+1 mark.</exception>
    public CapturedTrace AssertNoNPlusOne()
    {
        if (Summary.NPlusOne > 0)
        {
            throw Fail($"Expected no N+1 mark, but one statement ran {Summary.NPlusOne} times{RepeatedStatement()}.");
        }

        return this;
    }

    /// <summary>Asserts FlowScope marked the trace as N+1 (the opposite of <see cref="AssertNoNPlusOne"/>).</summary>
    /// <returns>This trace.</returns>
    /// <exception cref="TraceAssertionException">The trace carries no N+1 mark.</exception>
    public CapturedTrace AssertNPlusOne()
    {
        if (Summary.NPlusOne <= 0)
        {
            throw Fail("Expected an N+1 mark, but no statement repeated often enough.");
        }

        return this;
    }

    /// <summary>Asserts the trace holds a span of <paramref name="component"/>, optionally named <paramref name="name"/>.</summary>
    /// <param name="component">The component, such as <see cref="SpanComponents.Queue"/>.</param>
    /// <param name="name">The span name to match exactly, or <see langword="null"/> for any.</param>
    /// <returns>The first matching span.</returns>
    /// <exception cref="TraceAssertionException">No span matches.</exception>
    public SpanRecord AssertSpan(string component, string? name = null)
    {
        var spans = FindSpans(component, name);
        if (spans.Count == 0)
        {
            throw Fail(name is null ? $"Expected a span of component '{component}', found none." : $"Expected a span '{name}' of component '{component}', found none.");
        }

        return spans[0];
    }

    /// <summary>Asserts no span of the trace has error status.</summary>
    /// <returns>This trace.</returns>
    /// <exception cref="TraceAssertionException">At least one span failed; the message names the first.</exception>
    public CapturedTrace AssertNoErrors()
    {
        var failed = Spans.Where(s => s.Status == ActivityStatusCode.Error).OrderBy(s => s.StartTime).ToList();
        if (failed.Count > 0)
        {
            var first = failed[0];
            throw Fail($"Expected no error span, found {failed.Count}; the first is '{first.Name}' [{first.Component}]: {first.StatusMessage ?? "(no message)"}.");
        }

        return this;
    }

    /// <summary>
    /// Asserts a message was sent to <paramref name="queue"/> in this trace and its handler succeeded (a consumer
    /// attempt with outcome <c>ok</c>, after any retries). To wait for a handler that runs after the response, get the
    /// trace with <see cref="TraceCapture.WaitForQueueHandledAsync"/> first.
    /// </summary>
    /// <param name="queue">The queue's name (<c>messaging.destination.name</c>).</param>
    /// <returns>The successful consumer span.</returns>
    /// <exception cref="TraceAssertionException">No message was sent, none was processed, or every attempt failed.</exception>
    public SpanRecord AssertQueueHandled(string queue)
    {
        ArgumentException.ThrowIfNullOrEmpty(queue);
        if (!QueueSpans(queue, ActivityKind.Producer).Any())
        {
            throw Fail($"Expected a message sent to queue '{queue}', found no producer span for it.");
        }

        var attempts = QueueSpans(queue, ActivityKind.Consumer).ToList();
        if (attempts.Count == 0)
        {
            throw Fail($"Expected the message sent to queue '{queue}' to be processed, found no consumer span.");
        }

        return HandledAttempt(queue) ?? throw Fail(
            $"Expected the handler of queue '{queue}' to succeed; its {Count(attempts.Count, "attempt")} ended " +
            string.Join(", ", attempts.Select(a => a.GetAttribute(OutcomeAttribute) ?? a.Status.ToString().ToLowerInvariant())) + ".");
    }

    /// <summary>
    /// Asserts the trace's local root (the request as the server measured it) took at most <paramref name="max"/>.
    /// Work that ends after the response (queue handlers) is not counted.
    /// </summary>
    /// <param name="max">The longest duration allowed.</param>
    /// <returns>This trace.</returns>
    /// <exception cref="TraceAssertionException">The root took longer.</exception>
    public CapturedTrace AssertDurationAtMost(TimeSpan max)
    {
        var duration = Root?.Duration ?? Summary.Duration;
        if (duration > max)
        {
            throw Fail($"Expected '{Root?.Name ?? Summary.Name}' to take at most {TraceText.Ms(max)}, it took {TraceText.Ms(duration)}.");
        }

        return this;
    }

    /// <summary>Returns the trace as an indented text tree: name, component, duration, status and statement of every span.</summary>
    /// <returns>The text tree.</returns>
    public override string ToString() => TraceText.Render(this);

    private IEnumerable<SpanRecord> QueueSpans(string queue, ActivityKind kind) =>
        Spans.Where(s => s.Component == SpanComponents.Queue && s.Kind == kind && s.GetAttribute(DestinationAttribute) == queue);

    private SpanRecord? HandledAttempt(string queue) =>
        QueueSpans(queue, ActivityKind.Consumer).FirstOrDefault(s => s.Status != ActivityStatusCode.Error && (s.GetAttribute(OutcomeAttribute) ?? "ok") == "ok");

    private string RepeatedStatement()
    {
        var span = Spans.FirstOrDefault(s => s.GetAttribute("flowscope.db.repeated_statement") is { Length: > 0 });
        return span is null ? "" : $" (issued by '{span.Name}': {span.GetAttribute("flowscope.db.repeated_statement")})";
    }

    private static string Count(int n, string noun) => n.ToString(CultureInfo.InvariantCulture) + " " + noun + (n == 1 ? "" : "s");

    private TraceAssertionException Fail(string expectation) => new(expectation + Environment.NewLine + this, this);
}
