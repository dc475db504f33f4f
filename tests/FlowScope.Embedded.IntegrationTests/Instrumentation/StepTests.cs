using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Serialization;
using FlowScope.Embedded.Steps;
using FlowScope.Embedded.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace FlowScope.Embedded.IntegrationTests.Instrumentation;

public sealed class StepTests
{
    private static Task<TestApp> StartAsync() => AsyncTestApp.StartAsync(
        configuration: new() { ["FlowScope:MaxAttributeValueLength"] = "100000", ["FlowScope:MaxEventsPerSpan"] = "1000" }, // let FlowScopeSteps' own caps show
        map: app =>
        {
            app.MapGet("/route", (string text) =>
            {
                using var step = FlowScopeSteps.Start("route message");
                step.Observe("candidates", 3);
                step.Observe("confidence", 0.75);
                step.Observe("is command", text.StartsWith('/'));
                step.Observe("text", text);
                step.Observe("user", new RouteUser("ada", ["admin", "ops"]), StepJsonContext.Default.RouteUser);
                var decision = text.StartsWith('/') ? "bot" : "room";
                step.Decide(decision, reason: text.StartsWith('/') ? "starts with /" : "plain text");
                return decision;
            });
            app.MapGet("/hostile", () =>
            {
                using var step = FlowScopeSteps.Start("ingest");
                var cycle = new Node("a");
                cycle.Next = cycle;
                step.Observe("huge text", new string('x', 100_000));
                step.Observe("huge object", Enumerable.Range(0, 200_000).Select(i => new RouteUser("user" + i, ["r"])).ToList(), StepJsonContext.Default.ListRouteUser);
                step.Observe("cycle", cycle, StepJsonContext.Default.Node);
                step.Observe("throwing", new Throwing(), StepJsonContext.Default.Throwing);
                step.Observe(null!, (string?)null);
                for (var i = 0; i < FlowScopeSteps.MaxObservationsPerStep + 10; i++)
                {
                    step.Observe("n", i);
                }

                step.Fail("nothing could be ingested");
                return "survived";
            });
        });

    [Fact]
    public async Task Observations_and_the_decision_appear_as_events_of_a_custom_span_in_the_request_s_trace()
    {
        await using var app = await StartAsync();

        Assert.Equal("bot", await app.Client.GetStringAsync("/route?text=/help"));

        var trace = await app.WaitForSpansAsync(t => t.Route == "/route", spanCount: 2);
        var root = Assert.Single(trace.Spans, s => s.ParentSpanId is null);
        var step = Assert.Single(trace.Spans, s => s.Name == "route message");
        Assert.Equal(root.SpanId, step.ParentSpanId);
        Assert.Equal(SpanComponents.Custom, step.Component);
        Assert.Equal("FlowScope.Steps", step.Source);
        Assert.Equal("bot", step.Attr("flowscope.step.decision"));
        Assert.Equal("starts with /", step.Attr("flowscope.step.reason"));
        Assert.Equal("ok", step.Attr("flowscope.step.outcome"));

        var observations = step.Events.Where(e => e.Name == "observation").Select(e => e.Attributes.ToDictionary(a => a.Key, a => a.Value)).ToArray();
        Assert.Equal(["candidates", "confidence", "is command", "text", "user"], observations.Select(o => o["flowscope.observation.key"]));
        Assert.Equal(["3", "0.75", "true", "/help", """{"Name":"ada","Roles":["admin","ops"]}"""], observations.Select(o => o["flowscope.observation.value"]));
        Assert.Equal(["number", "number", "bool", "string", "json"], observations.Select(o => o["flowscope.observation.type"]));
        Assert.All(observations, o => Assert.False(o.ContainsKey("flowscope.observation.truncated")));

        var decision = Assert.Single(step.Events, e => e.Name == "decision");
        Assert.Contains(decision.Attributes, a => a.Key == "flowscope.step.decision" && a.Value == "bot");
        Assert.True(decision.Timestamp >= step.Events[0].Timestamp);
    }

    [Fact]
    public async Task Huge_unserializable_and_excessive_observations_are_capped_and_never_throw()
    {
        await using var app = await StartAsync();
        var before = Workers.Internal.InstrumentationFailures.Count;

        Assert.Equal("survived", await app.Client.GetStringAsync("/hostile"));

        var trace = await app.WaitForSpansAsync(t => t.Route == "/hostile", spanCount: 2);
        var step = Assert.Single(trace.Spans, s => s.Name == "ingest");
        Assert.Equal(ActivityStatusCode.Error, step.Status);
        Assert.Equal("nothing could be ingested", step.StatusMessage);
        Assert.Equal("error", step.Attr("flowscope.step.outcome"));
        Assert.Equal("15", step.Attr("flowscope.step.observations_dropped")); // 5 + 266 observed, 256 kept

        var byKey = step.Events.Where(e => e.Name == "observation").Select(e => e.Attributes.ToDictionary(a => a.Key, a => a.Value)).ToArray();
        Assert.Equal(FlowScopeSteps.MaxObservationsPerStep, byKey.Length);

        var hugeText = byKey.Single(o => o["flowscope.observation.key"] == "huge text");
        Assert.Equal("true", hugeText["flowscope.observation.truncated"]);
        Assert.Equal(FlowScopeSteps.MaxObservationLength + 1, hugeText["flowscope.observation.value"].Length);
        Assert.EndsWith("x…", hugeText["flowscope.observation.value"], StringComparison.Ordinal);

        var hugeObject = byKey.Single(o => o["flowscope.observation.key"] == "huge object");
        Assert.Equal("true", hugeObject["flowscope.observation.truncated"]);
        Assert.StartsWith("""[{"Name":"user0","Roles":["r"]}""", hugeObject["flowscope.observation.value"], StringComparison.Ordinal);
        Assert.InRange(hugeObject["flowscope.observation.value"].Length, 100, FlowScopeSteps.MaxObservationLength + 1);

        var cycle = byKey.Single(o => o["flowscope.observation.key"] == "cycle");
        Assert.Equal("(unserializable)", cycle["flowscope.observation.value"]);
        Assert.Contains("maximum allowed depth", cycle["flowscope.observation.error"], StringComparison.Ordinal); // a cycle fails at the depth limit

        var throwing = byKey.Single(o => o["flowscope.observation.key"] == "throwing");
        Assert.Equal("(unserializable)", throwing["flowscope.observation.value"]);
        Assert.Contains("getter says no", throwing["flowscope.observation.error"], StringComparison.Ordinal);

        var unnamed = byKey.Single(o => o["flowscope.observation.key"] == "(unnamed)");
        Assert.Equal("null", unnamed["flowscope.observation.type"]);

        // The values' own faults are recorded, not counted as FlowScope failures.
        Assert.Equal(before, Workers.Internal.InstrumentationFailures.Count);
    }

    [Fact]
    public void Without_a_listener_a_step_records_nothing_and_costs_nothing()
    {
        using var step = FlowScopeSteps.Start("unheard");
        Assert.False(step.IsRecording);
        Assert.Null(step.Activity);
        step.Observe("x", new RouteUser("a", []), StepJsonContext.Default.RouteUser);
        step.Decide("nothing");
        step.Fail(new InvalidOperationException("ignored"));
        Assert.Null(Activity.Current);
    }
}

internal sealed record RouteUser(string Name, string[] Roles);

internal sealed class Node(string name)
{
    public string Name { get; } = name;

    public Node? Next { get; set; }
}

internal sealed class Throwing
{
    public string Value => throw new InvalidOperationException("getter says no");
}

[JsonSerializable(typeof(RouteUser))]
[JsonSerializable(typeof(List<RouteUser>))]
[JsonSerializable(typeof(Node))]
[JsonSerializable(typeof(Throwing))]
internal sealed partial class StepJsonContext : JsonSerializerContext;
