using System.Diagnostics;
using FlowScope.Embedded.Buffering;
using FlowScope.Embedded.Capture;
using FlowScope.Embedded.Storage;
using FlowScope.Embedded.Storage.Encoding;

namespace FlowScope.Embedded.Metrics;

/// <summary>
/// The live map of the app: nodes are components (each middleware, endpoint or action, queue, worker, outbound
/// host, custom source), edges are parent → child calls between them with counts, errors and latency percentiles.
/// Fed by the pump with every stored batch, read in its encoded form. Spans usually end before their parent, so a
/// child waits (bounded) until its parent is seen. Every structure has a cap; what falls outside is counted. A
/// request's stages are observed from its payload's stage section: their nodes by stage kind, without names.
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

    // The node of each stage kind (by definition number): stages need no name look-up. Bounded.
    private readonly Dictionary<int, NodeStats> _stageKindNodes = new();
    private const int MaxStageKindNodes = 4_096;

    // Recently seen spans (span id → node) so children can find their parent's node: two generations of up to
    // half of MaxRememberedSpans each; when the newer is full the older is dropped. No per-span removal.
    private Dictionary<ulong, NodeStats> _recentSpans = new(MaxRememberedSpans / 2);
    private Dictionary<ulong, NodeStats> _olderSpans = new(MaxRememberedSpans / 2);

    // Children whose parent has not been seen yet, by parent span id; FIFO-bounded.
    private readonly Dictionary<ulong, List<Call>> _waiting = new();
    private readonly Queue<ulong> _waitingOrder = new();

    // Scratch for one request's stages: their entries, nodes (null when lost to the node cap), ids and self times.
    private StageEntry[] _stages = new StageEntry[16];
    private NodeStats?[] _stageNodes = new NodeStats?[16];
    private ulong[] _stageIds = new ulong[16];
    private long[] _stageSelf = new long[16];
    private int _waitingCount;
    private long _overflow;

    public void Observe(SpanBatch batch)
    {
        lock (_lock)
        {
            for (var i = 0; i < batch.Count; i++)
            {
                ObserveCore(new SpanPayload(batch.GetPayload(i)));
            }
        }
    }

    private void ObserveCore(SpanPayload span)
    {
        var node = ObserveSpan(NodeFor(NodeOf(span)), span.SpanId, span.ParentId == 0 ? null : span.ParentId, null, Milliseconds(span.DurationTicks), span.IsError, span.EndTicks, null);
        if (span.StageCount > 0)
        {
            ObserveStages(span, node);
        }
    }

    private static double Milliseconds(long ticks) => ticks / (double)TimeSpan.TicksPerMillisecond;

    /// <summary>
    /// Observes a request's stages as the spans they are read as (in order: parents come first). A request whose
    /// stages have the same kinds and nesting as one seen before (every request of a route, usually) is counted
    /// through that request's <see cref="StageShape"/>: its nodes and edges without any look-up.
    /// </summary>
    private void ObserveStages(SpanPayload request, NodeStats? requestNode)
    {
        var count = request.StageCount;
        if (_stages.Length < count)
        {
            var length = Math.Max(count, _stages.Length * 2);
            _stages = new StageEntry[length];
            _stageNodes = new NodeStats?[length];
            _stageIds = new ulong[length];
            _stageSelf = new long[length];
        }

        var stages = _stages.AsSpan(0, count);
        request.Stages().ReadEntries(stages, out var withChildren);
        StageSection.SelfTimes(stages, _stageSelf);
        var rootId = request.SpanId;
        for (var i = 0; i < count; i++)
        {
            _stageIds[i] = StageSection.StageSpanId(rootId, i);
        }

        var slot = ShapeSlot(stages);
        if (requestNode is not null && _shapes[slot] is { } shape && shape.Matches(stages, requestNode))
        {
            ObserveShape(shape, stages, withChildren);
            return;
        }

        var edges = new EdgeStats?[count];
        var cacheable = requestNode is not null;
        for (var i = 0; i < count; i++)
        {
            var stage = stages[i];
            var parentNode = stage.Parent < 0 ? requestNode : _stageNodes[stage.Parent];
            var parentId = stage.Parent < 0 ? rootId : _stageIds[stage.Parent];
            var overflowBefore = _overflow;
            var node = ObserveSpan(NodeForStage(stage.Definition), _stageIds[i], parentId, parentNode, Milliseconds(stage.DurationTicks), stage.Failed, stage.EndTicks, StageSelfMs(i), remember: StageSection.MayBeParent(withChildren, i));
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

    /// <summary>The node key of a stage kind (its definition's component and name).</summary>
    private static NodeKey StageNode(int definition)
    {
        var kind = StageDefinition.FromId(definition);
        return new NodeKey(kind.Component, kind.Name);
    }

    /// <summary>Counts a request's stages through the nodes and edges of an identical earlier request.</summary>
    private void ObserveShape(StageShape shape, ReadOnlySpan<StageEntry> stages, ulong withChildren)
    {
        var nodes = shape.Nodes;
        var edges = shape.Edges;
        for (var i = 0; i < nodes.Length; i++)
        {
            var node = nodes[i];
            var stage = stages[i];
            var durationMs = Milliseconds(stage.DurationTicks);
            node.Add(durationMs, stage.Failed, stage.EndTicks, StageSelfMs(i));
            edges[i]?.Add(durationMs, stage.Failed);
            var spanId = _stageIds[i];
            if (StageSection.MayBeParent(withChildren, i))
            {
                Remember(spanId, node);
            }

            LinkWaitingChildren(spanId, node);
        }
    }

    private double StageSelfMs(int index) => Milliseconds(_stageSelf[index]);

    // Shapes by a hash of the request's last stage's kind (usually the action's result or the endpoint) and stage
    // count; a new shape in a slot replaces the old one.
    private readonly StageShape?[] _shapes = new StageShape?[MaxShapes];
    private const int MaxShapes = 256;

    private static int ShapeSlot(ReadOnlySpan<StageEntry> stages)
    {
        var hash = (stages[^1].Definition * -1640531535) ^ (stages.Length * 0x2545F491);
        return (int)((uint)hash % MaxShapes);
    }

    /// <summary>The nodes and edges of a request's stages, for requests whose stages have the same kinds and parents.</summary>
    private sealed class StageShape
    {
        private readonly int[] _definitions;
        private readonly int[] _parents;
        private readonly NodeStats _requestNode;

        public StageShape(ReadOnlySpan<StageEntry> stages, NodeStats requestNode, NodeStats[] nodes, EdgeStats?[] edges)
        {
            _definitions = new int[stages.Length];
            _parents = new int[stages.Length];
            for (var i = 0; i < stages.Length; i++)
            {
                _definitions[i] = stages[i].Definition;
                _parents[i] = stages[i].Parent;
            }

            _requestNode = requestNode;
            Nodes = nodes;
            Edges = edges;
        }

        public NodeStats[] Nodes { get; }

        /// <summary>The edge from each stage's parent to it; <see langword="null"/> where both are one component.</summary>
        public EdgeStats?[] Edges { get; }

        public bool Matches(ReadOnlySpan<StageEntry> stages, NodeStats requestNode)
        {
            if (stages.Length != _definitions.Length || !ReferenceEquals(requestNode, _requestNode))
            {
                return false;
            }

            for (var i = 0; i < _definitions.Length; i++)
            {
                if (stages[i].Definition != _definitions[i] || stages[i].Parent != _parents[i])
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
    private NodeStats? ObserveSpan(NodeStats? node, ulong spanId, ulong? parentId, NodeStats? knownParent, double durationMs, bool isError, long endTicks, double? selfMs, bool remember = true)
    {
        if (node is null)
        {
            return null;
        }

        node.Add(durationMs, isError, endTicks, selfMs);
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
        if (!_nodes.TryGetValue(key, out var node))
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

        return node;
    }

    /// <summary>The node of a stage kind, looked up once per kind.</summary>
    private NodeStats? NodeForStage(int definition)
    {
        if (_stageKindNodes.TryGetValue(definition, out var node))
        {
            return node;
        }

        node = NodeFor(StageNode(definition));
        if (node is not null && _stageKindNodes.Count < MaxStageKindNodes)
        {
            _stageKindNodes.Add(definition, node);
        }

        return node;
    }

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
    internal static NodeKey NodeOf(SpanPayload span)
    {
        span.ReadTexts(out var nameText, out var componentText, out var sourceText, out _);
        var component = componentText.ToString();
        var name = component switch
        {
            SpanComponents.Server => "server",
            SpanComponents.Queue => span.GetAttribute("messaging.destination.name") ?? nameText.ToString(),
            SpanComponents.HttpClient => span.GetAttribute("server.address") ?? HostOf(span.GetAttribute("url.full")) ?? nameText.ToString(),
            SpanComponents.Database => span.GetAttribute("db.namespace") ?? span.GetAttribute("db.system.name") ?? span.GetAttribute("db.system") ?? nameText.ToString(),
            SpanComponents.Worker => span.GetAttribute("flowscope.worker.name") ?? nameText.ToString(),
            SpanComponents.Custom when !sourceText.IsEmpty && !sourceText.ToString().StartsWith(FlowScopeSources.Prefix, StringComparison.Ordinal) => sourceText.ToString(),
            _ => nameText.ToString(),
        };

        return new NodeKey(component, name);
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
