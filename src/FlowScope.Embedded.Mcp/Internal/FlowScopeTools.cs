using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using FlowScope.Embedded.Dashboard;
using FlowScope.Embedded.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Protocol;

namespace FlowScope.Embedded.Mcp.Internal;

/// <summary>
/// The MCP tools: each reads the app's trace store (<see cref="ITraceStore"/>) or the dashboard's statistics and
/// answers in plain text, summaries first, every cap stated. Spans are already redacted when stored, so nothing here
/// can reveal more than the dashboard shows. A failing tool answers with an error result; the app is never affected.
/// </summary>
internal sealed class FlowScopeTools
{
    public const string Instructions =
        "FlowScope records this ASP.NET Core app's requests, queue messages and worker runs as traces (spans with durations, " +
        "components, database statements and errors). Start with list_traces, find_errors, find_slow_traces, find_n_plus_one " +
        "or get_metrics; open one trace with get_trace. Durations are milliseconds; times are UTC.";

    /// <summary>The default number of traces a list answers with: 20.</summary>
    public const int DefaultListLimit = 20;

    /// <summary>The most traces a list answers with: 100.</summary>
    public const int MaxListLimit = 100;

    /// <summary>The default number of traces the error, slow and N+1 tools answer with (each read in full): 10.</summary>
    public const int DefaultDetailLimit = 10;

    /// <summary>The most traces the error, slow-span and N+1 tools read in full: 50.</summary>
    public const int MaxDetailLimit = 50;

    /// <summary>The default number of spans <c>get_trace</c> shows: 200.</summary>
    public const int DefaultMaxSpans = 200;

    /// <summary>The most spans <c>get_trace</c> shows: 1 000.</summary>
    public const int MaxSpans = 1_000;

    /// <summary>Matching traces are counted up to this many; beyond, the answer says "more than".</summary>
    public const int CountCap = 10_000;

    /// <summary>Statements, messages and other texts are cut at this many characters.</summary>
    public const int MaxTextLength = 300;

    /// <summary>How many routes the metrics tool lists: 20.</summary>
    public const int MaxRoutes = 20;

    private readonly IServiceProvider _app;
    private readonly ILogger _logger;
    private int _failures;

    public FlowScopeTools(IServiceProvider app)
    {
        _app = app;
        _logger = app.GetRequiredService<ILoggerFactory>().CreateLogger("FlowScope.Embedded.Mcp");
        Definitions = BuildDefinitions();
    }

    public IList<Tool> Definitions { get; }

    private ITraceStore Store => _app.GetRequiredService<ITraceStore>();

    public async ValueTask<CallToolResult> CallAsync(CallToolRequestParams? request, CancellationToken cancellationToken)
    {
        var name = request?.Name ?? string.Empty;
        var args = new ToolArguments(request?.Arguments);
        try
        {
            var text = name switch
            {
                "list_traces" => await ListTracesAsync(args, cancellationToken).ConfigureAwait(false),
                "get_trace" => await GetTraceAsync(args, cancellationToken).ConfigureAwait(false),
                "find_errors" => await FindErrorsAsync(args, cancellationToken).ConfigureAwait(false),
                "find_slow_traces" => await FindSlowTracesAsync(args, cancellationToken).ConfigureAwait(false),
                "find_slow_spans" => await FindSlowSpansAsync(args, cancellationToken).ConfigureAwait(false),
                "find_n_plus_one" => await FindNPlusOneAsync(args, cancellationToken).ConfigureAwait(false),
                "get_metrics" => GetMetrics(),
                _ => throw new ToolArgumentException($"Unknown tool '{name}'. The tools are: {string.Join(", ", Definitions.Select(d => d.Name))}."),
            };
            return Answer(text, isError: false);
        }
        catch (ToolArgumentException ex)
        {
            return Answer(ex.Message, isError: true);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            if (Interlocked.Exchange(ref _failures, 1) == 0)
            {
                McpLog.ToolFailedFirst(_logger, ex, name);
            }
            else
            {
                McpLog.ToolFailed(_logger, ex, name);
            }

            return Answer($"FlowScope could not answer {name}: {ex.GetType().Name}: {ex.Message}", isError: true);
        }
    }

    private static CallToolResult Answer(string text, bool isError) =>
        new() { Content = [new TextContentBlock { Text = text }], IsError = isError };

    // ---- list_traces ----------------------------------------------------------------------------------------------

    private async Task<string> ListTracesAsync(ToolArguments args, CancellationToken ct)
    {
        var limit = args.Int("limit", DefaultListLimit, 1, MaxListLimit);
        var query = new TraceQuery
        {
            Name = args.String("name"),
            Status = args.String("status")?.ToLowerInvariant() switch
            {
                null or "" or "any" => TraceStatusFilter.Any,
                "ok" => TraceStatusFilter.Ok,
                "error" or "errors" => TraceStatusFilter.Error,
                var other => throw new ToolArgumentException($"status must be 'any', 'ok' or 'error' (was '{other}')."),
            },
            StatusClass = args.Int("statusClass", 0, 1, 5) is var c and > 0 ? c : null,
            Kind = Kind(args.String("kind")),
            MinDuration = args.Double("minDurationMs") is { } min ? TimeSpan.FromMilliseconds(min) : null,
            Component = args.String("component"),
            Text = args.String("text"),
            NPlusOne = args.Bool("nPlusOne"),
        };

        var (traces, total) = await QueryAsync(query, limit, ct).ConfigureAwait(false);
        var text = new StringBuilder();
        text.Append("Traces, newest first: ").Append(Showing(traces.Count, total, limit)).Append('.').AppendLine();
        AppendSummaries(text, traces);
        return text.ToString();
    }

    // ---- get_trace ------------------------------------------------------------------------------------------------

    private async Task<string> GetTraceAsync(ToolArguments args, CancellationToken ct)
    {
        var traceId = args.String("traceId") ?? throw new ToolArgumentException("traceId is required: the 32 hexadecimal digits list_traces shows.");
        if (!DashboardEndpoints.IsTraceId(traceId))
        {
            throw new ToolArgumentException($"traceId must be 32 hexadecimal digits (was '{OneLine(traceId)}').");
        }

        var maxSpans = args.Int("maxSpans", DefaultMaxSpans, 1, MaxSpans);
        var trace = await Store.GetTraceAsync(traceId.ToLowerInvariant(), ct).ConfigureAwait(false)
            ?? throw new ToolArgumentException($"No trace {traceId} is held; it may have been evicted. list_traces shows the traces held.");

        var spans = trace.Spans;
        var tree = new SpanTree(spans);
        var body = new StringBuilder();
        var shown = 0;
        RenderSpans(body, tree, tree.Roots, 0, trace.Summary.StartTime, maxSpans, ref shown);

        var text = new StringBuilder();
        AppendSummary(text, trace.Summary);
        text.Append("Spans as a tree (name [component] duration, +start offset from the trace start; ")
            .Append(FoldThreshold).Append(" or more alike sibling leaves on one line ×count): ")
            .Append(Showing(Math.Min(shown, spans.Count), spans.Count, maxSpans)).Append('.');
        if (shown < spans.Count)
        {
            text.Append(" Raise maxSpans (at most ").Append(MaxSpans).Append(") to see more.");
        }

        text.AppendLine().Append(body);
        return text.ToString();
    }

    /// <summary>Alike sibling leaves (same name, component and statement, none failed) this many or more in a row share one line.</summary>
    public const int FoldThreshold = 3;

    private static void RenderSpans(StringBuilder text, SpanTree tree, IReadOnlyList<SpanRecord> siblings, int depth, DateTimeOffset traceStart, int maxSpans, ref int shown)
    {
        var i = 0;
        while (i < siblings.Count && shown < maxSpans)
        {
            var span = siblings[i];
            var run = 1;
            if (tree.Children(span).Count == 0 && span.Status != ActivityStatusCode.Error)
            {
                while (i + run < siblings.Count && Alike(span, siblings[i + run], tree))
                {
                    run++;
                }
            }

            if (run >= FoldThreshold)
            {
                AppendFolded(text, siblings, i, run, depth, traceStart);
                shown += run;
                i += run;
                continue;
            }

            AppendSpan(text, span, depth, traceStart);
            shown++;
            RenderSpans(text, tree, tree.Children(span), depth + 1, traceStart, maxSpans, ref shown);
            i++;
        }
    }

    private static bool Alike(SpanRecord first, SpanRecord other, SpanTree tree) =>
        other.Status != ActivityStatusCode.Error
        && tree.Children(other).Count == 0
        && string.Equals(first.Name, other.Name, StringComparison.Ordinal)
        && string.Equals(first.Component, other.Component, StringComparison.Ordinal)
        && string.Equals(first.GetAttribute("db.query.text"), other.GetAttribute("db.query.text"), StringComparison.Ordinal);

    private static void AppendFolded(StringBuilder text, IReadOnlyList<SpanRecord> siblings, int from, int count, int depth, DateTimeOffset traceStart)
    {
        var first = siblings[from];
        var total = TimeSpan.Zero;
        var min = TimeSpan.MaxValue;
        var max = TimeSpan.Zero;
        for (var i = from; i < from + count; i++)
        {
            var duration = siblings[i].Duration;
            total += duration;
            min = duration < min ? duration : min;
            max = duration > max ? duration : max;
        }

        var indent = new string(' ', depth * 2);
        text.Append(indent).Append("- ").Append(OneLine(first.Name)).Append(" [").Append(first.Component).Append("] ×").Append(count)
            .Append(", ").Append(Ms(total)).Append(" in all (").Append(Ms(min)).Append(" to ").Append(Ms(max)).Append(") +")
            .Append(Ms(first.StartTime - traceStart)).AppendLine();
        if (first.GetAttribute("db.query.text") is { } statement)
        {
            text.Append(indent).Append("    statement: ").Append(OneLine(statement)).AppendLine();
        }
    }

    private static void AppendSpan(StringBuilder text, SpanRecord span, int depth, DateTimeOffset traceStart)
    {
        var indent = new string(' ', depth * 2);
        text.Append(indent).Append("- ").Append(OneLine(span.Name)).Append(" [").Append(span.Component).Append("] ")
            .Append(Ms(span.Duration)).Append(" +").Append(Ms(span.StartTime - traceStart));
        if (span.GetAttribute("http.response.status_code") is { } status)
        {
            text.Append(" → ").Append(status);
        }

        if (span.Status == ActivityStatusCode.Error)
        {
            text.Append(" ERROR");
            if (!string.IsNullOrEmpty(span.StatusMessage))
            {
                text.Append(": ").Append(OneLine(span.StatusMessage));
            }
        }

        text.AppendLine();
        var detail = indent + "    ";
        if (span.Kind == ActivityKind.Server && span.GetAttribute("url.path") is { } path)
        {
            text.Append(detail).Append("url: ").Append(span.GetAttribute("http.request.method")).Append(' ').Append(OneLine(path));
            if (span.GetAttribute("url.query") is { Length: > 0 } query)
            {
                text.Append(query.StartsWith('?') ? string.Empty : "?").Append(OneLine(query));
            }

            text.AppendLine();
        }

        if (span.GetAttribute("db.query.text") is { } statement)
        {
            text.Append(detail).Append("statement: ").Append(OneLine(statement)).AppendLine();
        }

        if (span.GetAttribute("flowscope.db.repeated_statement") is { } repeated)
        {
            text.Append(detail).Append("N+1: ").Append(OneLine(repeated)).Append(" ran ").Append(span.GetAttribute("flowscope.db.repeated_count") ?? "?")
                .Append(" times, ").Append(span.GetAttribute("flowscope.db.repeated_ms") ?? "?").Append(" ms in all").AppendLine();
        }

        if (Exception(span) is { } exception)
        {
            text.Append(detail).Append("exception: ").Append(exception).AppendLine();
        }
    }

    // ---- find_errors ----------------------------------------------------------------------------------------------

    private async Task<string> FindErrorsAsync(ToolArguments args, CancellationToken ct)
    {
        var limit = args.Int("limit", DefaultDetailLimit, 1, MaxDetailLimit);
        var query = new TraceQuery { Name = args.String("name"), Status = TraceStatusFilter.Error };
        var (traces, total) = await QueryAsync(query, limit, ct).ConfigureAwait(false);
        var text = new StringBuilder();
        text.Append("Traces with errors, newest first: ").Append(Showing(traces.Count, total, limit)).Append('.').AppendLine();
        foreach (var summary in traces)
        {
            AppendSummary(text, summary);
            var trace = await Store.GetTraceAsync(summary.TraceId, ct).ConfigureAwait(false);
            if (trace is null)
            {
                text.AppendLine("    (evicted since it was listed)");
                continue;
            }

            if (SpanTree.Origin(trace.Spans) is { } origin)
            {
                text.Append("    error span: ").Append(OneLine(origin.Name)).Append(" [").Append(origin.Component).Append("] ").Append(Ms(origin.Duration));
                if (!string.IsNullOrEmpty(origin.StatusMessage))
                {
                    text.Append(": ").Append(OneLine(origin.StatusMessage));
                }

                text.AppendLine();
                if (Exception(origin) is { } exception)
                {
                    text.Append("    exception: ").Append(exception).AppendLine();
                }
            }
        }

        return text.ToString();
    }

    // ---- find_slow_traces / find_slow_spans -------------------------------------------------------------------------

    private async Task<string> FindSlowTracesAsync(ToolArguments args, CancellationToken ct)
    {
        var limit = args.Int("limit", DefaultDetailLimit, 1, MaxListLimit);
        var query = new TraceQuery { Name = args.String("name"), Kind = Kind(args.String("kind")), Sort = TraceSort.Duration };
        var (traces, total) = await QueryAsync(query, limit, ct).ConfigureAwait(false);
        var text = new StringBuilder();
        text.Append("Slowest traces, longest first: ").Append(Showing(traces.Count, total, limit)).Append('.').AppendLine();
        AppendSummaries(text, traces);
        return text.ToString();
    }

    private async Task<string> FindSlowSpansAsync(ToolArguments args, CancellationToken ct)
    {
        var route = args.String("route") ?? throw new ToolArgumentException("route is required: a route or trace name, or a part of one (such as 'GET /orders/{id}').");
        var traceLimit = args.Int("traces", DefaultDetailLimit, 1, MaxDetailLimit);
        var limit = args.Int("limit", DefaultListLimit, 1, MaxListLimit);
        var query = new TraceQuery { Name = route, Sort = TraceSort.Duration };
        var (traces, total) = await QueryAsync(query, traceLimit, ct).ConfigureAwait(false);

        // Spans of the same name and component, across the route's slowest traces.
        var groups = new Dictionary<(string Name, string Component), SpanGroup>();
        var read = 0;
        foreach (var summary in traces)
        {
            if (await Store.GetTraceAsync(summary.TraceId, ct).ConfigureAwait(false) is not { } trace)
            {
                continue;
            }

            read++;
            var tree = new SpanTree(trace.Spans);
            foreach (var span in trace.Spans)
            {
                if (tree.IsRoot(span))
                {
                    continue; // the trace itself: find_slow_traces lists those
                }

                var key = (span.Name, span.Component);
                if (!groups.TryGetValue(key, out var group))
                {
                    groups[key] = group = new SpanGroup();
                }

                group.Add(span, tree.SelfTime(span));
            }
        }

        var ranked = groups.OrderByDescending(g => g.Value.MaxSelf).ThenBy(g => g.Key.Name, StringComparer.Ordinal).ToList();
        var text = new StringBuilder();
        text.Append("Slowest spans of '").Append(OneLine(route)).Append("', read from its ").Append(read).Append(" slowest traces (")
            .Append(Showing(traces.Count, total, traceLimit)).Append(" matching traces); span groups (same name and component) by their own time (without the spans nested in them), largest first: ")
            .Append(Showing(Math.Min(ranked.Count, limit), ranked.Count, limit)).Append('.').AppendLine();
        foreach (var (key, group) in ranked.Take(limit))
        {
            text.Append("- ").Append(OneLine(key.Name)).Append(" [").Append(key.Component).Append("] self max ").Append(Ms(group.MaxSelf))
                .Append(", mean ").Append(Ms(group.TotalSelf / group.Count)).Append("; duration max ").Append(Ms(group.Max))
                .Append(", mean ").Append(Ms(group.Total / group.Count)).Append("; ").Append(group.Count).Append(" spans, ")
                .Append(group.Errors).Append(" errors; largest in trace ").Append(group.SlowestTrace);
            if (group.Statement is { } statement)
            {
                text.Append("; statement: ").Append(OneLine(statement));
            }

            text.AppendLine();
        }

        return text.ToString();
    }

    private sealed class SpanGroup
    {
        public int Count { get; private set; }

        public int Errors { get; private set; }

        public TimeSpan Total { get; private set; }

        public TimeSpan Max { get; private set; }

        public TimeSpan TotalSelf { get; private set; }

        public TimeSpan MaxSelf { get; private set; } = TimeSpan.MinValue;

        public string SlowestTrace { get; private set; } = string.Empty;

        public string? Statement { get; private set; }

        public void Add(SpanRecord span, TimeSpan self)
        {
            Count++;
            Total += span.Duration;
            TotalSelf += self;
            Errors += span.Status == ActivityStatusCode.Error ? 1 : 0;
            Statement ??= span.GetAttribute("db.query.text");
            Max = span.Duration > Max ? span.Duration : Max;
            if (self > MaxSelf)
            {
                MaxSelf = self;
                SlowestTrace = span.TraceId;
            }
        }
    }

    // ---- find_n_plus_one ------------------------------------------------------------------------------------------

    private async Task<string> FindNPlusOneAsync(ToolArguments args, CancellationToken ct)
    {
        var limit = args.Int("limit", DefaultDetailLimit, 1, MaxDetailLimit);
        var query = new TraceQuery { Name = args.String("name"), NPlusOne = true };
        var (traces, total) = await QueryAsync(query, limit, ct).ConfigureAwait(false);
        var text = new StringBuilder();
        text.Append("Traces with an N+1 mark (one normalised statement repeated at least the threshold), newest first: ")
            .Append(Showing(traces.Count, total, limit)).Append('.').AppendLine();
        foreach (var summary in traces)
        {
            AppendSummary(text, summary);
            var trace = await Store.GetTraceAsync(summary.TraceId, ct).ConfigureAwait(false);
            if (trace is null)
            {
                text.AppendLine("    (evicted since it was listed)");
                continue;
            }

            foreach (var span in trace.Spans)
            {
                if (span.GetAttribute("flowscope.db.repeated_statement") is { } statement)
                {
                    text.Append("    repeated ").Append(span.GetAttribute("flowscope.db.repeated_count") ?? "?").Append(" times (")
                        .Append(span.GetAttribute("flowscope.db.repeated_ms") ?? "?").Append(" ms in all) by ")
                        .Append(OneLine(span.Name)).Append(" [").Append(span.Component).Append("]: ").Append(OneLine(statement)).AppendLine();
                }
            }
        }

        if (traces.Count == 0)
        {
            text.AppendLine("No trace held has an N+1 mark.");
        }

        return text.ToString();
    }

    // ---- get_metrics ----------------------------------------------------------------------------------------------

    private string GetMetrics()
    {
        var stats = DashboardEndpoints.Stats(_app);
        var metrics = DashboardEndpoints.Metrics(_app);
        var text = new StringBuilder();
        text.Append("Instance ").Append(stats.Instance).Append(", up ").Append(Number(stats.UptimeSeconds)).AppendLine(" s.");
        text.Append("HTTP requests (connections excluded): ").Append(Number(metrics.RequestsPerSecond)).Append("/s, ")
            .Append(metrics.RequestsLastMinute).Append(" in the last minute, ").Append(metrics.RequestsTotal).Append(" in all, ")
            .Append(metrics.InFlight).Append(" in flight; latency p50 ").Append(Number(metrics.LatencyP50Ms)).Append(" ms, p95 ")
            .Append(Number(metrics.LatencyP95Ms)).Append(" ms, p99 ").Append(Number(metrics.LatencyP99Ms)).Append(" ms; error rate ")
            .Append(Number(metrics.ErrorRate * 100)).Append("% (errors: ").Append(metrics.ErrorsTotal).Append(" in all; client errors: ")
            .Append(metrics.ClientErrorsLastMinute).AppendLine(" in the last minute).");
        text.AppendLine("By kind of work (per second, last minute, errors last minute, p50/p95/p99 ms, total, errors total):");
        foreach (var kind in metrics.Kinds.Where(k => k.Total > 0))
        {
            text.Append("- ").Append(kind.Kind).Append(": ").Append(Number(kind.PerSecond)).Append("/s, ").Append(kind.LastMinute).Append(", ")
                .Append(kind.ErrorsLastMinute).Append(", ").Append(Number(kind.P50Ms)).Append('/').Append(Number(kind.P95Ms)).Append('/')
                .Append(Number(kind.P99Ms)).Append(", ").Append(kind.Total).Append(", ").Append(kind.ErrorsTotal).AppendLine();
        }

        text.Append("Database commands per route (requests, commands per request mean/max, N+1 requests, duplicate commands, p50 ms): ")
            .Append(Showing(Math.Min(metrics.Routes.Count, MaxRoutes), metrics.Routes.Count + metrics.RoutesOverflow, MaxRoutes)).AppendLine(" routes.");
        foreach (var route in metrics.Routes.Take(MaxRoutes))
        {
            text.Append("- ").Append(OneLine(route.Route)).Append(": ").Append(route.Requests).Append(", ").Append(Number(route.QueriesPerRequest))
                .Append('/').Append(route.MaxQueriesPerRequest).Append(", ").Append(route.NPlusOneRequests).Append(", ")
                .Append(route.DuplicateQueries).Append(", ").Append(Number(route.LatencyP50Ms)).AppendLine();
        }

        var routes = Store.GetRouteStats();
        text.Append("Traces seen and kept per route (seen, kept: for errors/as slow/as sample): ")
            .Append(Showing(Math.Min(routes.Count, MaxRoutes), routes.Count, MaxRoutes)).AppendLine(" routes, busiest first.");
        foreach (var route in routes.Take(MaxRoutes))
        {
            text.Append("- ").Append(OneLine(route.Route)).Append(": ").Append(route.Seen).Append(", ").Append(route.Kept).Append(": ")
                .Append(route.KeptForError).Append('/').Append(route.KeptAsSlow).Append('/').Append(route.KeptAsSample).AppendLine();
        }

        foreach (var queue in metrics.Queues)
        {
            text.Append("Queue ").Append(queue.Name).Append(": depth ").Append(queue.Depth).Append('/').Append(queue.Capacity).Append(", ")
                .Append(queue.Enqueued).Append(" enqueued, ").Append(queue.Succeeded).Append(" succeeded, ").Append(queue.Retries)
                .Append(" retries, ").Append(queue.DeadLettered).AppendLine(" dead-lettered.");
        }

        foreach (var worker in metrics.Workers)
        {
            text.Append("Worker ").Append(worker.Name).Append(": ").Append(worker.State).Append(", ").Append(worker.Runs).Append(" runs, ")
                .Append(worker.Errors).Append(" errors");
            if (worker.LastError is { } error)
            {
                text.Append("; last error: ").Append(OneLine(error));
            }

            text.AppendLine(".");
        }

        text.Append("Capture: ").Append(stats.Captured).Append(" spans captured, ").Append(stats.Dropped).Append(" dropped, ")
            .Append(stats.Rejected).Append(" rejected (span limit); store holds ").Append(stats.StoredTraces).Append(" traces, ")
            .Append(stats.StoredSpans).Append(" spans, ").Append(stats.MemoryBytes / 1024).Append(" KiB of ").Append(stats.MemoryCapacityBytes / 1024)
            .Append(" KiB; ").Append(stats.EvictedTraces).AppendLine(" traces evicted.");
        return text.ToString();
    }

    // ---- shared ---------------------------------------------------------------------------------------------------

    /// <summary>The first <paramref name="limit"/> traces matching <paramref name="query"/>, and how many match (counted up to <see cref="CountCap"/>).</summary>
    private async Task<(IReadOnlyList<TraceSummary> Traces, int Total)> QueryAsync(TraceQuery query, int limit, CancellationToken ct)
    {
        var store = Store;
        var page = await store.QueryAsync(query with { Limit = TraceQuery.MaxLimit }, ct).ConfigureAwait(false);
        var first = page.Traces.Take(limit).ToList();
        var total = page.Traces.Count;
        while (page.NextCursor is { } cursor && total <= CountCap)
        {
            page = await store.QueryAsync(query with { Limit = TraceQuery.MaxLimit, Cursor = cursor }, ct).ConfigureAwait(false);
            total += page.Traces.Count;
        }

        return (first, page.NextCursor is null ? total : -1);
    }

    private static string Showing(int shown, long total, int cap) =>
        total < 0 ? $"showing {shown} of more than {CountCap} (capped at {cap})"
        : shown < total ? $"showing {shown} of {total} (capped at {cap})"
        : $"showing all {total}";

    private static void AppendSummaries(StringBuilder text, IReadOnlyList<TraceSummary> traces)
    {
        foreach (var trace in traces)
        {
            AppendSummary(text, trace);
        }
    }

    private static void AppendSummary(StringBuilder text, TraceSummary s)
    {
        text.Append("- ").Append(s.TraceId).Append(' ').Append(s.StartTime.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture))
            .Append("Z ").Append(OneLine(s.Name));
        if (s.StatusCode is { } code)
        {
            text.Append(" → ").Append(code);
        }

        text.Append(' ').Append(Ms(s.Duration)).Append(", ").Append(s.Kind).Append(", ").Append(s.SpanCount).Append(" spans");
        if (s.ErrorCount > 0)
        {
            text.Append(", ").Append(s.ErrorCount).Append(s.ErrorCount == 1 ? " error" : " errors");
        }

        if (s.DatabaseCount > 0)
        {
            text.Append(", ").Append(s.DatabaseCount).Append(" db commands");
        }

        if (s.NPlusOne > 0)
        {
            text.Append(", N+1 (a statement ran ").Append(s.NPlusOne).Append(" times)");
        }

        if (s.DuplicateQueries > 0)
        {
            text.Append(", ").Append(s.DuplicateQueries).Append(" duplicate commands");
        }

        if (s.Components.Count > 0)
        {
            text.Append("; components: ").Append(string.Join(", ", s.Components));
        }

        text.AppendLine();
    }

    private static string? Exception(SpanRecord span)
    {
        foreach (var e in span.Events)
        {
            if (e.Name != "exception")
            {
                continue;
            }

            string? type = null, message = null;
            foreach (var attribute in e.Attributes)
            {
                if (attribute.Key == "exception.type")
                {
                    type = attribute.Value;
                }
                else if (attribute.Key == "exception.message")
                {
                    message = attribute.Value;
                }
            }

            return OneLine($"{type}: {message}");
        }

        return span.GetAttribute("exception.type") is { } attributeType ? OneLine($"{attributeType}: {span.GetAttribute("exception.message")}") : null;
    }

    private static string? Kind(string? kind)
    {
        if (string.IsNullOrEmpty(kind))
        {
            return null;
        }

        return TraceKinds.TryParse(kind, out var canonical)
            ? canonical
            : throw new ToolArgumentException($"kind must be one of {string.Join(", ", TraceKinds.All)} (was '{OneLine(kind)}').");
    }

    internal static string Ms(TimeSpan duration) => Number(duration.TotalMilliseconds) + " ms";

    private static string Number(double value) =>
        value.ToString(Math.Abs(value) >= 100 ? "0" : Math.Abs(value) >= 10 ? "0.#" : "0.##", CultureInfo.InvariantCulture);

    internal static string Cut(string value) =>
        value.Length <= MaxTextLength ? value : string.Concat(value.AsSpan(0, MaxTextLength), $"… (cut at {MaxTextLength} of {value.Length} characters)");

    /// <summary>A text on one line (runs of white space, line breaks included, become one space), cut as <see cref="Cut"/>.</summary>
    internal static string OneLine(string value) => Cut(string.Join(' ', value.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)));

    // ---- definitions ----------------------------------------------------------------------------------------------

    private static List<Tool> BuildDefinitions()
    {
        const string name = "\"name\": {\"type\": \"string\", \"description\": \"Part of the trace name or route, case-insensitive (e.g. 'GET /orders').\"}";
        const string kind = "\"kind\": {\"type\": \"string\", \"enum\": [\"http\", \"connection\", \"message\", \"worker\", \"simulator\", \"other\"], \"description\": \"The kind of root work.\"}";
        return
        [
            Define("list_traces", "List traces",
                $"Lists the traces FlowScope holds, newest first, one line each (id, start, name, status, duration, span/error/database counts, components), filtered by every argument given. Answers at most {MaxListLimit} traces (default {DefaultListLimit}) and says how many match.",
                $$"""
                {"type": "object", "properties": {
                  {{name}},
                  "status": {"type": "string", "enum": ["any", "ok", "error"], "description": "Traces with a failed span (error), without (ok), or all (any, the default)."},
                  "statusClass": {"type": "integer", "minimum": 1, "maximum": 5, "description": "HTTP status class of the root request: 2 for 2xx, 4 for 4xx, 5 for 5xx."},
                  {{kind}},
                  "minDurationMs": {"type": "number", "minimum": 0, "description": "Only traces lasting at least this many milliseconds."},
                  "component": {"type": "string", "description": "A component the trace touches: a kind (database, queue, middleware, http-client, ...) or a component span's name."},
                  "text": {"type": "string", "description": "Text searched in span names, attribute values, status messages and events."},
                  "nPlusOne": {"type": "boolean", "description": "Only traces with an N+1 mark."},
                  "limit": {"type": "integer", "minimum": 1, "maximum": {{MaxListLimit}}, "description": "How many traces to answer with (default {{DefaultListLimit}})."}
                }
                }
                """),
            Define("get_trace", "Get one trace",
                $"Shows one trace: its summary, then its spans as an indented tree with durations, start offsets, components, HTTP status, database statements, N+1 marks and errors. Shows at most maxSpans spans (default {DefaultMaxSpans}, at most {MaxSpans}) and says how many there are; texts are cut at {MaxTextLength} characters.",
                $$"""
                {"type": "object", "properties": {
                  "traceId": {"type": "string", "description": "The trace id: 32 hexadecimal digits, as the other tools show it."},
                  "maxSpans": {"type": "integer", "minimum": 1, "maximum": {{MaxSpans}}, "description": "How many spans to show (default {{DefaultMaxSpans}})."}
                }, "required": ["traceId"]}
                """),
            Define("find_errors", "Find errors",
                $"Lists recent traces with a failed span, newest first, each with the span where the error arose (the innermost failed span) and its message and exception. At most {MaxDetailLimit} traces (default {DefaultDetailLimit}).",
                $$"""
                {"type": "object", "properties": {
                  {{name}},
                  "limit": {"type": "integer", "minimum": 1, "maximum": {{MaxDetailLimit}}, "description": "How many traces (default {{DefaultDetailLimit}})."}
                }
                }
                """),
            Define("find_slow_traces", "Find the slowest traces",
                $"Lists the slowest traces held, longest first, optionally of one route or kind. At most {MaxListLimit} (default {DefaultDetailLimit}).",
                $$"""
                {"type": "object", "properties": {
                  {{name}},
                  {{kind}},
                  "limit": {"type": "integer", "minimum": 1, "maximum": {{MaxListLimit}}, "description": "How many traces (default {{DefaultDetailLimit}})."}
                }
                }
                """),
            Define("find_slow_spans", "Find the slowest spans of a route",
                $"Reads the slowest traces of a route (default {DefaultDetailLimit}, at most {MaxDetailLimit}) and lists their spans grouped by name and component, by their own time (without nested spans) largest first: max and mean own time and duration, count, errors, the trace of the largest, the statement of database spans. At most {MaxListLimit} groups (default {DefaultListLimit}).",
                $$"""
                {"type": "object", "properties": {
                  "route": {"type": "string", "description": "The route or trace name, or a part of it, case-insensitive (e.g. 'GET /orders/{id}')."},
                  "traces": {"type": "integer", "minimum": 1, "maximum": {{MaxDetailLimit}}, "description": "How many of the route's slowest traces to read (default {{DefaultDetailLimit}})."},
                  "limit": {"type": "integer", "minimum": 1, "maximum": {{MaxListLimit}}, "description": "How many span groups to list (default {{DefaultListLimit}})."}
                }, "required": ["route"]}
                """),
            Define("find_n_plus_one", "Find N+1 queries",
                $"Lists traces where one normalised database statement ran at least the N+1 threshold times, newest first, with each repeated statement, how often it ran, its total time and the span that issued it. At most {MaxDetailLimit} traces (default {DefaultDetailLimit}).",
                $$"""
                {"type": "object", "properties": {
                  {{name}},
                  "limit": {"type": "integer", "minimum": 1, "maximum": {{MaxDetailLimit}}, "description": "How many traces (default {{DefaultDetailLimit}})."}
                }
                }
                """),
            Define("get_metrics", "Read the metrics",
                $"The app's figures as the dashboard shows them: HTTP request rate, latency percentiles and error rate; the same per kind of work; database commands per request of each route; traces seen and kept per route; queues and workers; capture and store counters. Routes are capped at {MaxRoutes}.",
                """{"type": "object", "properties": {}}"""),
        ];
    }

    private static Tool Define(string name, string title, string description, string schema)
    {
        using var document = JsonDocument.Parse(schema);
        return new Tool
        {
            Name = name,
            Title = title,
            Description = description,
            InputSchema = document.RootElement.Clone(),
            Annotations = new ToolAnnotations { Title = title, ReadOnlyHint = true, DestructiveHint = false, IdempotentHint = true, OpenWorldHint = false },
        };
    }
}
