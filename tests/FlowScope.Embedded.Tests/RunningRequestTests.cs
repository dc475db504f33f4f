using System.Diagnostics;
using FlowScope.Embedded.Capture;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace FlowScope.Embedded.Tests;

/// <summary>
/// Stages find their request through the one running on their thread (no feature look-up). That shortcut must never
/// hand out a request outside the synchronous call it was set for: contexts are pooled and reused by later requests.
/// </summary>
public sealed class RunningRequestTests : IDisposable
{
    private static readonly RequestCaptureSettings s_settings = new("/_flowscope", 10);
    private readonly ActivitySource _source = new("RunningRequestTests");
    private readonly ActivityListener _listener;

    public RunningRequestTests()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = s => ReferenceEquals(s, _source),
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    [Fact]
    public void The_running_request_is_found_only_inside_its_scope_and_the_outer_one_comes_back_after_a_nested_one()
    {
        var (outerContext, outer) = NewRequest();
        var (innerContext, inner) = NewRequest();

        using (HttpRequestInfo.Run(outerContext, outer))
        {
            Assert.Same(outer, HttpRequestInfo.ForRunning(outerContext, s_settings));
            using (HttpRequestInfo.Run(innerContext, inner))
            {
                Assert.Same(inner, HttpRequestInfo.ForRunning(innerContext, s_settings));
                Assert.Same(outer, HttpRequestInfo.ForRunning(outerContext, s_settings)); // through its feature
            }

            Assert.Same(outer, HttpRequestInfo.ForRunning(outerContext, s_settings));
        }
    }

    [Fact]
    public void A_reused_context_gets_its_new_request_not_the_one_that_ran_before_even_after_an_exception()
    {
        var (context, first) = NewRequest();
        try
        {
            using (HttpRequestInfo.Run(context, first))
            {
                throw new InvalidOperationException("the next component failed");
            }
        }
        catch (InvalidOperationException)
        {
        }

        // The pooled context serves the next request: its features now lead to that request's info.
        var (_, second) = NewRequest();
        context.Features.Set(second);

        Assert.Same(second, HttpRequestInfo.ForRunning(context, s_settings));
    }

    private (HttpContext Context, HttpRequestInfo Info) NewRequest()
    {
        var previous = Activity.Current;
        var activity = _source.StartActivity("request", ActivityKind.Server)!;
        Activity.Current = previous;
        var context = new DefaultHttpContext();
        context.Request.Path = "/orders";
        context.Features.Set<IHttpActivityFeature>(new ActivityFeature(activity));
        return (context, HttpRequestInfo.For(context, s_settings)!);
    }

    public void Dispose()
    {
        _listener.Dispose();
        _source.Dispose();
    }

    private sealed class ActivityFeature(Activity activity) : IHttpActivityFeature
    {
        public Activity Activity { get; set; } = activity;
    }
}
