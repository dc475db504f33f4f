using System.Diagnostics;
using System.Globalization;
using System.Text;
using FlowScope.Embedded.Storage;

namespace FlowScope.Embedded.Testing.Internal;

/// <summary>
/// A trace as an indented text tree for failure messages: one line per span with its name, component, duration,
/// status and, for database commands, the statement; N+1 marks on the span that issued the repeats.
/// </summary>
internal static class TraceText
{
    private const int MaxLines = 200;
    private const int MaxStatement = 160;

    public static string Render(CapturedTrace trace)
    {
        var text = new StringBuilder();
        var summary = trace.Summary;
        text.Append(CultureInfo.InvariantCulture, $"Trace {summary.TraceId}: {summary.Name}, {Ms(summary.Duration)}, {summary.SpanCount} spans, {trace.DatabaseCommands.Count} database commands");
        if (summary.NPlusOne > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $", N+1 ×{summary.NPlusOne}");
        }

        if (summary.ErrorCount > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $", {summary.ErrorCount} errors");
        }

        text.AppendLine();

        var ids = new HashSet<string>(trace.Spans.Select(s => s.SpanId), StringComparer.Ordinal);
        var children = trace.Spans
            .Where(s => s.ParentSpanId is not null && ids.Contains(s.ParentSpanId))
            .ToLookup(s => s.ParentSpanId!, StringComparer.Ordinal);
        var roots = trace.Spans.Where(s => s.ParentSpanId is null || !ids.Contains(s.ParentSpanId)).OrderBy(s => s.StartTime);

        var lines = 0;
        var stack = new Stack<(SpanRecord Span, int Depth)>(roots.Reverse().Select(s => (s, 0)));
        while (stack.Count > 0)
        {
            var (span, depth) = stack.Pop();
            if (lines == MaxLines)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"… {trace.Spans.Count - lines} more spans");
                break;
            }

            AppendSpan(text, span, depth);
            lines++;
            foreach (var child in children[span.SpanId].OrderByDescending(s => s.StartTime))
            {
                stack.Push((child, depth + 1));
            }
        }

        return text.ToString().TrimEnd();
    }

    private static void AppendSpan(StringBuilder text, SpanRecord span, int depth)
    {
        var indent = new string(' ', depth * 2);
        text.Append(indent).Append("- ").Append(span.Name)
            .Append("  [").Append(span.Component).Append(']')
            .Append("  ").Append(Ms(span.Duration))
            .Append("  ").Append(Status(span));

        if (span.Component == SpanComponents.Database && span.GetAttribute("db.query.text") is { Length: > 0 } statement)
        {
            text.Append("  | ").Append(OneLine(statement));
        }

        text.AppendLine();
        if (span.GetAttribute("flowscope.db.repeated_statement") is { Length: > 0 } repeated)
        {
            text.Append(indent).Append("  N+1: ×").Append(span.GetAttribute("flowscope.db.repeated_count") ?? "?")
                .Append(' ').Append(OneLine(repeated));
            if (span.GetAttribute("flowscope.db.repeated_ms") is { Length: > 0 } ms)
            {
                text.Append(" (").Append(ms).Append(" ms)");
            }

            text.AppendLine();
        }
    }

    private static string Status(SpanRecord span) => span.Status switch
    {
        ActivityStatusCode.Error => span.StatusMessage is { Length: > 0 } message ? "error: " + OneLine(message) : "error",
        // Unset is not a failure: shown as ok, or as the HTTP status where there is one.
        _ => span.GetAttribute("http.response.status_code") is { } code ? code : "ok",
    };

    public static string Ms(TimeSpan duration) =>
        duration.TotalMilliseconds.ToString(duration.TotalMilliseconds < 1 ? "0.00" : "0.0", CultureInfo.InvariantCulture) + " ms";

    private static string OneLine(string value)
    {
        var text = new StringBuilder(Math.Min(value.Length, MaxStatement + 1));
        var space = false;
        foreach (var c in value)
        {
            if (char.IsWhiteSpace(c))
            {
                space = text.Length > 0;
                continue;
            }

            if (space)
            {
                text.Append(' ');
                space = false;
            }

            text.Append(c);
            if (text.Length >= MaxStatement)
            {
                return text.Append('…').ToString();
            }
        }

        return text.ToString();
    }
}
