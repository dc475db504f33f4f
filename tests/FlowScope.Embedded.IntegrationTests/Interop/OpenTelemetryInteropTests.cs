using System.Diagnostics;
using FlowScope.Embedded.Storage;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;

namespace FlowScope.Embedded.IntegrationTests.Interop;

public sealed class OpenTelemetryInteropTests
{
    private static readonly string[] Paths = ["/hello/1", "/nested", "/upstream", "/teapot"];

    /// <summary>What an exporter saw of one span, independent of ids.</summary>
    private sealed record Exported(string Name, ActivityKind Kind, string? ParentName, bool Sampled, string TagKeys, int Events);

    private static async Task<(List<Exported> Spans, KestrelApp App)> RunAsync(bool flowScope, Sampler sampler, int expected)
    {
        var exported = new List<Activity>();
        var app = await KestrelApp.StartAsync(flowScope, services => services.AddOpenTelemetry().WithTracing(t => t
            .SetSampler(sampler)
            .AddAspNetCoreInstrumentation()
            .AddHttpClientInstrumentation()
            .AddSource("TestApp")
            .AddInMemoryExporter(exported)));

        foreach (var path in Paths)
        {
            using var response = await app.Client.GetAsync(path);
        }

        if (expected > 0)
        {
            await Eventually.TrueAsync(() => Task.FromResult(Count(exported) >= expected), because: $"{Count(exported)} of {expected} spans exported");
        }

        Activity[] snapshot;
        lock (exported)
        {
            snapshot = [.. exported];
        }

        var byId = snapshot.ToDictionary(a => a.SpanId);
        var spans = snapshot
            .Select(a => new Exported(
                a.DisplayName,
                a.Kind,
                a.ParentSpanId == default ? null : byId.TryGetValue(a.ParentSpanId, out var parent) ? parent.DisplayName : "(missing)",
                a.Recorded,
                string.Join(",", a.TagObjects.Select(t => t.Key).Order(StringComparer.Ordinal)),
                a.Events.Count()))
            .OrderBy(e => e.Name, StringComparer.Ordinal).ThenBy(e => e.ParentName, StringComparer.Ordinal)
            .ToList();
        return (spans, app);
    }

    private static int Count(List<Activity> exported)
    {
        lock (exported)
        {
            return exported.Count;
        }
    }

    [Fact]
    public async Task The_app_exports_exactly_the_same_spans_with_FlowScope_on_and_off()
    {
        // The test's own 4 calls (HttpClient is instrumented process-wide), 4 server spans, 2 custom steps,
        // 1 outbound call from /upstream and the downstream server span it causes.
        const int Expected = 12;
        var (without, appWithout) = await RunAsync(flowScope: false, new AlwaysOnSampler(), Expected);
        await appWithout.DisposeAsync();
        var (with, appWith) = await RunAsync(flowScope: true, new AlwaysOnSampler(), Expected);
        await using var _ = appWith;

        Assert.Equal(Expected, without.Count);
        Assert.Equal(without, with);
        Assert.DoesNotContain(with, s => s.ParentName == "(missing)");

        // And FlowScope saw everything too, with its middleware stages on top.
        var store = appWith.App.Services.GetRequiredService<ITraceStore>();
        await Eventually.TrueAsync(async () => (await store.QueryAsync(new TraceQuery())).Traces.Count == 4);
    }

    [Fact]
    public async Task FlowScope_never_changes_the_app_s_sampling_decision()
    {
        var (exported, app) = await RunAsync(flowScope: true, new AlwaysOffSampler(), expected: 0);
        await using var _ = app;

        var store = app.App.Services.GetRequiredService<ITraceStore>();
        await Eventually.TrueAsync(async () => (await store.QueryAsync(new TraceQuery())).Traces.Count == 4);
        var upstream = (await store.QueryAsync(new TraceQuery { Text = "GET /upstream" })).Traces.Single();
        var spans = (await store.GetTraceAsync(upstream.TraceId))!.Spans;

        Assert.Empty(exported);
        Assert.Contains(spans, s => s.Component == "http-client");
        Assert.Contains(spans, s => s.Name == "GET /downstream"); // the downstream request joined the same trace
    }
}
