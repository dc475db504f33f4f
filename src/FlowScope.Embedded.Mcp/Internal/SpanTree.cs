using System.Diagnostics;
using FlowScope.Embedded.Storage;

namespace FlowScope.Embedded.Mcp.Internal;

/// <summary>The parent/child structure of one trace's spans (a span whose parent is not held counts as a root).</summary>
internal sealed class SpanTree
{
    private readonly Dictionary<string, List<SpanRecord>> _children = new(StringComparer.Ordinal);
    private readonly List<SpanRecord> _roots = [];
    private readonly HashSet<string> _ids = new(StringComparer.Ordinal);

    public SpanTree(IReadOnlyList<SpanRecord> spans)
    {
        foreach (var span in spans)
        {
            _ids.Add(span.SpanId);
        }

        foreach (var span in spans)
        {
            if (span.ParentSpanId is { } parent && _ids.Contains(parent) && parent != span.SpanId)
            {
                if (!_children.TryGetValue(parent, out var list))
                {
                    _children[parent] = list = [];
                }

                list.Add(span);
            }
            else
            {
                _roots.Add(span);
            }
        }

        _roots.Sort(ByStart);
        foreach (var list in _children.Values)
        {
            list.Sort(ByStart);
        }
    }

    public bool IsRoot(SpanRecord span) => span.ParentSpanId is not { } parent || !_ids.Contains(parent);

    /// <summary>The spans without a parent in the trace, by start time.</summary>
    public IReadOnlyList<SpanRecord> Roots => _roots;

    /// <summary>A span's children, by start time.</summary>
    public IReadOnlyList<SpanRecord> Children(SpanRecord span) =>
        _children.TryGetValue(span.SpanId, out var children) ? children : [];

    /// <summary>
    /// A span's own time: its duration less the time covered by its children (overlapping children counted once), or
    /// less where FlowScope measured it (pipeline stages, whose measure leaves out the stages nested in them).
    /// </summary>
    public TimeSpan SelfTime(SpanRecord span)
    {
        var measured = span.SelfTime ?? span.Duration;
        if (!_children.TryGetValue(span.SpanId, out var children))
        {
            return measured;
        }

        // Children are sorted by start: merge their intervals, clipped to the span.
        var covered = TimeSpan.Zero;
        var end = span.StartTime;
        foreach (var child in children)
        {
            var from = child.StartTime > end ? child.StartTime : end;
            var to = child.EndTime < span.EndTime ? child.EndTime : span.EndTime;
            if (to > from)
            {
                covered += to - from;
                end = to;
            }
        }

        var self = span.Duration - covered;
        return self <= TimeSpan.Zero ? TimeSpan.Zero : self < measured ? self : measured;
    }

    /// <summary>
    /// Where a trace's error arose: the failed span none of whose descendants failed, the earliest to end when several
    /// did; <see langword="null"/> when no span failed.
    /// </summary>
    public static SpanRecord? Origin(IReadOnlyList<SpanRecord> spans)
    {
        var failedParents = new HashSet<string>(StringComparer.Ordinal);
        var byId = new Dictionary<string, SpanRecord>(StringComparer.Ordinal);
        foreach (var span in spans)
        {
            byId[span.SpanId] = span;
        }

        foreach (var span in spans)
        {
            if (span.Status != ActivityStatusCode.Error)
            {
                continue;
            }

            // Every failed ancestor has a failed descendant: it is not where the error arose.
            var parent = span.ParentSpanId;
            var guard = 0;
            while (parent is not null && byId.TryGetValue(parent, out var ancestor) && guard++ < spans.Count)
            {
                failedParents.Add(ancestor.SpanId);
                parent = ancestor.ParentSpanId;
            }
        }

        SpanRecord? origin = null;
        foreach (var span in spans)
        {
            if (span.Status == ActivityStatusCode.Error && !failedParents.Contains(span.SpanId)
                && (origin is null || span.EndTime < origin.EndTime))
            {
                origin = span;
            }
        }

        return origin;
    }

    private static int ByStart(SpanRecord a, SpanRecord b) => a.StartTime.CompareTo(b.StartTime);
}
