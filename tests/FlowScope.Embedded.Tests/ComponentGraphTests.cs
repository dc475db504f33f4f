using FlowScope.Embedded.Metrics;
using FlowScope.Embedded.Storage;
using static FlowScope.Embedded.Tests.TestSpans;

namespace FlowScope.Embedded.Tests;

public sealed class ComponentGraphTests
{
    [Fact]
    public void A_child_that_ends_before_its_parent_draws_the_edge_once_the_parent_arrives()
    {
        var graph = new ComponentGraph();
        var trace = TraceId(1);
        graph.Observe(Batch(Span(trace, SpanId(2), parent: SpanId(1), name: "RequestIdMiddleware", component: SpanComponents.Middleware)));
        graph.Observe(Batch(Span(trace, SpanId(1), name: "GET /things")));

        var edge = Assert.Single(graph.Snapshot(T0).Edges);
        Assert.Equal("server:server", edge.Source);
        Assert.Equal("middleware:RequestIdMiddleware", edge.Target);
        Assert.Equal(1, edge.Count);
        Assert.Equal(0, graph.Sizes.WaitingParents);
        Assert.Equal(0, graph.Sizes.WaitingChildren);
    }

    [Fact]
    public void Parents_that_arrive_after_their_children_leave_no_trace_in_the_waiting_structures()
    {
        // Far more traces than any cap: each has a child that ends first, then its parent, as a request's stages do.
        var graph = new ComponentGraph();
        const int traces = 10 * ComponentGraph.MaxWaitingChildren;
        for (var n = 0; n < traces; n++)
        {
            var trace = TraceId(n);
            graph.Observe(Batch(
                Span(trace, SpanId(2 * n + 1), parent: SpanId(2 * n), name: "RequestIdMiddleware", component: SpanComponents.Middleware),
                Span(trace, SpanId(2 * n), name: "GET /things")));
        }

        var sizes = graph.Sizes;
        Assert.Equal(0, sizes.WaitingParents);
        Assert.Equal(0, sizes.WaitingChildren);
        Assert.InRange(sizes.OrderedParents, 0, 2 * ComponentGraph.MaxWaitingChildren);
        Assert.InRange(sizes.RememberedSpans, 0, ComponentGraph.MaxRememberedSpans);

        var map = graph.Snapshot(T0);
        Assert.Equal(traces, Assert.Single(map.Edges).Count);
        Assert.Equal(0, map.Overflow);
    }

    [Fact]
    public void Children_whose_parent_never_arrives_stay_within_the_cap_and_are_counted_as_overflow()
    {
        var graph = new ComponentGraph();
        const int orphans = 3 * ComponentGraph.MaxWaitingChildren;
        for (var n = 0; n < orphans; n++)
        {
            graph.Observe(Batch(Span(TraceId(n), SpanId(2 * n + 1), parent: SpanId(2 * n), name: "RequestIdMiddleware", component: SpanComponents.Middleware)));
        }

        var sizes = graph.Sizes;
        Assert.Equal(ComponentGraph.MaxWaitingChildren, sizes.WaitingChildren);
        Assert.InRange(sizes.OrderedParents, 0, 2 * ComponentGraph.MaxWaitingChildren);
        Assert.Equal(orphans - ComponentGraph.MaxWaitingChildren, graph.Snapshot(T0).Overflow);
    }
}
