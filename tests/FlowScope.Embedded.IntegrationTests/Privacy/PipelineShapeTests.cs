using System.Net;
using FlowScope.Embedded.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace FlowScope.Embedded.IntegrationTests.Privacy;

/// <summary>UseFlowScope() leaves the app's pipeline and endpoints as the app built them; the dashboard lives in a branch.</summary>
public sealed class PipelineShapeTests
{
    private static string[] AppEndpoints(IServiceProvider services) =>
        [.. services.GetRequiredService<EndpointDataSource>().Endpoints.Select(e => e.DisplayName ?? e.ToString()!).Order(StringComparer.Ordinal)];

    [Fact]
    public async Task A_Startup_class_with_UseMvc_keeps_its_middleware_and_endpoints_and_gains_no_routing()
    {
        IReadOnlyList<string> without;
        string[] endpointsWithout;
        await using (var plain = await ConduitHost.StartStartupAsync(flowScope: false))
        {
            Assert.Equal(HttpStatusCode.OK, (await plain.Client.GetAsync("/conduit/articles")).StatusCode);
            without = plain.Recorder.Components;
            endpointsWithout = AppEndpoints(plain.Services);
        }

        await using var app = await ConduitHost.StartStartupAsync(flowScope: true);
        var with = app.Recorder.Components;

        // The app's middleware, in its order; FlowScope's own two components where UseFlowScope() was called.
        Assert.Equal(without, with.Where(c => !MiddlewareRecorder.IsFlowScope(c)));
        var flowScope = with.Select((c, i) => (c, i)).Where(x => MiddlewareRecorder.IsFlowScope(x.c)).Select(x => x.i).ToArray();
        Assert.Equal(2, flowScope.Length);
        Assert.Equal(with.ToList().IndexOf("Microsoft.AspNetCore.Authentication.AuthenticationMiddleware") + 1, flowScope[0]);
        Assert.DoesNotContain(with, c => c.Contains("EndpointRoutingMiddleware", StringComparison.Ordinal) || c.EndsWith("EndpointMiddleware", StringComparison.Ordinal));
        Assert.Equal(endpointsWithout, AppEndpoints(app.Services));

        // Served all the same, from its own branch.
        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync("/_flowscope/api/stats")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync("/_flowscope/")).StatusCode);
        await AssertAppRequestRunsWithoutRoutingAsync(app);
    }

    [Fact]
    public async Task A_WebApplication_with_UseMvc_keeps_its_middleware_and_endpoints_and_gains_no_routing()
    {
        IReadOnlyList<string> without, ownWithout;
        string[] endpointsWithout;
        await using (var plain = await ConduitHost.StartWebApplicationAsync(flowScope: false))
        {
            Assert.Equal(HttpStatusCode.OK, (await plain.Client.GetAsync("/conduit/articles")).StatusCode);
            without = plain.Recorder.Components;
            ownWithout = plain.OwnMiddleware;
            endpointsWithout = AppEndpoints(plain.Services);
            Assert.Empty(((IEndpointRouteBuilder)plain.Application!).DataSources);
        }

        await using var app = await ConduitHost.StartWebApplicationAsync(flowScope: true);

        // What the host wraps around the app (WebApplication adds UseRouting/UseEndpoints when the app has endpoints).
        Assert.Equal(without, app.Recorder.Components);
        Assert.DoesNotContain(app.Recorder.Components, c => c.Contains("Routing", StringComparison.Ordinal));
        Assert.Empty(((IEndpointRouteBuilder)app.Application!).DataSources);
        Assert.Equal(endpointsWithout, AppEndpoints(app.Services));

        // The app's own list: the same, with FlowScope's two components where UseFlowScope() was called.
        Assert.Equal(ownWithout, app.OwnMiddleware.Where(c => !MiddlewareRecorder.IsFlowScope(c)));
        Assert.Equal(2, app.OwnMiddleware.Count(MiddlewareRecorder.IsFlowScope));

        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync("/_flowscope/api/stats")).StatusCode);
        await AssertAppRequestRunsWithoutRoutingAsync(app);
    }

    [Fact]
    public async Task A_minimal_API_app_keeps_its_endpoints_and_the_dashboard_is_not_among_them()
    {
        static async Task<(string[] Own, string[] All, IReadOnlyList<string> Host)> ShapeAsync(bool flowScope)
        {
            await using var app = await ConduitHost.StartWebApplicationAsync(flowScope, map: a =>
            {
                a.MapGet("/health", () => "ok");
                a.MapGet("/todos/{id:int}", (int id) => new { id });
            });
            Assert.Equal("ok", await app.Client.GetStringAsync("/health"));
            var own = ((IEndpointRouteBuilder)app.Application!).DataSources.SelectMany(d => d.Endpoints).Select(e => e.DisplayName!).Order(StringComparer.Ordinal).ToArray();
            return (own, AppEndpoints(app.Services), app.Recorder.Components);
        }

        var without = await ShapeAsync(flowScope: false);
        var with = await ShapeAsync(flowScope: true);
        Assert.Equal(without.Own, with.Own);
        Assert.Equal(without.All, with.All);
        Assert.DoesNotContain(with.All, e => e.Contains("FlowScope", StringComparison.Ordinal));
        Assert.Equal(without.Host, with.Host);
    }

    /// <summary>FlowScope's picture of an app request shows the app's middleware and MVC, and no routing middleware.</summary>
    private static async Task AssertAppRequestRunsWithoutRoutingAsync(ConduitHost app)
    {
        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync("/conduit/articles?limit=5")).StatusCode);
        var store = app.Services.GetRequiredService<ITraceStore>();
        TraceDetail? trace = null;
        await Eventually.TrueAsync(async () =>
        {
            var summary = (await store.QueryAsync(new TraceQuery { Limit = 100 })).Traces.FirstOrDefault(t => t.Components.Contains("middleware"));
            trace = summary is null ? null : await store.GetTraceAsync(summary.TraceId);
            return trace is not null;
        });

        var names = trace!.Spans.Select(s => s.Name).ToList();
        Assert.Contains("ConduitErrorHandlingMiddleware", names);
        Assert.Contains("RouterMiddleware", names);
        Assert.DoesNotContain(names, n => n.Contains("EndpointRouting", StringComparison.Ordinal));
        Assert.DoesNotContain((await store.QueryAsync(new TraceQuery { Limit = 100 })).Traces, t => t.Name.Contains("_flowscope", StringComparison.Ordinal));
    }
}
