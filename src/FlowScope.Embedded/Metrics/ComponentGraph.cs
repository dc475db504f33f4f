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

    // Edges by their two nodes' stats objects: one node is one object, so identity is equality and hashing is cheap.
    private readonly Dictionary<(NodeStats From, NodeStats To), EdgeStats> _edges = new();

    // The node of a (component, name) pair by string identity: stage names, routes and components are the same
    // string objects on every request, so most look-ups hash two references instead of two strings. Bounded.
    private readonly Dictionary<(string Component, string Name), NodeStats> _nodesByReference = new(ReferencePairComparer.Instance);
    private const int MaxNodesByReference = 4_096;

    // Recently seen spans (span id → node) so children can find their parent's node: two generations of up to
    // half of MaxRememberedSpans each; when the newer is full the older is dropped. No per-span removal.
    private Dictionary<ulong, NodeStats> _recentSpans = new(MaxRememberedSpans / 2);
    private Dictionary<ulong, NodeStats> _olderSpans = new(MaxRememberedSpans / 2);

    // Children whose parent has not been seen yet, by parent span id; FIFO-bounded.
    private readonly Dictionary<ulong, List<Call>> _waiting = new();
    private readonly Queue<ulong> _waitingOrder = new();

    // Scratch for one request's stages: their nodes (null when lost to the node cap), ids and self times.
    private NodeStats?[] _stageNodes = new NodeStats?[16];
    private ulong[] _stageIds = new ulong[16];
    private double[] _stageSelf = new double[16];
    private long[] _stageStart = new long[16];
    private long[] _stageDuration = new long[16];
    private int _waitingCount;
    private long _overflow;

    public void Observe(IReadOnlyList<SpanRecord> spans)
    {
        lock (_lock)
        {
            for (var i = 0; i < spans.Count; i++)
            {
                ObserveCore(spans[i]);
            }
        }
    }

    private void ObserveCore(SpanRecord span)
    {
        var isError = span.Status == System.Diagnostics.ActivityStatusCode.Error;
        double? selfMs = span.GetAttribute(Capture.SpanConverter.SelfTimeAttribute) is { } self
            && double.TryParse(self, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var parsed)
            ? parsed
            : null;
        var node = ObserveSpan(NodeOf(span), span.SpanIdNumber, span.ParentSpanIdNumber, null, span.Duration.TotalMilliseconds, isError, span.EndTime, selfMs);

        if (span.Stages is { } stages)
        {
            ObserveStages(stages, node);
        }
    }

    /// <summary>
    /// Observes a request's compact stages as the records they expand to (in order: parents come first). A request
    /// whose stages have the same kinds, names and nesting as one seen before (every request of a route, usually)
    /// is counted through that request's <see cref="StageShape"/>: its nodes and edges without any look-up.
    /// </summary>
    private void ObserveStages(Capture.RequestStages stages, NodeStats? requestNode)
    {
        var count = stages.Count;
        if (_stageNodes.Length < count)
        {
            var length = Math.Max(count, _stageNodes.Length * 2);
            _stageNodes = new NodeStats?[length];
            _stageIds = new ulong[length];
            _stageSelf = new double[length];
            _stageStart = new long[length];
            _stageDuration = new long[length];
        }

        stages.SpanIdValues(_stageIds);
        stages.Timings(_stageStart, _stageDuration, _stageSelf);
        var slot = ShapeSlot(stages);
        if (requestNode is not null && _shapes[slot] is { } shape && shape.Matches(stages, requestNode))
        {
            ObserveShape(shape, stages);
            return;
        }

        var rootId = stages.Root;
        var edges = new EdgeStats?[count];
        var cacheable = requestNode is not null;
        for (var i = 0; i < count; i++)
        {
            var parent = stages.ParentOf(i);
            var parentNode = parent < 0 ? requestNode : _stageNodes[parent];
            var parentId = parent < 0 ? rootId : _stageIds[parent];

            var selfMs = StageSelfMs(i);
            var duration = new TimeSpan(_stageDuration[i]);
            var end = new DateTimeOffset(_stageStart[i] + _stageDuration[i], TimeSpan.Zero);
            var overflowBefore = _overflow;
            var node = ObserveSpan(new NodeKey(stages.ComponentOf(i), stages.NameOf(i)), _stageIds[i], parentId, parentNode, duration.TotalMilliseconds, stages.IsFailed(i), end, selfMs, remember: stages.MayBeParent(i));
            _stageNodes[i] = node;
            if (node is null || parentNode is null || _overflow != overflowBefore)
            {
                cacheable = false; // lost to a cap: counted the slow way every time
            }
            else if (!ReferenceEquals(parentNode, node))
            {
                edges[i] = _edges[(parentNode, node)];
            }
        }

        if (cacheable)
        {
            _shapes[slot] = new StageShape(stages, requestNode!, _stageNodes.AsSpan(0, count).ToArray()!, edges);
        }
    }

    /// <summary>Counts a request's stages through the nodes and edges of an identical earlier request.</summary>
    private void ObserveShape(StageShape shape, Capture.RequestStages stages)
    {
        var nodes = shape.Nodes;
        var edges = shape.Edges;
        for (var i = 0; i < nodes.Length; i++)
        {
            var node = nodes[i];
            var failed = stages.IsFailed(i);
            var durationMs = new TimeSpan(_stageDuration[i]).TotalMilliseconds;
            node.Add(durationMs, failed, _stageStart[i] + _stageDuration[i], StageSelfMs(i));
            edges[i]?.Add(durationMs, failed);
            var spanId = _stageIds[i];
            if (stages.MayBeParent(i))
            {
                Remember(spanId, node);
            }

            LinkWaitingChildren(spanId, node);
        }
    }

    // A stage's self time as its record's self-time attribute holds it: rounded to three decimals ("0.###").
    private double StageSelfMs(int index) => Math.Round(_stageSelf[index], 3, MidpointRounding.AwayFromZero);

    // Shapes by a hash of the request's last stage's kind (usually the action's result or the endpoint) and stage
    // count; a new shape in a slot replaces the old one.
    private readonly StageShape?[] _shapes = new StageShape?[MaxShapes];
    private const int MaxShapes = 256;

    private static int ShapeSlot(Capture.RequestStages stages)
    {
        var last = stages.Count - 1;
        var hash = (stages.DefinitionIdOf(last) * -1640531535) ^ (stages.Count * 0x2545F491);
        return (int)((uint)hash % MaxShapes);
    }

    /// <summary>The nodes and edges of a request's stages, for requests whose stages have the same definitions (kinds and names) and parents.</summary>
    private sealed class StageShape
    {
        private readonly int[] _definitions;
        private readonly int[] _parents;
        private readonly NodeStats _requestNode;

        public StageShape(Capture.RequestStages stages, NodeStats requestNode, NodeStats[] nodes, EdgeStats?[] edges)
        {
            var count = stages.Count;
            _definitions = new int[count];
            _parents = new int[count];
            for (var i = 0; i < count; i++)
            {
                _definitions[i] = stages.DefinitionIdOf(i);
                _parents[i] = stages.ParentOf(i);
            }

            _requestNode = requestNode;
            Nodes = nodes;
            Edges = edges;
        }

        public NodeStats[] Nodes { get; }

        /// <summary>The edge from each stage's parent to it; <see langword="null"/> where both are one component.</summary>
        public EdgeStats?[] Edges { get; }

        public bool Matches(Capture.RequestStages stages, NodeStats requestNode)
        {
            if (stages.Count != _definitions.Length || !ReferenceEquals(requestNode, _requestNode))
            {
                return false;
            }

            for (var i = 0; i < _definitions.Length; i++)
            {
                if (stages.DefinitionIdOf(i) != _definitions[i] || stages.ParentOf(i) != _parents[i])
                {
                    return false;
                }
            }

            return true;
        }
    }

    /// <summary>
    /// Counts one span in its node, remembers it, links it to its parent (now, or when the parent comes) and links
    /// the children that waited for it. Returns its node, or <see langword="null"/> when the node cap left none.
    /// </summary>
    private NodeStats? ObserveSpan(NodeKey key, ulong spanId, ulong? parentId, NodeStats? knownParent, double durationMs, bool isError, DateTimeOffset end, double? selfMs, bool remember = true)
    {
        var node = NodeFor(key);
        if (node is null)
        {
            return null;
        }

        node.Add(durationMs, isError, end.UtcTicks, selfMs);
        if (remember)
        {
            Remember(spanId, node);
        }

        var call = new Call(node, durationMs, isError);
        if (knownParent is not null)
        {
            AddEdge(knownParent, call);
        }
        else if (parentId is { } parent)
        {
            if (_recentSpans.TryGetValue(parent, out var parentNode) || _olderSpans.TryGetValue(parent, out parentNode))
            {
                AddEdge(parentNode, call);
            }
            else
            {
                Wait(parent, call);
            }
        }

        LinkWaitingChildren(spanId, node);
        return node;
    }

    /// <summary>Links the children that arrived before the span <paramref name="spanId"/>, now that its node is known.</summary>
    private void LinkWaitingChildren(ulong spanId, NodeStats node)
    {
        if (_waiting.Count > 0 && _waiting.Remove(spanId, out var children))
        {
            _waitingCount -= children.Count;
            foreach (var child in children)
            {
                AddEdge(node, child);
            }
        }
    }

    /// <summary>The node a key is counted in: its own, "(other)" of its component once the node cap is reached, or none.</summary>
    private NodeStats? NodeFor(NodeKey key)
    {
        if (_nodesByReference.TryGetValue((key.Component, key.Name), out var node))
        {
            return node;
        }

        if (!_nodes.TryGetValue(key, out node))
        {
            if (_nodes.Count >= MaxNodes)
            {
                if (!_nodes.TryGetValue(new NodeKey(key.Component, "(other)"), out node))
                {
                    _overflow++;
                    return null;
                }
            }
            else
            {
                node = new NodeStats(key);
                _nodes.Add(key, node);
            }
        }

        if (_nodesByReference.Count >= MaxNodesByReference)
        {
            _nodesByReference.Clear();
        }

        _nodesByReference[(key.Component, key.Name)] = node;
        return node;
    }

    /// <summary>A span id as a number: its 16 hex digits; any other form is hashed.</summary>
    internal static ulong IdOf(string spanId) =>
        spanId.Length == 16 && ulong.TryParse(spanId, System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out var value)
            ? value
            : (ulong)(uint)StringComparer.Ordinal.GetHashCode(spanId) | 0x8000_0000_0000_0000UL;

    private void AddEdge(NodeStats from, Call call)
    {
        if (ReferenceEquals(from, call.Node))
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

        edge.Add(call.DurationMs, call.IsError);
    }

    private void Remember(ulong spanId, NodeStats node)
    {
        if (_recentSpans.Count >= MaxRememberedSpans / 2)
        {
            (_recentSpans, _olderSpans) = (_olderSpans, _recentSpans);
            _recentSpans.Clear();
        }

        _recentSpans.TryAdd(spanId, node);
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
                return (_waitingOrder.Count, _waiting.Count, _waitingCount, _recentSpans.Count + _olderSpans.Count);
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
                return new ComponentEdge(pair.Key.From.Key.Id, pair.Key.To.Key.Id, pair.Value.Count, pair.Value.Errors, p[0], p[1]);
            }).OrderBy(e => e.Source, StringComparer.Ordinal).ThenBy(e => e.Target, StringComparer.Ordinal).ToArray();

            return new ComponentMap(nodes, edges, _overflow);
        }
    }

    internal readonly record struct NodeKey(string Component, string Name)
    {
        public string Id => Component + ":" + Name;
    }

    private readonly record struct Call(NodeStats Node, double DurationMs, bool IsError);

    private sealed class NodeStats(NodeKey key)
    {
        public readonly NodeKey Key = key;
        public long Count;
        public long Errors;
        public readonly DurationReservoir Durations = new();
        public readonly DurationReservoir SelfTimes = new(256);
        public readonly RateWindow Rate = new();

        /// <summary>Counts one span ending at <paramref name="endUtcTicks"/>.</summary>
        public void Add(double durationMs, bool isError, long endUtcTicks, double? selfMs)
        {
            Count++;
            if (isError)
            {
                Errors++;
            }

            Durations.Add(durationMs);
            Rate.Add(endUtcTicks, isError);
            if (selfMs is { } self)
            {
                SelfTimes.Add(self);
            }
        }
    }

    /// <summary>Compares (component, name) pairs by string identity.</summary>
    private sealed class ReferencePairComparer : IEqualityComparer<(string, string)>
    {
        public static readonly ReferencePairComparer Instance = new();

        public bool Equals((string, string) x, (string, string) y) => ReferenceEquals(x.Item1, y.Item1) && ReferenceEquals(x.Item2, y.Item2);

        public int GetHashCode((string, string) obj) =>
            HashCode.Combine(System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(obj.Item1), System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(obj.Item2));
    }

    private sealed class EdgeStats
    {
        public long Count;
        public long Errors;
        public readonly DurationReservoir Durations = new();

        /// <summary>Counts one call.</summary>
        public void Add(double durationMs, bool isError)
        {
            Count++;
            if (isError)
            {
                Errors++;
            }

            Durations.Add(durationMs);
        }
    }
}

/// <summary>A snapshot of the component map.</summary>
internal sealed record ComponentMap(IReadOnlyList<ComponentNode> Nodes, IReadOnlyList<ComponentEdge> Edges, long Overflow);

/// <summary>A component of the map.</summary>
internal sealed record ComponentNode(string Id, string Component, string Name, long Count, long ErrorCount, double P50Ms, double P95Ms, double RatePerSecond, double SelfTimeP50Ms);

/// <summary>Calls from one component to another.</summary>
internal sealed record ComponentEdge(string Source, string Target, long Count, long ErrorCount, double P50Ms, double P95Ms);
