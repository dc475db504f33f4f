using BenchmarkDotNet.Attributes;
using FlowScope.Embedded.Capture;
using FlowScope.Embedded.Dashboard;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace FlowScope.Embedded.Benchmarks;

/// <summary>
/// What keeping the dashboard private costs the app's own requests: the shield FlowScope puts first in every
/// pipeline, on an app request (a path search, then the next middleware), against calling the next middleware
/// directly; and the redaction of a recorded framework log entry ("Request starting …" with its query string).
/// </summary>
public class DashboardShieldBenchmarks
{
    private static readonly RequestDelegate s_next = _ => Task.CompletedTask;
    private DefaultHttpContext _appRequest = null!;
    private DefaultHttpContext _underPathBase = null!;
    private RequestDelegate _shield = null!;
    private Redactor _redactor = null!;

    [GlobalSetup]
    public void GlobalSetup()
    {
        _appRequest = Fixtures.NewHttpContext();
        _underPathBase = Fixtures.NewHttpContext(path: "/api/v2/rooms/42/messages/search");
        _underPathBase.Request.PathBase = "/tools";
        var requests = new DashboardRequests(Options.Create(new FlowScopeOptions()));
        _shield = new DashboardShieldMiddleware(s_next, requests).InvokeAsync;
        _redactor = new Redactor([], null);
    }

    [Benchmark(Baseline = true)]
    public Task NextDirectly() => s_next(_appRequest);

    [Benchmark]
    public Task ShieldOnAnAppRequest() => _shield(_appRequest);

    [Benchmark]
    public Task ShieldOnALongerPathUnderAPathBase() => _shield(_underPathBase);

    [Benchmark]
    public string RedactRequestStartingMessage() =>
        _redactor.RedactText("Request starting HTTP/1.1 GET http://localhost:5080/rooms/42/messages?page=2&token=abc - - -");

    [Benchmark]
    public string RedactQueryStringProperty() => _redactor.LogValue("QueryString", "?page=2&size=50");
}
