using FlowScope.Embedded.Buffering;
using FlowScope.Embedded.Storage;

namespace FlowScope.Embedded.Metrics;

/// <summary>
/// The live map of the app: nodes are components (each middleware, endpoint or action, queue, worker, outbound
/// host, custom source), edges are parent → child calls between them with counts, errors and latency percentiles.
/// Fed by the pump with every stored span. Spans usually end before their parent, so a child waits (bounded) until
/// its parent is seen. Every structure has a cap; what falls outside is counted.
/// </summary>
internal sealed class ComponentGraph : ISpanBatchObserver
{
    internal const int MaxNodes = 500;
    internal const int MaxEdges = 2_000;
    internal const int MaxRememberedSpans = 50_000;
    internal const int MaxWaitingChildren = 20_000;

    private readonly Lock _lock = new();
    private readonly Dictionary<NodeKey, NodeStats> _nodes = new();
    private readonly Dictionary<(NodeKey From, NodeKey To), EdgeStats> _edges = new();

    // Recently seen spans (span id → node) so children can find their parent's node; FIFO-bounded.
    private readonly Dictionary<string, NodeKey> _spanNodes = new(StringComparer.Ordinal);
    private readonly Queue<string> _spanOrder = new();

    // Children whose parent has not been seen yet, by parent span id; FIFO-bounded.
    private readonly Dictionary<string, List<Call>> _waiting = new(StringComparer.Ordinal);
    private readonly Queue<string> _waitingOrder = new();
    private int _waitingCount;
    private long _overflow;

    public void Observe(IReadOnlyList<SpanRecord> spans)
    {
        lock (_lock)
        {
            foreach (var span in spans)
            {
                ObserveCore(span);
            }
        }
    }

    private void ObserveCore(SpanRecord span)
    {
        var key = NodeOf(span);
        var isError = span.Status == System.Diagnostics.ActivityStatusCode.Error;
        var durationMs = span.Duration.TotalMilliseconds;

        if (!_nodes.TryGetValue(key, out var node))
        {
            if (_nodes.Count >= MaxNodes)
            {
                key = new NodeKey(key.Component, "(other)");
                if (!_nodes.TryGetValue(key, out node))
                {
                    _overflow++;
                    return;
                }
            }
            else
            {
                node = new NodeStats();
                _nodes.Add(key, node);
            }
        }

        node.Count++;
        if (isError)
        {
            node.Errors++;
        }

        node.Durations.Add(durationMs);
        node.Rate.Add(span.EndTime, isError);
        if (span.GetAttribute(Capture.SpanConverter.SelfTimeAttribute) is { } self
            && double.TryParse(self, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var selfMs))
        {
            node.SelfTimes.Add(selfMs);
        }

        Remember(span.SpanId, key);

        var call = new Call(key, durationMs, isError);
        if (span.ParentSpanId is { } parentId)
        {
            if (_spanNodes.TryGetValue(parentId, out var parentKey))
            {
                AddEdge(parentKey, call);
            }
            else
            {
                Wait(parentId, call);
            }
        }

        if (_waiting.Remove(span.SpanId, out var children))
        {
            _waitingCount -= children.Count;
            foreach (var child in children)
            {
                AddEdge(key, child);
            }
        }
    }

    private void AddEdge(NodeKey from, Call call)
    {
        if (from == call.Node)
        {
            return; // steps inside one component (an action's binding, method and result) are not calls between components
        }

        if (!_edges.TryGetValue((from, call.Node), out var edge))
        {
            if (_edges.Count >= MaxEdges)
            {
                _overflow++;
                return;
            }

            edge = new EdgeStats();
            _edges.Add((from, call.Node), edge);
        }

        edge.Count++;
        if (call.IsError)
        {
            edge.Errors++;
        }

        edge.Durations.Add(call.DurationMs);
    }

    private void Remember(string spanId, NodeKey key)
    {
        if (_spanNodes.TryAdd(spanId, key))
        {
            _spanOrder.Enqueue(spanId);
            while (_spanOrder.Count > MaxRememberedSpans)
            {
                _spanNodes.Remove(_spanOrder.Dequeue());
            }
        }
    }

    private void Wait(string parentId, Call call)
    {
        if (!_waiting.TryGetValue(parentId, out var list))
        {
            list = new List<Call>(2);
            _waiting.Add(parentId, list);
            _waitingOrder.Enqueue(parentId);
        }

        list.Add(call);
        _waitingCount++;
        while (_waitingCount > MaxWaitingChildren && _waitingOrder.TryDequeue(out var oldest))
        {
            if (_waiting.Remove(oldest, out var dropped))
            {
                _waitingCount -= dropped.Count;
                _overflow += dropped.Count;
            }
        }

        // A parent that arrives leaves its id in the order queue; drop those ids before they pile up (amortised:
        // at least MaxWaitingChildren enqueues between two passes, as at most that many ids are still waiting).
        if (_waitingOrder.Count > 2 * MaxWaitingChildren)
        {
            var count = _waitingOrder.Count;
            for (var i = 0; i < count; i++)
            {
                var id = _waitingOrder.Dequeue();
                if (_waiting.ContainsKey(id))
                {
                    _waitingOrder.Enqueue(id);
                }
            }
        }
    }

    /// <summary>How many parent ids the order queue holds, and how many children wait (tests).</summary>
    internal (int OrderedParents, int WaitingParents, int WaitingChildren, int RememberedSpans) Sizes
    {
        get
        {
            lock (_lock)
            {
                return (_waitingOrder.Count, _waiting.Count, _waitingCount, _spanNodes.Count);
            }
        }
    }

    /// <summary>The node a span is drawn in.</summary>
    internal static NodeKey NodeOf(SpanRecord span)
    {
        var name = span.Component switch
        {
            SpanComponents.Server => "server",
            SpanComponents.Queue => span.GetAttribute("messaging.destination.name") ?? span.Name,
            SpanComponents.HttpClient => span.GetAttribute("server.address") ?? HostOf(span.GetAttribute("url.full")) ?? span.Name,
            SpanComponents.Database => span.GetAttribute("db.namespace") ?? span.GetAttribute("db.system.name") ?? span.GetAttribute("db.system") ?? span.Name,
            SpanComponents.Worker => span.GetAttribute("flowscope.worker.name") ?? span.Name,
            SpanComponents.Custom when span.Source.Length > 0 && !span.Source.StartsWith(FlowScopeSources.Prefix, StringComparison.Ordinal) => span.Source,
            _ => span.Name,
        };

        return new NodeKey(span.Component, name);
    }

    private static string? HostOf(string? url) => Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri.Authority : null;

    public ComponentMap Snapshot(DateTimeOffset now)
    {
        lock (_lock)
        {
            var nodes = _nodes.Select(pair =>
            {
                var p = pair.Value.Durations.Percentiles(50, 95);
                var self = pair.Value.SelfTimes.Percentiles(50);
                var rate = pair.Value.Rate.Over(now, 10);
                return new ComponentNode(pair.Key.Id, pair.Key.Component, pair.Key.Name, pair.Value.Count, pair.Value.Errors, p[0], p[1], rate.PerSecond, self[0]);
            }).OrderBy(n => n.Id, StringComparer.Ordinal).ToArray();

            var edges = _edges.Select(pair =>
            {
                var p = pair.Value.Durations.Percentiles(50, 95);
                return new ComponentEdge(pair.Key.From.Id, pair.Key.To.Id, pair.Value.Count, pair.Value.Errors, p[0], p[1]);
            }).OrderBy(e => e.Source, StringComparer.Ordinal).ThenBy(e => e.Target, StringComparer.Ordinal).ToArray();

            return new ComponentMap(nodes, edges, _overflow);
        }
    }

    internal readonly record struct NodeKey(string Component, string Name)
    {
        public string Id => Component + ":" + Name;
    }

    private readonly record struct Call(NodeKey Node, double DurationMs, bool IsError);

    private sealed class NodeStats
    {
        public long Count;
        public long Errors;
        public readonly DurationReservoir Durations = new();
        public readonly DurationReservoir SelfTimes = new(256);
        public readonly RateWindow Rate = new();
    }

    private sealed class EdgeStats
    {
        public long Count;
        public long Errors;
        public readonly DurationReservoir Durations = new();
    }
}

/// <summary>A snapshot of the component map.</summary>
internal sealed record ComponentMap(IReadOnlyList<ComponentNode> Nodes, IReadOnlyList<ComponentEdge> Edges, long Overflow);

/// <summary>A component of the map.</summary>
internal sealed record ComponentNode(string Id, string Component, string Name, long Count, long ErrorCount, double P50Ms, double P95Ms, double RatePerSecond, double SelfTimeP50Ms);

/// <summary>Calls from one component to another.</summary>
internal sealed record ComponentEdge(string Source, string Target, long Count, long ErrorCount, double P50Ms, double P95Ms);
