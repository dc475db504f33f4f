using FlowScope.Embedded.Buffering;
using FlowScope.Embedded.Storage;

namespace FlowScope.Embedded.Metrics;

/// <summary>
/// The live map of the app: nodes are components (each middleware, endpoint or action, queue, worker, outbound
/// host, custom source), edges are parent → child calls between them with counts, errors and latency percentiles.
/// Fed by the pump with every stored span. Spans usually end before their parent, so a child waits (bounded) until
/// its parent is seen. Every structure has a cap; what falls outside is counted. Span ids are kept as numbers (the
/// 16 hex digits parsed), and a request's compact stages (<see cref="SpanRecord.Stages"/>) are observed directly,
/// exactly as their expanded records would be, without building them.
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
    private readonly Dictionary<ulong, NodeKey> _spanNodes = new();
    private readonly Queue<ulong> _spanOrder = new();

    // Children whose parent has not been seen yet, by parent span id; FIFO-bounded.
    private readonly Dictionary<ulong, List<Call>> _waiting = new();
    private readonly Queue<ulong> _waitingOrder = new();

    // Scratch for one request's stages: their nodes, and whether each was observed (not lost to the node cap).
    private NodeKey[] _stageKeys = new NodeKey[16];
    private bool[] _stageSeen = new bool[16];
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
        double? selfMs = span.GetAttribute(Capture.SpanConverter.SelfTimeAttribute) is { } self
            && double.TryParse(self, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var parsed)
            ? parsed
            : null;
        var seen = ObserveSpan(ref key, IdOf(span.SpanId), span.ParentSpanId is { } parentId ? IdOf(parentId) : null, null, span.Duration.TotalMilliseconds, isError, span.EndTime, selfMs);

        if (span.Stages is { } stages)
        {
            ObserveStages(stages, key, seen);
        }
    }

    /// <summary>Observes a request's compact stages as the records they expand to (in order: parents come first).</summary>
    private void ObserveStages(Capture.RequestStages stages, NodeKey requestKey, bool requestSeen)
    {
        var count = stages.Count;
        if (_stageKeys.Length < count)
        {
            _stageKeys = new NodeKey[Math.Max(count, _stageKeys.Length * 2)];
            _stageSeen = new bool[_stageKeys.Length];
        }

        var rootId = IdOf(stages.RootId);
        for (var i = 0; i < count; i++)
        {
            var key = new NodeKey(stages.ComponentOf(i), stages.NameOf(i));
            var parent = stages.ParentOf(i);
            NodeKey? parentKey = parent < 0
                ? (requestSeen ? requestKey : null)
                : (_stageSeen[parent] ? _stageKeys[parent] : null);
            var parentId = parent < 0 ? rootId : stages.SpanIdValue(parent);

            // The self-time attribute holds the value rounded to three decimals ("0.###").
            var selfMs = Math.Round(stages.SelfTimeMs(i), 3, MidpointRounding.AwayFromZero);
            _stageSeen[i] = ObserveSpan(ref key, stages.SpanIdValue(i), parentId, parentKey, stages.DurationOf(i).TotalMilliseconds, stages.IsFailed(i), stages.EndOf(i), selfMs);
            _stageKeys[i] = key;
        }
    }

    /// <summary>
    /// Counts one span in its node, remembers it, links it to its parent (now, or when the parent comes) and links
    /// the children that waited for it. Returns <see langword="false"/> when the node cap left no node for it.
    /// </summary>
    private bool ObserveSpan(ref NodeKey key, ulong spanId, ulong? parentId, NodeKey? knownParent, double durationMs, bool isError, DateTimeOffset end, double? selfMs)
    {
        if (!_nodes.TryGetValue(key, out var node))
        {
            if (_nodes.Count >= MaxNodes)
            {
                key = new NodeKey(key.Component, "(other)");
                if (!_nodes.TryGetValue(key, out node))
                {
                    _overflow++;
                    return false;
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
        node.Rate.Add(end, isError);
        if (selfMs is { } self)
        {
            node.SelfTimes.Add(self);
        }

        Remember(spanId, key);

        var call = new Call(key, durationMs, isError);
        if (knownParent is { } parentKey)
        {
            AddEdge(parentKey, call);
        }
        else if (parentId is { } parent)
        {
            if (_spanNodes.TryGetValue(parent, out var rememberedParent))
            {
                AddEdge(rememberedParent, call);
            }
            else
            {
                Wait(parent, call);
            }
        }

        if (_waiting.Remove(spanId, out var children))
        {
            _waitingCount -= children.Count;
            foreach (var child in children)
            {
                AddEdge(key, child);
            }
        }

        return true;
    }

    /// <summary>A span id as a number: its 16 hex digits; any other form is hashed.</summary>
    internal static ulong IdOf(string spanId) =>
        spanId.Length == 16 && ulong.TryParse(spanId, System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out var value)
            ? value
            : (ulong)(uint)StringComparer.Ordinal.GetHashCode(spanId) | 0x8000_0000_0000_0000UL;

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

    private void Remember(ulong spanId, NodeKey key)
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

    private void Wait(ulong parentId, Call call)
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
